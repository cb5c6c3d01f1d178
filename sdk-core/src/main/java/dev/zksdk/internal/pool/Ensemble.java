package dev.zksdk.internal.pool;

import dev.zksdk.EnsembleConfig;
import dev.zksdk.OperationPolicy;
import dev.zksdk.RecoveryEvent;
import dev.zksdk.SessionState;
import dev.zksdk.ZkException;
import dev.zksdk.hosts.HostOrderingStats;
import dev.zksdk.hosts.HostsConfig;
import dev.zksdk.hosts.HostsZookeeperFactory;
import dev.zksdk.hosts.SessionSpread;
import dev.zksdk.internal.ConnectString;
import dev.zksdk.internal.DaemonThreads;
import dev.zksdk.internal.SerialQueue;
import dev.zksdk.internal.pipeline.OperationRunner;
import dev.zksdk.internal.recovery.EphemeralRegistry;
import dev.zksdk.internal.recovery.RecoveryHost;
import dev.zksdk.internal.recovery.SessionRecovery;
import dev.zksdk.internal.session.EnsembleServers;
import dev.zksdk.internal.session.HungServerCheck;
import dev.zksdk.internal.session.ServerFeatures;
import dev.zksdk.internal.session.SessionEvents;
import dev.zksdk.internal.session.SharedSession;
import dev.zksdk.metrics.EnsembleStatus;
import dev.zksdk.metrics.EnsembleView;
import dev.zksdk.metrics.MetricNames;
import dev.zksdk.metrics.PipelineStatus;
import dev.zksdk.metrics.SessionStatus;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.apache.curator.utils.ZookeeperFactory;
import org.apache.zookeeper.ZooKeeper;

/**
 * One ensemble of a pool: its server list, its sessions (each with its recovery), the operation pipeline (breaker,
 * bulkhead, retry) they share, and where new leases go. The ensemble wires its parts: each session tells its
 * subscribers (the pipeline, the recovery, the pool) of its state changes, and the recovery is given what it needs of
 * the pool through {@link RecoveryHost}; nothing below calls back up.
 */
final class Ensemble implements EnsembleView, RecoveryHost {

    private final RealSessionPool pool;
    private final EnsembleConfig config;
    private final EnsembleServers servers;
    private final SessionSpread spread;
    private final SharedSession[] sessions;
    private final SessionRecovery[] recoveries;
    private final OperationRunner runner;
    private final AtomicInteger next = new AtomicInteger();
    /** Set by the first lease: an ensemble made only to change its server list is not reported as in use. */
    private volatile boolean leased;

    Ensemble(
            RealSessionPool pool,
            EnsembleConfig config,
            int number,
            OperationPolicy policy,
            HostsConfig hosts,
            ScheduledExecutorService scheduler) {
        this.pool = pool;
        this.config = config;
        this.servers = new EnsembleServers(
                pool.name() + "[" + MetricNames.ensembleTag(config.connectString()) + "]",
                ConnectString.parse("connectString", config.connectString()),
                hosts.resolver());
        // One spread per ensemble: its sessions prefer distinct servers; the connection budget and the session
        // creation limiter behind the factory are process-wide, because the server counts connections per client IP.
        this.spread = SessionSpread.ofPool(hosts);
        // Handles are made with the ensemble's current server list, which may have changed since the config was made.
        ZookeeperFactory handles = servers.factory(HostsZookeeperFactory.forPool(spread));
        this.runner = new OperationRunner(
                pool.name() + "-e" + number,
                Map.of(MetricNames.TAG_POOL, pool.name(), MetricNames.TAG_ENSEMBLE, name()),
                config,
                policy,
                scheduler);
        this.sessions = new SharedSession[config.sessionsPerEnsemble()];
        this.recoveries = new SessionRecovery[sessions.length];
        EphemeralRegistry ephemerals = new EphemeralRegistry();
        SessionEvents pipelineEvents = (session, event) -> {
            if (event.state() == SessionState.CONNECTED
                    || event.state() == SessionState.RECONNECTED
                    || event.state() == SessionState.READ_ONLY) {
                runner.connected();
            }
        };
        RecipeRetryPolicy recipeRetry = new RecipeRetryPolicy(policy);
        ServerFeatures features = new ServerFeatures(config.connectString(), config.tls() != null);
        for (int i = 0; i < sessions.length; i++) {
            SharedSession s = new SharedSession(
                    pool.name(),
                    config,
                    number,
                    i,
                    handles,
                    scheduler,
                    pool.followEnsembleChanges() ? servers : null,
                    recipeRetry,
                    features,
                    pool.closeTimeout(),
                    HungServerCheck.bound(
                            config.sessionTimeout(), policy.operationTimeout(), config.connectionTimeout()));
            SessionRecovery r = new SessionRecovery(s, ephemerals, this);
            // In this order: the breaker hears first that the ensemble is reachable, then the recovery starts, then the
            // pool counts the session and tells the user's listeners.
            s.subscribe(pipelineEvents);
            s.subscribe(r);
            s.subscribe(pool.sessionEvents());
            sessions[i] = s;
            recoveries[i] = r;
        }
        runner.ensembleConnected(() -> {
            for (SharedSession s : sessions) {
                if (s.isConnected()) {
                    return true;
                }
            }
            return false;
        });
    }

    // ---------------------------------------------------------------- leasing

