package dev.zksdk;

import dev.zksdk.internal.ConnectString;
import dev.zksdk.internal.Validation;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Objects;

/**
 * Everything that identifies one ZooKeeper ensemble to the pool: the connect string (with its optional chroot), the
 * requested session timeout, the connection timeout, the number of sessions to keep, and the credentials. Two leases
 * asked for with equal configs share sessions; configs that differ in any of these (credentials included) never do.
 *
 * <p>Immutable. Credentials are compared by content but never printed: {@link #toString()} masks them.
 */
public final class EnsembleConfig {

  /** Requested session timeout when none is set. The server may clamp it to its min/max session timeout. */
  public static final Duration DEFAULT_SESSION_TIMEOUT = Duration.ofSeconds(30);
  /** How long connecting (and an operation waiting for a connection) may take when none is set. */
  public static final Duration DEFAULT_CONNECTION_TIMEOUT = Duration.ofSeconds(15);
  /** Sessions kept per ensemble when none is set. */
  public static final int DEFAULT_SESSIONS_PER_ENSEMBLE = 1;

  private final ConnectString connectString;
  private final Duration sessionTimeout;
  private final Duration connectionTimeout;
  private final int sessionsPerEnsemble;
  private final List<Auth> authorizations;

  private EnsembleConfig(Builder b) {
    this.connectString = b.connectString;
    this.sessionTimeout = b.sessionTimeout;
    this.connectionTimeout = b.connectionTimeout;
    this.sessionsPerEnsemble = b.sessionsPerEnsemble;
    this.authorizations = Collections.unmodifiableList(new ArrayList<>(b.authorizations));
  }

  public static Builder builder() {
    return new Builder();
  }

  /** A config with defaults for everything but the connect string. */
  public static EnsembleConfig of(String connectString) {
    return builder().connectString(connectString).build();
  }

  public Builder toBuilder() {
    Builder b = new Builder();
    b.connectString = connectString;
    b.sessionTimeout = sessionTimeout;
    b.connectionTimeout = connectionTimeout;
    b.sessionsPerEnsemble = sessionsPerEnsemble;
    b.authorizations.addAll(authorizations);
    return b;
  }

  /** The normalized connect string, chroot included. */
  public String connectString() {
    return connectString.value();
  }

  /** The servers, {@code host:port}, in the order given. */
  public List<String> servers() {
    return connectString.servers();
  }

  /** The chroot, or null when there is none. */
  public String chroot() {
    return connectString.chroot();
  }

  public Duration sessionTimeout() {
    return sessionTimeout;
  }

  public Duration connectionTimeout() {
    return connectionTimeout;
  }

  public int sessionsPerEnsemble() {
    return sessionsPerEnsemble;
  }

  /** The credentials added to every session of this ensemble, in order. */
  public List<Auth> authorizations() {
    return authorizations;
  }

  @Override
  public boolean equals(Object o) {
    if (this == o) {
      return true;
    }
    if (!(o instanceof EnsembleConfig)) {
      return false;
    }
    EnsembleConfig that = (EnsembleConfig) o;
    return sessionsPerEnsemble == that.sessionsPerEnsemble
        && connectString.equals(that.connectString)
        && sessionTimeout.equals(that.sessionTimeout)
        && connectionTimeout.equals(that.connectionTimeout)
        && authorizations.equals(that.authorizations);
  }

  @Override
  public int hashCode() {
    return Objects.hash(connectString, sessionTimeout, connectionTimeout, sessionsPerEnsemble, authorizations);
  }

  @Override
  public String toString() {
    return "EnsembleConfig{connectString=" + connectString + ", sessionTimeout=" + sessionTimeout
        + ", connectionTimeout=" + connectionTimeout + ", sessionsPerEnsemble=" + sessionsPerEnsemble
        + ", authorizations=" + authorizations + "}";
  }

  /** One credential: a scheme (such as {@code digest}) and its secret bytes. Prints as {@code scheme:****}. */
  public static final class Auth {
    private final String scheme;
    private final byte[] secret;

    public Auth(String scheme, byte[] secret) {
      Validation.notNull("authorization scheme", scheme);
      if (scheme.isBlank()) {
        throw new IllegalArgumentException("authorization scheme must not be blank");
      }
      Validation.notNull("authorization bytes for scheme " + scheme, secret);
      this.scheme = scheme;
      this.secret = secret.clone();
    }

    public String scheme() {
      return scheme;
    }

    /** A copy of the secret bytes. */
    public byte[] secret() {
      return secret.clone();
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Auth && ((Auth) o).scheme.equals(scheme) && Arrays.equals(((Auth) o).secret, secret);
    }

    @Override
    public int hashCode() {
      return 31 * scheme.hashCode() + Arrays.hashCode(secret);
    }

    @Override
    public String toString() {
      return scheme + ":****";
    }
  }

  /** Builds an {@link EnsembleConfig}. Each setter rejects a bad value at once, naming the setting and the value. */
  public static final class Builder {
    private ConnectString connectString;
    private Duration sessionTimeout = DEFAULT_SESSION_TIMEOUT;
    private Duration connectionTimeout = DEFAULT_CONNECTION_TIMEOUT;
    private int sessionsPerEnsemble = DEFAULT_SESSIONS_PER_ENSEMBLE;
    private final List<Auth> authorizations = new ArrayList<>();

    private Builder() {}

    /** A standard ZooKeeper connect string, {@code host:port[,host:port...][/chroot]}; every port is required. */
    public Builder connectString(String connectString) {
      this.connectString = ConnectString.parse("connectString", connectString);
      return this;
    }

    /** The session timeout to request; the server may clamp it (the negotiated value is reported). */
    public Builder sessionTimeout(Duration sessionTimeout) {
      this.sessionTimeout = Validation.positiveMillis("sessionTimeout", sessionTimeout);
      return this;
    }

    /** How long to wait for a connected session, when leasing and in each operation. */
    public Builder connectionTimeout(Duration connectionTimeout) {
      this.connectionTimeout = Validation.positiveMillis("connectionTimeout", connectionTimeout);
      return this;
    }

    /** How many long-lived sessions the pool keeps for this ensemble; leases spread over them. */
    public Builder sessionsPerEnsemble(int sessionsPerEnsemble) {
      this.sessionsPerEnsemble = Validation.positive("sessionsPerEnsemble", sessionsPerEnsemble);
      return this;
    }

    /** Adds a credential (ZooKeeper {@code addAuthInfo}) to every session of this ensemble. */
    public Builder authorization(String scheme, byte[] auth) {
      this.authorizations.add(new Auth(scheme, auth));
      return this;
    }

    public EnsembleConfig build() {
      if (connectString == null) {
        throw new IllegalArgumentException("connectString must be set");
      }
      return new EnsembleConfig(this);
    }
  }
}
