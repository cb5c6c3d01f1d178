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

  /**
   * A snapshot of every ensemble leased so far (sorted by connect string): each session's state, id, negotiated
   * timeout and server, and the circuit breaker's state. For health checks; it holds no credentials. An ensemble
   * that was never leased has no sessions yet and is not listed.
   */
  public java.util.List<dev.zksdk.metrics.EnsembleStatus> ensembles() {
    return pool.ensembleStatus();
  }

  /**
   * Deletes every ephemeral the pool owns now, so that a registration disappears at once (observers see it deleted)
   * rather than when its session ends; every {@link EphemeralNode} of the pool is closed and no longer re-created.
   * All deletes are sent at once; waits for them up to the connection timeout. A node that cannot be deleted (no
   * connection) goes when its session ends or expires. Sessions, leases and watches stay open. {@link #close()} does
   * this first; a graceful shutdown may call it earlier, to deregister before it stops serving.
   */
  public void closeEphemerals() {
    pool.closeEphemerals();
  }

  /**
   * Closes the pool: first deletes every owned ephemeral ({@link #closeEphemerals()}), then closes every session and
   * stops the pool's threads, and removes the pool's meters. Idempotent.
   */
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
    private boolean followEnsembleChanges = true;
    private final List<SessionListener> listeners = new ArrayList<>();
    private String name = "zksdk";
    private dev.zksdk.metrics.MetricsTrackerFactory metricsTrackerFactory =
        dev.zksdk.metrics.MetricsTrackerFactory.NONE;

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

    /**
     * Whether sessions follow the ensemble's own membership ({@code /zookeeper/config}, dynamic reconfiguration):
     * when members are added or removed, each session's server list is updated with ZooKeeper's
     * {@code updateServerList} semantics, so only the share of sessions that must move does. Default true. Turn it
     * off when the servers' configured client addresses are not the ones clients must use (NAT, proxies): the
     * tracked list is built from the servers' own configuration.
     */
    public Builder followEnsembleChanges(boolean follow) {
      this.followEnsembleChanges = follow;
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

    /**
     * Where the pool records its metrics, for example
     * {@code new dev.zksdk.metrics.micrometer.MicrometerMetricsTrackerFactory(meterRegistry)}. Default: none.
     */
    public Builder metricsTrackerFactory(dev.zksdk.metrics.MetricsTrackerFactory factory) {
      this.metricsTrackerFactory = Validation.notNull("metricsTrackerFactory", factory);
      return this;
    }

    /** Validates and builds the pool; opens nothing. */
    public ZkSessionPool build() {
      if (!connectStringSet) {
        throw new IllegalArgumentException("connectString must be set");
      }
      RealSessionPool real = new RealSessionPool(name, ensemble.build(), operationPolicy, hosts,
          followEnsembleChanges, listeners);
      real.attachMetrics(metricsTrackerFactory);
      return new ZkSessionPool(real);
    }
  }
}
