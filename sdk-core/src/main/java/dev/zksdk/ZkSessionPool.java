package dev.zksdk;

import dev.zksdk.cache.CacheConfig;
import dev.zksdk.hosts.HostsConfig;
import dev.zksdk.internal.Validation;
import dev.zksdk.internal.pool.RealSessionPool;
import dev.zksdk.metrics.EnsembleStatus;
import dev.zksdk.metrics.MetricsTrackerFactory;
import dev.zksdk.security.SaslConfig;
import dev.zksdk.security.TlsConfig;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import org.apache.curator.framework.api.ACLProvider;

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

    /**
     * How long, by default, closing a session waits for the server to answer its close request:
     * {@link Builder#closeTimeout(Duration)}.
     */
    public static final Duration DEFAULT_CLOSE_TIMEOUT = Duration.ofSeconds(2);

    private final RealSessionPool pool;
    /** Null when the pool has no routes. */
    private final ZkRoutes routes;

    private ZkSessionPool(RealSessionPool pool) {
        this.pool = pool;
        this.routes = !pool.routed()
                ? null
                : new ZkRoutes(new ZkRoutes.Table() {
                    @Override
                    public void route(String prefix, EnsembleConfig ensemble) {
                        pool.route(prefix, ensemble);
                    }

                    @Override
                    public boolean remove(String prefix) {
                        return pool.removeRoute(prefix);
                    }

                    @Override
                    public EnsembleConfig ensembleFor(String path) {
                        return pool.ensembleFor(path);
                    }

                    @Override
                    public SortedMap<String, EnsembleConfig> table() {
                        return pool.routeTable();
                    }

                    @Override
                    public String toString() {
                        return String.valueOf(pool.router());
                    }
                });
    }

    /**
     * Starts a pool's configuration; only the connect string is required.
     *
     * @return a builder with every setting at its default
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * A lease on the default ensemble (the builder's connect string); on a pool with {@link Builder#route routes}, a
     * routed lease.
     *
     * <p>A routed lease sends each operation to the ensemble that owns its path in the {@linkplain #routes() routing
     * table} of that moment, through a lease on that ensemble taken on the first operation routed there (with the
     * usual wait for a connected session, up to that ensemble's connection timeout, and its failures) and closed with
     * the routed lease; so getting one opens nothing and waits for nothing, and an ensemble that is down fails only the
     * operations routed to it. Each ensemble keeps its own sessions, circuit breaker, in-flight limit, recovery, health
     * and metrics. A path-taking operation (reads, writes, {@code sync}, ephemerals, watches, caches, locks, elections)
     * goes by its path, {@link ZkLease#fenced} by its token's election or lock path; the path is sent unchanged, so a
     * chroot in the ensemble's connect string applies. A {@code multi} whose ops route to more than one ensemble is
     * refused with {@link IllegalArgumentException} before anything is sent (thrown by the call, also by
     * {@code multiAsync}), naming each path and its ensemble's alias: no atomicity exists across ensembles.
     * {@link ZkLease#curator()} and {@link ZkLease#sessionId()} are the default route's ({@code "/"});
     * {@link ZkLease#curator(String)} and {@link ZkLease#sessionId(String)} choose by path. Its FIFO order holds per
     * ensemble, not across them. {@link PoolStats#activeLeases()} counts one lease per ensemble it has used.
     *
     * @return a new lease; close it when done (the session stays open)
     * @throws ZkUnavailableException when no session connected within the connection timeout (never for a routed
     *     lease: its operations throw it instead)
     * @throws IllegalStateException after {@link #close()}
     */
    public ZkLease lease() {
        return pool.defaultLease();
    }

    /**
     * The routing table of a pool built with {@link Builder#route routes}, to read or change while the pool runs.
     *
     * @return the pool's routing table
     * @throws IllegalStateException when the pool was built without routes (its leases are not routed)
     */
    public ZkRoutes routes() {
        if (!pool.routed()) {
            throw new IllegalStateException("the pool '" + pool.name() + "' was built without routes, so its leases "
                    + "are not routed; add at least one with ZkSessionPool.Builder.route(prefix, ensemble)");
        }
        return routes;
    }

    /**
     * A lease on the given ensemble; sessions are shared with every other lease of an equal config. Never routed, also
     * on a pool with routes: every path goes to {@code ensemble}.
     *
     * @param ensemble the ensemble to lease on; its sessions start with its first lease
     * @return a new lease; close it when done (the session stays open)
     * @throws IllegalArgumentException when {@code ensemble} is null
     * @throws ZkUnavailableException when no session connected within the connection timeout
     * @throws IllegalStateException after {@link #close()}
     */
    public ZkLease lease(EnsembleConfig ensemble) {
        return pool.lease(Validation.notNull("ensemble", ensemble));
    }

    /**
     * A snapshot of sessions, leases and connections per server.
     *
     * @return the counts at this moment, summed over every ensemble
     */
    public PoolStats stats() {
        return pool.stats();
    }

    /**
     * The default ensemble's config: the one the builder's ensemble settings made, or, on a pool built with
     * {@code route("/", ensemble)} and no connect string, that ensemble. It does not follow later changes of the
     * routing table.
     *
     * @return the config that {@link #lease()} leases on
     */
    public EnsembleConfig defaultEnsemble() {
        return pool.defaultEnsemble();
    }

    /**
     * Adds a listener for session changes of every ensemble. It is called on the pool's callback threads, in order,
     * one event at a time; see {@link SessionListener}.
     *
     * @param listener the listener to add
     * @throws IllegalArgumentException when {@code listener} is null
     */
    public void addListener(SessionListener listener) {
        pool.addListener(Validation.notNull("listener", listener));
    }

    /**
     * Removes a listener added by {@link #addListener} or the builder (compared by identity). Events already queued
     * for it may still be delivered. Removing a listener that is not there does nothing.
     *
     * @param listener the listener to remove
     */
    public void removeListener(SessionListener listener) {
        pool.removeListener(listener);
    }

    /**
     * The timeout the server granted to the default ensemble's first session, or null when it has never connected.
     * It differs from the requested one when the server's min/max session timeout clamped it.
     *
     * @return the negotiated session timeout, or null before the first connection
     */
    public Duration negotiatedSessionTimeout() {
        return pool.negotiatedSessionTimeout(pool.defaultEnsemble());
    }

    /**
     * A snapshot of every ensemble leased so far (sorted by connect string): each session's state, id, negotiated
     * timeout and server, and the circuit breaker's state. For health checks; it holds no credentials. An ensemble
     * that was never leased has no sessions yet and is not listed.
     *
     * @return one status per leased ensemble, sorted by connect string
     */
    public List<EnsembleStatus> ensembles() {
        return pool.ensembleStatus();
    }

    /**
     * Changes the default ensemble's server list while the pool runs, for example after a configuration refresh or a
     * host migration; see {@link #updateConnectString(EnsembleConfig, String)} for the contract.
     *
     * @param connectString the new server list, {@code host:port[,host:port...][/chroot]} with the same chroot
     * @throws IllegalArgumentException when {@code connectString} is invalid or has another chroot; nothing changes
     * @throws IllegalStateException after {@link #close()}
     */
    public void updateConnectString(String connectString) {
        pool.updateConnectString(pool.defaultEnsemble(), connectString);
    }

    /**
     * Changes the server list of an ensemble of this pool (the default one, or one it has leased) while the pool runs,
     * without restarting it and without expiring any session. Configuration systems (a refreshed property, a DNS or host
     * migration) call this; Spring Boot alone has no property refresh, so an application wires it to whatever refreshes
     * its configuration.
     *
     * <ul>
     *   <li><b>Validated first.</b> {@code connectString} is checked as the builder's {@code connectString} is; its
     *       chroot must be the ensemble's (another would change what every path means); at least one of its servers
     *       must have a positive weight in the pool's {@link HostsConfig}. On any failure an
     *       {@link IllegalArgumentException} names the setting {@code connectString} and the value, and nothing
     *       changes. A string equal to the current one changes nothing.</li>
     *   <li><b>Sessions keep their ids.</b> Each live session's handle gets ZooKeeper's {@code updateServerList}: only
     *       the share that must move does, within its session (a connection loss, not an expiry). Every session on a
     *       removed server moves; towards an added server each session moves with the probability that gives the new
     *       weights their share (a session on one of three equally weighted servers, after a fourth is added, moves
     *       with probability 1/4). A moving session is placed by the pool's host selection: weights (per
     *       {@code host:port}, {@link HostsConfig#DEFAULT_WEIGHT} for a server without one), quarantine and the
     *       per-server connection budget apply, so a session whose targets are all at their budget stays where it is
     *       until a slot frees.</li>
     *   <li><b>Later sessions use the new list.</b> A session that replaces an expired one, and a session that had not
     *       started yet, connects only to servers of the new list.</li>
     *   <li><b>Leases keep working.</b> Operations in flight while a session moves see a connection loss and are
     *       retried by the {@link OperationPolicy} like any other; watches and owned ephemerals stay with their
     *       session.</li>
     *   <li><b>The ensemble keeps its identity.</b> It is still keyed by the {@code EnsembleConfig} it was built or
     *       leased with: that config (with the old connect string) still leases it. {@link #ensembles()} and the
     *       metrics' {@code ensemble} tag keep showing the original connect string, so series do not break;
     *       {@link PoolStats#connectionsPerServer()}, each session's server and the per-server connection metrics
     *       show where sessions actually are; {@link #currentConnectString(EnsembleConfig)} shows the list in
     *       use.</li>
     *   <li><b>With {@code followEnsembleChanges}</b> (dynamic reconfiguration), the latest change wins: this call
     *       replaces the list whatever membership the sessions followed before, and a membership the pool had already
     *       read does not undo it (say, when a session reconnects); a later reconfiguration, with a configuration
     *       version newer than every one the pool had read at this call, replaces it in turn.</li>
     * </ul>
     *
     * <p>Logs one INFO line per applied change, naming the old and the new servers. Thread-safe; does not block on
     * the network.
     *
     * @param ensemble the default ensemble's config, or the config of an ensemble this pool has leased
     * @param connectString the new server list, {@code host:port[,host:port...][/chroot]} with the ensemble's chroot
     * @throws IllegalArgumentException when {@code ensemble} is null or neither the default ensemble nor one this
     *     pool has leased (naming it), or {@code connectString} is invalid as above; nothing changes
     * @throws IllegalStateException after {@link #close()}
     */
    public void updateConnectString(EnsembleConfig ensemble, String connectString) {
        pool.updateConnectString(Validation.notNull("ensemble", ensemble), connectString);
    }

    /**
     * The default ensemble's connect string in use now; see {@link #currentConnectString(EnsembleConfig)}.
     *
     * @return the normalized connect string with chroot
     */
    public String currentConnectString() {
        return pool.currentConnectString(pool.defaultEnsemble());
    }

    /**
     * The connect string (normalized, with chroot) that an ensemble's sessions use now: its config's, replaced by each
     * {@link #updateConnectString(EnsembleConfig, String)} and, with {@code followEnsembleChanges}, by each
     * membership change the sessions followed. Sessions made from now on connect to its servers.
     *
     * @param ensemble the default ensemble's config, or the config of an ensemble this pool has leased
     * @return the normalized connect string with chroot
     * @throws IllegalArgumentException when {@code ensemble} is null or neither the default ensemble nor one this
     *     pool has leased
     */
    public String currentConnectString(EnsembleConfig ensemble) {
        return pool.currentConnectString(Validation.notNull("ensemble", ensemble));
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
     * How long each session's close waits for the server's answer ({@link Builder#closeTimeout(Duration)}).
     *
     * @return the close timeout (default {@link #DEFAULT_CLOSE_TIMEOUT}, 2 s)
     */
    public Duration closeTimeout() {
        return pool.closeTimeout();
    }

    /**
     * Closes the pool: first deletes every owned ephemeral ({@link #closeEphemerals()}), then closes every session and
     * stops the pool's threads, and removes the pool's meters. Idempotent: a second call returns at once, also while
     * the first is still closing. The ephemerals' deletes are waited for at most the {@linkplain #closeTimeout() close
     * timeout} (default 2 s); then the sessions close at once, each waiting at most the close timeout for the server's
     * answer (a frozen server would otherwise hold it for ZooKeeper's read timeout, two thirds of the session timeout),
     * after which the connection is dropped and the server ends the session at its expiry: about twice the close
     * timeout in all on hung servers. A call still in
     * flight ends: a write of which an attempt was sent (it may or may not have reached the server) with
     * {@link ZkConnectionLossException} and {@code outcomeUnknown()} true, saying the pool was closed, as after a
     * connection loss; a read, and a write never sent, with {@link IllegalStateException} ("the pool is closed"), as
     * calls after the close do. A call waiting out a retry's backoff ends at once; a synchronous one, at the end of its
     * backoff.
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
        private MetricsTrackerFactory metricsTrackerFactory = MetricsTrackerFactory.NONE;
        private CacheConfig cacheDefaults = CacheConfig.defaults();
        private Duration closeTimeout = DEFAULT_CLOSE_TIMEOUT;
        private final Map<String, EnsembleConfig> routes = new LinkedHashMap<>();
        /** The first ensemble setting given other than the connect string, to refuse it when there is none. */
        private String ensembleSetting;

        private Builder() {}

        private void ensembleSetting(String setting) {
            if (ensembleSetting == null) {
                ensembleSetting = setting;
            }
        }

        /**
         * The default ensemble's servers: a standard ZooKeeper connect string,
         * {@code host:port[,host:port...][/chroot]}, every port required. Required; there is no default.
         *
         * @param connectString the connect string
         * @return this builder
         * @throws IllegalArgumentException when it is null, malformed or a server lacks its port
         */
        public Builder connectString(String connectString) {
            ensemble.connectString(connectString);
            connectStringSet = true;
            return this;
        }

        /**
         * The session timeout the default ensemble's sessions request (default
         * {@link EnsembleConfig#DEFAULT_SESSION_TIMEOUT}, 30 s); the server may clamp it to its min/max session
         * timeout ({@link ZkSessionPool#negotiatedSessionTimeout()} reports the granted one).
         *
         * @param sessionTimeout the timeout, between 1 ms and {@code Integer.MAX_VALUE} ms
         * @return this builder
         * @throws IllegalArgumentException when it is null or out of that range
         */
        public Builder sessionTimeout(Duration sessionTimeout) {
            ensembleSetting("sessionTimeout");
            ensemble.sessionTimeout(sessionTimeout);
            return this;
        }

        /**
         * How long a lease, and each operation, waits for a connected session of the default ensemble (default
         * {@link EnsembleConfig#DEFAULT_CONNECTION_TIMEOUT}, 15 s).
         *
         * @param connectionTimeout the timeout, between 1 ms and {@code Integer.MAX_VALUE} ms
         * @return this builder
         * @throws IllegalArgumentException when it is null or out of that range
         */
        public Builder connectionTimeout(Duration connectionTimeout) {
            ensembleSetting("connectionTimeout");
            ensemble.connectionTimeout(connectionTimeout);
            return this;
        }

        /**
         * How many long-lived sessions the pool keeps for each ensemble; leases spread over them (default
         * {@link EnsembleConfig#DEFAULT_SESSIONS_PER_ENSEMBLE}, 1).
         *
         * @param sessionsPerEnsemble the number of sessions, at least 1
         * @return this builder
         * @throws IllegalArgumentException when it is less than 1
         */
        public Builder sessionsPerEnsemble(int sessionsPerEnsemble) {
            ensembleSetting("sessionsPerEnsemble");
            ensemble.sessionsPerEnsemble(sessionsPerEnsemble);
            return this;
        }

        /**
         * Lets the default ensemble's sessions connect to a read-only server while no majority is reachable; see
         * {@link EnsembleConfig.Builder#canBeReadOnly(boolean)}. Off by default.
         *
         * @param canBeReadOnly whether sessions may be read-only
         * @return this builder
         */
        public Builder canBeReadOnly(boolean canBeReadOnly) {
            ensembleSetting("canBeReadOnly");
            ensemble.canBeReadOnly(canBeReadOnly);
            return this;
        }

        /**
         * Names the default ensemble's observers; see {@link EnsembleConfig.Builder#observers(String...)}.
         *
         * @param hostPorts each {@code host:port}, as in the connect string
         * @return this builder
         * @throws IllegalArgumentException when an entry is null or not a {@code host:port}
         */
        public Builder observers(String... hostPorts) {
            ensembleSetting("observers");
            ensemble.observers(hostPorts);
            return this;
        }

        /**
         * Keeps sessions on the default ensemble's observers for plain reads; see
         * {@link EnsembleConfig.Builder#readsFromObservers(int)}. 0 (none) by default.
         *
         * @param sessions 0 or more; more than 0 needs {@link #observers(String...)}
         * @return this builder
         * @throws IllegalArgumentException when {@code sessions} is negative
         */
        public Builder readsFromObservers(int sessions) {
            ensembleSetting("readsFromObservers");
            ensemble.readsFromObservers(sessions);
            return this;
        }

        /**
         * Batches the default ensemble's asynchronous operations; see
         * {@link EnsembleConfig.Builder#asyncBatching(BatchingConfig)}. Off by default.
         *
         * @param batching the batch limits, or null for no batching
         * @return this builder
         */
        public Builder asyncBatching(BatchingConfig batching) {
            ensembleSetting("asyncBatching");
            ensemble.asyncBatching(batching);
            return this;
        }

        /**
         * Batches the default ensemble's asynchronous operations, at most {@code maxOps} per batch; see
         * {@link EnsembleConfig.Builder#asyncBatching(int)}.
         *
         * @param maxOps {@value BatchingConfig#MIN_OPS} to {@value BatchingConfig#MAX_OPS}
         * @return this builder
         * @throws IllegalArgumentException when {@code maxOps} is out of range
         */
        public Builder asyncBatching(int maxOps) {
            ensembleSetting("asyncBatching");
            ensemble.asyncBatching(maxOps);
            return this;
        }

        /**
         * The default ensemble's name in metrics and traces; see {@link EnsembleConfig.Builder#alias(String)}.
         *
         * @param alias 1 to 64 letters, digits, {@code .}, {@code _}, {@code -}, {@code :}, {@code +}, {@code [} or
         *     {@code ]}; null for the default, derived from the servers
         * @return this builder
         * @throws IllegalArgumentException when it has other characters or is longer
         */
        public Builder ensembleAlias(String alias) {
            ensembleSetting("ensembleAlias");
            ensemble.alias(alias);
            return this;
        }

        /**
         * Adds a credential (ZooKeeper {@code addAuthInfo}) to every session of the default ensemble; see
         * {@link EnsembleConfig.Builder#authorization}. May be called more than once: credentials are added in order.
         *
         * @param scheme the authentication scheme, such as {@code digest}
         * @param auth the scheme's secret bytes
         * @return this builder
         */
        public Builder authorization(String scheme, byte[] auth) {
            ensembleSetting("authorization");
            ensemble.authorization(scheme, auth);
            return this;
        }

        /**
         * Digest credentials for every session of the default ensemble; see {@link EnsembleConfig.Builder#digest}.
         *
         * @param user the user name, not blank and without {@code ':'}
         * @param password the password
         * @return this builder
         * @throws IllegalArgumentException when {@code user} is blank or contains {@code ':'}, or either is null
         */
        public Builder digest(String user, String password) {
            ensembleSetting("digest");
            ensemble.digest(user, password);
            return this;
        }

        /**
         * SASL for the default ensemble; see {@link dev.zksdk.security.SaslConfig}. Default: none.
         *
         * @param sasl the SASL settings
         * @return this builder
         * @throws IllegalArgumentException when {@code sasl} is null
         */
        public Builder sasl(SaslConfig sasl) {
            ensembleSetting("sasl");
            ensemble.sasl(sasl);
            return this;
        }

        /**
         * TLS to the default ensemble's client port; see {@link dev.zksdk.security.TlsConfig}. Default: plaintext.
         *
         * @param tls the TLS settings
         * @return this builder
         * @throws IllegalArgumentException when {@code tls} is null
         */
        public Builder tls(TlsConfig tls) {
            ensembleSetting("tls");
            ensemble.tls(tls);
            return this;
        }

        /**
         * The ACL of nodes the default ensemble's leases create without an explicit one, Curator recipes included
         * (default {@link dev.zksdk.security.ZkAcls#open()}); for example {@link dev.zksdk.security.ZkAcls#creatorAll()}
         * with digest credentials.
         *
         * @param aclProvider the ACL provider
         * @return this builder
         * @throws IllegalArgumentException when {@code aclProvider} is null
         */
        public Builder aclProvider(ACLProvider aclProvider) {
            ensembleSetting("aclProvider");
            ensemble.aclProvider(aclProvider);
            return this;
        }

        /**
         * Retry, circuit breaker and in-flight limits for every ensemble of the pool (default
         * {@link OperationPolicy#defaults()}).
         *
         * @param operationPolicy the policy
         * @return this builder
         * @throws IllegalArgumentException when {@code operationPolicy} is null
         */
        public Builder operationPolicy(OperationPolicy operationPolicy) {
            this.operationPolicy = Validation.notNull("operationPolicy", operationPolicy);
            return this;
        }

        /**
         * How servers are chosen: weights, the per-server connection budget (process-wide: all pools of the JVM share
         * it, since the server counts connections per client IP), quarantine of failing servers, jittered reconnects
         * and the new-session rate limit. Default {@link HostsConfig#defaults()}.
         *
         * @param hosts the host selection settings
         * @return this builder
         * @throws IllegalArgumentException when {@code hosts} is null
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
         *
         * @param follow true to follow membership changes
         * @return this builder
         */
        public Builder followEnsembleChanges(boolean follow) {
            this.followEnsembleChanges = follow;
            return this;
        }

        /**
         * Adds a listener for session changes of every ensemble, registered before any session starts, so it sees
         * the first connection too. May be called more than once. See {@link ZkSessionPool#addListener}.
         *
         * @param listener the listener
         * @return this builder
         * @throws IllegalArgumentException when {@code listener} is null
         */
        public Builder listener(SessionListener listener) {
            listeners.add(Validation.notNull("listener", listener));
            return this;
        }

        /**
         * The pool's name, used in thread names and logs (default {@code zksdk}).
         *
         * @param name letters, digits, {@code '.'}, {@code '_'} or {@code '-'}
         * @return this builder
         * @throws IllegalArgumentException when it is null, blank or has other characters
         */
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
         *
         * @param factory the factory of the pool's metrics tracker
         * @return this builder
         * @throws IllegalArgumentException when {@code factory} is null
         */
        public Builder metricsTrackerFactory(MetricsTrackerFactory factory) {
            this.metricsTrackerFactory = Validation.notNull("metricsTrackerFactory", factory);
            return this;
        }

        /**
         * The settings of the caches a lease makes without its own: {@link ZkLease#cache(String)} and
         * {@link ZkLease#treeCache(String)}. Default {@link CacheConfig#defaults()}.
         *
         * @param cacheDefaults the cache settings
         * @return this builder
         * @throws IllegalArgumentException when it is null
         */
        public Builder cacheDefaults(CacheConfig cacheDefaults) {
            this.cacheDefaults = Validation.notNull("cacheDefaults", cacheDefaults);
            return this;
        }

        /**
         * How long closing a session ({@link ZkSessionPool#close()}) waits for the server to answer the session's close
         * request (default {@link ZkSessionPool#DEFAULT_CLOSE_TIMEOUT}, 2 s). A server that answers ends the session at
         * once, deleting its ephemerals (the pool deletes its own registered ephemerals before, in any case); past this
         * bound the connection is dropped and the server ends the session when it expires. ZooKeeper itself would
         * wait up to its read timeout (two thirds of the session timeout), holding an application's shutdown that
         * long when a server hangs. The pool's sessions close at once, each within this bound; the deletes of the
         * pool's own ephemerals before are waited for at most this bound too, so a pool on hung servers closes in
         * about twice this bound.
         *
         * @param closeTimeout the bound, between 1 ms and {@code Integer.MAX_VALUE} ms
         * @return this builder
         * @throws IllegalArgumentException when it is null or out of that range, naming {@code closeTimeout} and the
         *     value
         */
        public Builder closeTimeout(Duration closeTimeout) {
            this.closeTimeout = Validation.positiveMillis("closeTimeout", closeTimeout);
            return this;
        }

        /**
         * Routes the paths under {@code prefix} to {@code ensemble}: with at least one route, {@link #lease()} hands out
         * routed leases (see there) and {@link ZkSessionPool#routes()} changes the table at runtime. May be called
         * once per prefix. The longest prefix matching a path on whole segments wins ({@code /tenants/a} matches
         * {@code /tenants/a} and {@code /tenants/a/x}, never {@code /tenants/ab}). The default route {@code "/"} is the
         * builder's own ensemble ({@link #connectString} and the settings next to it) unless {@code route("/", ...)}
         * is given; with {@code route("/", ...)} the connect string may be left out, and then that route's ensemble is
         * the pool's {@linkplain ZkSessionPool#defaultEnsemble() default ensemble}. Nothing is opened: an ensemble's
         * sessions start with the first operation routed to it.
         *
         * <pre>{@code
         * ZkSessionPool pool = ZkSessionPool.builder()
         *     .route("/tenants/a", EnsembleConfig.builder().connectString("zka1:2181,zka2:2181,zka3:2181").alias("a").build())
         *     .route("/", EnsembleConfig.builder().connectString("zk1:2181,zk2:2181,zk3:2181").alias("main").build())
         *     .build();
         * }</pre>
         *
         * @param prefix an absolute path, not ending in {@code /} (except {@code "/"} itself)
         * @param ensemble the ensemble that owns the paths under it
         * @return this builder
         * @throws IllegalArgumentException when {@code prefix} does not start with {@code /}, ends with {@code /}, is not
         *     a valid path or was given before, or {@code ensemble} is null, naming the setting and the value
         */
        public Builder route(String prefix, EnsembleConfig ensemble) {
            RealSessionPool.checkRoutePrefix(prefix);
            RealSessionPool.checkRouteEnsemble(prefix, ensemble);
            if (routes.containsKey(prefix)) {
                throw new IllegalArgumentException("route prefix '" + prefix + "' is given twice (to "
                        + routes.get(prefix).alias() + " and to " + ensemble.alias() + "); each prefix has one "
                        + "ensemble");
            }
            routes.put(prefix, ensemble);
            return this;
        }

        /**
         * Validates and builds the pool; opens nothing.
         *
         * @return the pool, with no session started yet
         * @throws IllegalArgumentException when the connect string was not set (and no {@code route("/", ...)}
         *     replaces it), ensemble settings were given without a connect string while {@code route("/", ...)} is
         *     given, the connect string and {@code route("/", ...)} name different ensembles, two routes' different
         *     ensembles have one alias, or the ensemble settings do not fit together (see
         *     {@link EnsembleConfig.Builder#build()})
         */
        public ZkSessionPool build() {
            EnsembleConfig root = routes.get("/");
            EnsembleConfig defaultEnsemble;
            if (connectStringSet) {
                defaultEnsemble = ensemble.build();
                if (root != null && !root.equals(defaultEnsemble)) {
                    throw new IllegalArgumentException("connectString and route(\"/\", " + root.alias() + ") both "
                            + "name the default ensemble, differently (" + defaultEnsemble.alias() + " and "
                            + root.alias() + "): give one of them");
                }
            } else if (root != null) {
                if (ensembleSetting != null) {
                    throw new IllegalArgumentException(ensembleSetting + " configures the builder's own ensemble, "
                            + "but connectString was not set and route(\"/\", " + root.alias() + ") is the default "
                            + "ensemble: set connectString too, or put " + ensembleSetting + " in that route's "
                            + "EnsembleConfig");
                }
                defaultEnsemble = root;
            } else {
                throw new IllegalArgumentException(
                        routes.isEmpty()
                                ? "connectString must be set"
                                : "connectString must be set, or a default route given with route(\"/\", ensemble)");
            }
            RealSessionPool real = new RealSessionPool(
                    name, defaultEnsemble, operationPolicy, hosts, followEnsembleChanges, listeners, closeTimeout);
            if (!routes.isEmpty()) {
                Map<String, EnsembleConfig> table = new LinkedHashMap<>(routes);
                table.putIfAbsent("/", defaultEnsemble);
                real.configureRoutes(table);
            }
            real.attachMetrics(metricsTrackerFactory);
            real.cacheDefaults(cacheDefaults);
            return new ZkSessionPool(real);
        }
    }
}
