package dev.zksdk.internal.session;

import dev.zksdk.EnsembleConfig;
import dev.zksdk.security.SaslConfig;
import java.util.ArrayList;
import java.util.List;

/** How a pooled session authenticates, in words that never hold a secret. */
final class SessionAuthentication {

  private SessionAuthentication() {}

  /** The session's identities, by kind: "digest credentials", "SASL (DigestLoginModule)", ... Never a secret. */
  static String identities(EnsembleConfig config) {
    List<String> kinds = new ArrayList<>();
    for (EnsembleConfig.Auth auth : config.authorizations()) {
      kinds.add(auth.scheme() + " credentials");
    }
    SaslConfig sasl = config.sasl();
    if (sasl != null) {
      kinds.add(sasl.jaasSectionName() != null ? "SASL (JAAS section " + sasl.jaasSectionName() + ")"
          : "SASL (" + sasl.loginModule().substring(sasl.loginModule().lastIndexOf('.') + 1) + ")");
    }
    if (config.tls() != null && config.tls().keyStore() != null) {
      kinds.add("a TLS client certificate");
    }
    return kinds.isEmpty() ? "no credentials (anonymous: only world and ip ACL entries apply)"
        : String.join(", ", kinds);
  }

}
