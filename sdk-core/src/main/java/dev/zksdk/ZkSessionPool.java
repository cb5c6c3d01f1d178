package dev.zksdk;

import dev.zksdk.hosts.HostsConfig;
import dev.zksdk.internal.RealSessionPool;
import dev.zksdk.internal.Validation;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * A shared pool of long-lived ZooKeeper sessions: one per process (or per Spring context). Leases are free: they open
 * no connection and cost no round trip; sessions are few ({@code sessionsPerEnsemble} per ensemble) and live until
 * the pool closes, surviving connection loss and replaced (with ordered recovery) after expiry.
 *
 * <pre>{@code
 * ZkSessionPool pool = ZkSessionPool.builder().connectString("zk1:2181,zk2:2181,zk3:2181").build();
 * try (ZkLease lease = pool.lease()) {
 *   byte[] v = lease.getData("/config/x");
 * }
 * }</pre>
 *
 * <p>Thread-safe. {@link Builder#build()} validates every setting and opens nothing; the first lease of an ensemble
 * starts its sessions and waits up to the connection timeout for one to connect. Ensembles are keyed by
 * {@link EnsembleConfig} (connect string with chroot, credentials, timeouts): leases for equal configs share sessions.
 * {@link #close()} closes every session, so the server deletes their ephemerals at once, and stops every thread the
 * pool started; afterwards {@link #lease()} throws {@link IllegalStateException}.
 */
public final class ZkSessionPool implements AutoCloseable {

  private final RealSessionPool pool;

  private ZkSessionPool(RealSessionPool pool) {
    this.pool = pool;
  }

  public static Builder builder() {
    return new Builder();
  }

  /**
   * A lease on the default ensemble (the builder's connect string).
   *
   * @throws ZkUnavailableException when no session connected within the connection timeout
   * @throws IllegalStateException after {@link #close()}
   */
  public ZkLease lease() {
    return pool.lease(pool.defaultEnsemble());
  }

  /**
   * A lease on the given ensemble; sessions are shared with every other lease of an equal config.
   *
   * @throws ZkUnavailableException when no session connected within the connection timeout
   * @throws IllegalStateException after {@link #close()}
   */
  public ZkLease lease(EnsembleConfig ensemble) {
    return pool.lease(Validation.notNull("ensemble", ensemble));
  }

  /** A snapshot of sessions, leases and connections per server. */
  public PoolStats stats() {
    return pool.stats();
  }

  /** The default ensemble's config. */
  public EnsembleConfig defaultEnsemble() {
    return pool.defaultEnsemble();
  }

  /** Adds a listener for session changes of every ensemble. */
  public void addListener(SessionListener listener) {
    pool.addListener(Validation.notNull("listener", listener));
  }

  public void removeListener(SessionListener listener) {
    pool.removeListener(listener);
  }

  /**
   * The timeout the server granted to the default ensemble's first session, or null when it has never connected.
   * It differs from the requested one when the server's min/max session timeout clamped it.
   */
  public Duration negotiatedSessionTimeout() {
    return pool.negotiatedSessionTimeout(pool.defaultEnsemble());
  }

  /** Closes every session (their ephemerals go at once) and stops the pool's threads. Idempotent. */
  @Override
  public void close() {
    pool.close();
  }

  @Override
  public String toString() {
    return "ZkSessionPool{" + pool + "}";
  }

  /**
   * Builds a {@link ZkSessionPool}. The ensemble settings make the default ensemble; setters reject bad values at once,
   * naming the setting and the value.
   */
  public static final class Builder {
    private final EnsembleConfig.Builder ensemble = EnsembleConfig.builder();
    private boolean connectStringSet;
    private OperationPolicy operationPolicy = OperationPolicy.defaults();
    private HostsConfig hosts = HostsConfig.defaults();
    private final List<SessionListener> listeners = new ArrayList<>();
    private String name = "zksdk";

    private Builder() {}

    public Builder connectString(String connectString) {
      ensemble.connectString(connectString);
      connectStringSet = true;
      return this;
    }

    public Builder sessionTimeout(Duration sessionTimeout) {
      ensemble.sessionTimeout(sessionTimeout);
      return this;
    }

    public Builder connectionTimeout(Duration connectionTimeout) {
      ensemble.connectionTimeout(connectionTimeout);
      return this;
    }

    public Builder sessionsPerEnsemble(int sessionsPerEnsemble) {
      ensemble.sessionsPerEnsemble(sessionsPerEnsemble);
      return this;
    }

    public Builder authorization(String scheme, byte[] auth) {
      ensemble.authorization(scheme, auth);
      return this;
    }

    /** Digest credentials for every session of the default ensemble; see {@link EnsembleConfig.Builder#digest}. */
    public Builder digest(String user, String password) {
      ensemble.digest(user, password);
      return this;
    }

    /** SASL for the default ensemble; see {@link dev.zksdk.security.SaslConfig}. */
    public Builder sasl(dev.zksdk.security.SaslConfig sasl) {
      ensemble.sasl(sasl);
      return this;
    }

    /** TLS to the default ensemble's client port; see {@link dev.zksdk.security.TlsConfig}. */
    public Builder tls(dev.zksdk.security.TlsConfig tls) {
      ensemble.tls(tls);
      return this;
    }

    /**
     * The ACL of nodes the default ensemble's leases create without an explicit one, Curator recipes included
     * (default {@link dev.zksdk.security.ZkAcls#open()}); for example {@link dev.zksdk.security.ZkAcls#creatorAll()}
     * with digest credentials.
     */
    public Builder aclProvider(org.apache.curator.framework.api.ACLProvider aclProvider) {
      ensemble.aclProvider(aclProvider);
      return this;
    }

    /** Retry, circuit breaker and in-flight limits for every ensemble of the pool. */
    public Builder operationPolicy(OperationPolicy operationPolicy) {
      this.operationPolicy = Validation.notNull("operationPolicy", operationPolicy);
      return this;
    }

    /**
     * How servers are chosen: weights, the per-server connection budget (process-wide: all pools of the JVM share
     * it, since the server counts connections per client IP), quarantine of failing servers, jittered reconnects
     * and the new-session rate limit.
     */
    public Builder hosts(HostsConfig hosts) {
      this.hosts = Validation.notNull("hosts", hosts);
      return this;
    }

    public Builder listener(SessionListener listener) {
      listeners.add(Validation.notNull("listener", listener));
      return this;
    }

    /** The pool's name, used in thread names and logs. */
    public Builder name(String name) {
      Validation.notNull("name", name);
      if (name.isBlank() || !name.matches("[A-Za-z0-9._-]+")) {
        throw new IllegalArgumentException("name must be letters, digits, '.', '_' or '-', was '" + name + "'");
      }
      this.name = name;
      return this;
    }

    /** Validates and builds the pool; opens nothing. */
    public ZkSessionPool build() {
      if (!connectStringSet) {
        throw new IllegalArgumentException("connectString must be set");
      }
      return new ZkSessionPool(new RealSessionPool(name, ensemble.build(), operationPolicy, hosts, listeners));
    }
  }
}