    /**
     * The session for a new lease: the one with the fewest leases (ties taken in turn, so leases spread evenly) among
     * those connected or still making their first connection, so a session that lost its connection costs new leases
     * nothing while another is usable; round robin when none is. Starts every session on first use.
     */
    int pick() {
        leased = true;
        for (SharedSession s : sessions) {
            s.start();
        }
        int offset = Math.floorMod(next.getAndIncrement(), sessions.length);
        int best = -1;
        int bestLeases = Integer.MAX_VALUE;
        for (int i = 0; i < sessions.length; i++) {
            int k = (offset + i) % sessions.length;
            SharedSession s = sessions[k];
            boolean usable = s.isConnected() || (s.state() == SessionState.CONNECTING && !s.isKnownUnreachable());
            if (usable && s.leases() < bestLeases) {
                best = k;
                bestLeases = s.leases();
            }
        }
        return best >= 0 ? best : offset;
    }

    boolean leased() {
        return leased;
    }

    SharedSession session(int index) {
        return sessions[index];
    }

    SessionRecovery recovery(int index) {
        return recoveries[index];
    }

    SharedSession[] sessions() {
        return sessions;
    }

    OperationRunner runner() {
        return runner;
    }

    EnsembleConfig config() {
        return config;
    }

    EnsembleServers serverList() {
        return servers;
    }

    /** Closes every owned ephemeral of the ensemble now (see {@link RealSessionPool#closeEphemerals()}). */
    List<CompletableFuture<Void>> closeEphemeralsAsync() {
        List<CompletableFuture<Void>> deletes = new ArrayList<>();
        for (SessionRecovery r : recoveries) {
            deletes.add(r.ephemerals().closeAllAsync());
        }
        return deletes;
    }

    /** Closes this ensemble alone: its recoveries, then its sessions (at once), then the calls waiting for a retry. */
    void close() {
        closeRecoveries();
        closeSessions();
    }

    /** Stops every session's recovery; the sessions themselves are closed by {@link #closeSessions}. */
    void closeRecoveries() {
        for (SessionRecovery r : recoveries) {
            r.close();
        }
    }

    /**
     * Closes every session at once, each on its own thread (the caller's for the last), so that sessions whose server
     * does not answer take one close bound together, not one each; then ends the calls still waiting for a retry.
     */
    void closeSessions() {
        closeAll(sessions);
        closeRunner();
    }

    /** Ends the calls still waiting for a retry; after the sessions closed. */
    void closeRunner() {
        runner.close();
    }

    /**
     * Closes {@code sessions} in parallel and returns when all are closed. The caller's interrupt status is kept; an
     * interrupt does not cut the wait short, since a session's close is itself bounded.
     */
    static void closeAll(SharedSession... sessions) {
        List<Thread> closers = new ArrayList<>();
        for (int i = 0; i < sessions.length - 1; i++) {
            closers.add(DaemonThreads.start(sessions[i].label() + "-close", sessions[i]::close));
        }
        if (sessions.length > 0) {
            sessions[sessions.length - 1].close();
        }
        boolean interrupted = false;
        for (Thread t : closers) {
            while (true) {
                try {
                    t.join();
                    break;
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    // ---------------------------------------------------------------- the recovery's host

    @Override
    public SerialQueue listenerQueue(String who, Supplier<Runnable> onOverflow) {
        return pool.listenerQueue(who, onOverflow);
    }

    @Override
    public ScheduledExecutorService scheduler() {
        return pool.scheduler();
    }

    @Override
    public OperationPolicy policy() {
        return pool.operationPolicy();
    }

    @Override
    public int maxDataBytes() {
        return pool.maxDataBytes();
    }

    @Override
    public void writeCompleted(ZooKeeper zk) {
        runner.writeCompleted(zk);
    }

    @Override
    public void recovered(RecoveryEvent event) {
        pool.each(l -> l.onRecovered(event));
    }

    @Override
    public void ephemeralConflict(String path, long ownerSessionId) {
        pool.each(l -> l.onEphemeralConflict(path, ownerSessionId));
    }

    @Override
    public void ephemeralMissing(String path, ZkException cause) {
        pool.each(l -> l.onEphemeralMissing(path, cause));
    }

    @Override
    public void ephemeralRestored(String path) {
        pool.each(l -> l.onEphemeralRestored(path));
    }

    // ---------------------------------------------------------------- the metrics' view

    @Override
    public String name() {
        return config.alias();
    }

    @Override
    public HostOrderingStats hosts() {
        return spread.stats();
    }

    @Override
    public String connectString() {
        return config.connectString();
    }

    @Override
    public List<String> servers() {
        return servers.current().servers();
    }

    @Override
    public Duration requestedSessionTimeout() {
        return config.sessionTimeout();
    }

    @Override
    public EnsembleStatus status() {
        List<SessionStatus> list = new ArrayList<>(sessions.length);
        int ephemerals = 0;
        int missing = 0;
        for (int i = 0; i < sessions.length; i++) {
            SharedSession s = sessions[i];
            list.add(new SessionStatus(
                    s.index(),
                    s.state(),
                    s.isStarted() && !s.isClosed(),
                    s.isConnected(),
                    s.sessionId(),
                    s.negotiatedTimeout(),
                    s.connectedServer()));
            ephemerals += recoveries[i].ephemerals().size();
            missing += recoveries[i].ephemerals().missing();
        }
        return new EnsembleStatus(
                name(),
                config.connectString(),
                config.sessionTimeout(),
                list,
                runner.breakerState(),
                ephemerals,
                missing);
    }

    @Override
    public PipelineStatus pipeline() {
        return runner.status();
    }
}
