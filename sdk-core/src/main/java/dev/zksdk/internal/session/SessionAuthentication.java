package dev.zksdk.internal.session;

import dev.zksdk.EnsembleConfig;
import dev.zksdk.ZkAuthException;
import dev.zksdk.security.SaslConfig;
import java.util.ArrayList;
import java.util.List;
import org.apache.zookeeper.KeeperException;

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
            kinds.add(
                    sasl.jaasSectionName() != null
                            ? "SASL (JAAS section " + sasl.jaasSectionName() + ")"
                            : "SASL ("
                                    + sasl.loginModule()
                                            .substring(sasl.loginModule().lastIndexOf('.') + 1) + ")");
        }
        if (config.tls() != null && config.tls().keyStore() != null) {
            kinds.add("a TLS client certificate");
        }
        return kinds.isEmpty()
                ? "no credentials (anonymous: only world and ip ACL entries apply)"
                : String.join(", ", kinds);
    }

    /** What an authentication failure event means. */
    enum Failure {
        REFUSED,
        LOGIN_FAILED,
        /** ZooKeeper's AuthFailed event: which of the two it is shows in the handle's state. */
        REFUSED_OR_LOGIN_FAILED,
        SASL_DID_NOT_START
    }

    /**
     * The session's one, final authentication failure, saying which kind it is and who the session is (never a secret).
     * Credentials that were refused are not tried again: repeated failed logins can lock an account, and the same secret
     * cannot start working on its own.
     */
    static ZkAuthException failure(EnsembleConfig config, Failure kind) {
        String identities = identities(config);
        return new ZkAuthException(
                KeeperException.Code.AUTHFAILED,
                null,
                "authentication to "
                        + config.connectString() + " failed (AUTHFAILED): "
                        + (kind == Failure.SASL_DID_NOT_START
                                ? "SASL could not start on this side (" + identities
                                        + "; see the ZooKeeper client's log for why)"
                                : kind == Failure.REFUSED
                                        ? "the server refused this session's credentials (" + identities + ")"
                                        : "the SASL login on this side failed before connecting (" + identities
                                                + "; see the ZooKeeper client's "
                                                + "log for the login module's reason)")
                        + ". Every lease and operation on this ensemble now fails at once; the pool does not try these credentials "
                        + "again. Fix them, then lease with a config that has the new ones.",
                null);
    }
}
