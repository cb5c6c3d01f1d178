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
import dev.zksdk.internal.pipeline.AsyncBatcher;
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
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
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
    /**
     * Every session: first the {@link #participants} sessions that leases are pinned to, on the servers that are not
     * observers; then the read sessions, on the config's observers only (see {@link #reader}).
     */
    private final SharedSession[] sessions;
    /** How many of {@link #sessions} are the leases' sessions: the config's {@code sessionsPerEnsemble}. */
    private final int participants;
    /** The read sessions as plain reads use them; empty when the ensemble keeps none. */
    private final ReaderConnection[] readers;
    /** The observers' server list, for the read sessions; null when the ensemble keeps none. */
    private final EnsembleServers readServers;
    /** Spreads the read sessions over the observers; null when the ensemble keeps none. */
    private final SessionSpread readSpread;
    /** Evens the read sessions out over the observers; null when the ensemble keeps none. */
    private final Rebalancer readRebalancer;
    /** What the ensemble's servers can do, shared by its sessions. */
    private final ServerFeatures features;

    private final SessionRecovery[] recoveries;
    /** Each session's batcher of asynchronous operations; null entries when batching is off. */
    private final AsyncBatcher[] batchers;
    /** Moves sessions back to servers a failover left with few; on the pool's scheduler. */
    private final Rebalancer rebalancer;

    private final OperationRunner runner;
    /**
     * This ensemble's callback threads: its watch, cache, ephemeral, election and lock listeners run there, so listeners
     * blocked on it while it is down do not hold back another ensemble's.
     */
    private final ThreadPoolExecutor callbacks;

    private final AtomicInteger next = new AtomicInteger();
    private final AtomicInteger readOffsets = new AtomicInteger();
    /**
     * How far apart the process-wide session-creation limiter may start this ensemble's sessions (one permit each):
     * part of the time {@link #awaitAnyConnected} gives the others after the first connected.
     */
    private final long creationSpreadNanos;
    /** When the first lease started the sessions, and when the first of them connected; 0 before (start-up). */
    private volatile long startedAt;

    private volatile long firstConnectedAt;
    /** Set once no session is still making its first connection within the start-up window. */
    private volatile boolean startupOver;
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
        this.callbacks = pool.ensembleCallbackExecutor(config.alias() + "#" + number);
        String label = pool.name() + "[" + MetricNames.ensembleTag(config.connectString()) + "]";
        // With observers named, the leases' sessions never connect to them: their list is the other servers.
        boolean apart = !config.observers().isEmpty();
        this.servers = new EnsembleServers(
                label,
                listOf(config, config.participants(), "connectString"),
                hosts.resolver(),
                apart ? EnsembleServers.Members.PARTICIPANTS : EnsembleServers.Members.ALL);
        // One spread per ensemble: its sessions prefer distinct servers; the connection budget and the session
        // creation limiter behind the factory are process-wide, because the server counts connections per client IP.
        this.spread = SessionSpread.ofPool(hosts);
        // Handles are made with the ensemble's current server list, which may have changed since the config was made.
        ZookeeperFactory handles = servers.factory(HostsZookeeperFactory.forPool(spread));
        this.participants = config.sessionsPerEnsemble();
        int reads = config.readsFromObservers();
        ZookeeperFactory readHandles = null;
        if (reads > 0) {
            this.readServers = new EnsembleServers(
                    label + "[observers]",
                    listOf(config, config.observers(), "observers"),
                    hosts.resolver(),
                    EnsembleServers.Members.OBSERVERS);
            servers.namesAlsoFrom(readServers);
            readServers.namesAlsoFrom(servers);
            servers.alsoFollowFor(readServers);
            this.readSpread = SessionSpread.ofPool(hosts);
            readHandles = readServers.factory(HostsZookeeperFactory.forPool(readSpread));
        } else {
            this.readServers = null;
            this.readSpread = null;
        }
        // A membership read from /zookeeper/config tells observers from voting members: with observers named, the
        // leases' sessions follow the voting members, and their followers hand the observers to the read sessions,
        // which keep no watch of their own on the observers (EnsembleFollower).
        EnsembleServers followed = pool.followEnsembleChanges() ? servers : null;
        this.runner = new OperationRunner(
                pool.name() + "-e" + number,
                Map.of(MetricNames.TAG_POOL, pool.name(), MetricNames.TAG_ENSEMBLE, name()),
                config,
                policy,
                scheduler);
        this.sessions = new SharedSession[participants + reads];
        this.creationSpreadNanos = (long) ((sessions.length - 1) * 1e9 / hosts.sessionCreationRate());
        this.recoveries = new SessionRecovery[sessions.length];
        this.batchers = new AsyncBatcher[sessions.length];
        EphemeralRegistry ephemerals = new EphemeralRegistry();
        SessionEvents pipelineEvents = (session, event) -> {
            if (event.state() == SessionState.CONNECTED
                    || event.state() == SessionState.RECONNECTED
                    || event.state() == SessionState.READ_ONLY) {
                runner.connected();
                if (firstConnectedAt == 0) {
                    firstConnectedAt = System.nanoTime();
                }
            }
        };
        RecipeRetryPolicy recipeRetry = new RecipeRetryPolicy(policy);
        ServerFeatures features = new ServerFeatures(config.connectString(), config.tls() != null);
        features.recheckSilentMembersOn(scheduler);
        this.features = features;
        for (int i = 0; i < sessions.length; i++) {
            SharedSession s = new SharedSession(
                    pool.name(),
                    config,
                    number,
                    i,
                    i < participants ? handles : readHandles,
                    scheduler,
                    i < participants ? followed : null,
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
            if (config.asyncBatching() != null && i < participants) {
                batchers[i] = new AsyncBatcher(
                        runner,
                        s,
                        pool.completions(),
                        () -> features.persistentWatches() == ServerFeatures.Known.YES,
                        config.asyncBatching());
            }
        }
        this.readers = new ReaderConnection[reads];
        for (int j = 0; j < reads; j++) {
            readers[j] = new ReaderConnection(sessions[participants + j]);
        }
        this.rebalancer = new Rebalancer(
                pool.name() + "[" + name() + "]",
                Arrays.copyOf(sessions, participants),
                spread,
                hosts,
                config.sessionTimeout(),
                scheduler);
        rebalancer.start();
        if (reads > 0) {
            this.readRebalancer = new Rebalancer(
                    pool.name() + "[" + name() + "][observers]",
                    Arrays.copyOfRange(sessions, participants, sessions.length),
                    readSpread,
                    hosts,
                    config.sessionTimeout(),
                    scheduler);
            readRebalancer.start();
        } else {
            this.readRebalancer = null;
        }
        // Leases' sessions only: with no participant reachable, an observer serves nothing for long (it loses its
        // leader), and the lease's own operations must count against the breaker.
        runner.ensembleConnected(() -> {
            for (int i = 0; i < participants; i++) {
                if (sessions[i].isConnected()) {
                    return true;
                }
            }
            return false;
        });
    }

    // ---------------------------------------------------------------- leasing

    /**
     * The session for a new lease: while any session is connected (read-write or read-only), the connected one with
     * the fewest open leases, ties taken in turn so leases spread evenly; a session still connecting (its first
     * connection, or a reconnection after a loss) is then never chosen, so one whose attempt is slow (a server that
     * does not answer, a resolver that blocks) delays no lease. Only when none is connected: the one with the fewest
     * leases among those still making their first connection and not known unreachable, and round robin when there is
     * none of those either; {@link RealSessionPool#lease} then waits for whichever session connects first (see
     * {@link #awaitAnyConnected}). Starts every session on first use.
     *
     * <p>At start-up no session is connected: the first lease waits for the first session to connect ({@link
     * #awaitAnyConnected}), and leases taken in the start-up window wait a little for the others started with it
     * ({@link #settleStartup}), so leases taken and held at start-up spread over the sessions. A session whose first
     * connection is slower than that window is not waited for: the leases taken meanwhile all go to the sessions
     * already connected, and the ephemerals registered through them stay owned by those sessions (they are never
     * moved); once the slow one connects, new leases go to it while it holds the fewest, so leases held for long even
     * out, but what short leases registered stays where it is. Allocates nothing.
     */
    int pick() {
        leased = true;
        if (startedAt == 0) {
            startedAt = System.nanoTime();
        }
        for (SharedSession s : sessions) {
            s.start();
        }
        int offset = Math.floorMod(next.getAndIncrement(), participants);
        int connected = -1;
        int connectedLeases = Integer.MAX_VALUE;
        int connecting = -1;
        int connectingLeases = Integer.MAX_VALUE;
        for (int i = 0; i < participants; i++) {
            int k = (offset + i) % participants;
            SharedSession s = sessions[k];
            int leases = s.leases();
            if (s.isConnected()) {
                if (leases < connectedLeases) {
                    connected = k;
                    connectedLeases = leases;
                }
            } else if (connected < 0
                    && leases < connectingLeases
                    && s.state() == SessionState.CONNECTING
                    && !s.isKnownUnreachable()) {
                connecting = k;
                connectingLeases = leases;
            }
        }
        return connected >= 0 ? connected : connecting >= 0 ? connecting : offset;
    }

    /**
     * When no session is connected: waits up to {@code timeout} for whichever session connects first among {@code
     * picked} and those not known unreachable (connecting for the first time, or reconnecting), so that a lease at
     * start-up or after an outage is served by the first session to connect, not held by one whose attempt is slow.
     * Returns the index of a connected session, or -1 when none connected in time (the caller then reports why, from
     * {@code picked}).
     */
    int awaitAnyConnected(int picked, Duration timeout) throws InterruptedException {
        CompletableFuture<Integer> first = new CompletableFuture<>();
        List<CompletableFuture<?>> waits = new ArrayList<>(participants);
        for (int i = 0; i < participants; i++) {
            SharedSession s = sessions[i];
            if (i != picked && s.isKnownUnreachable()) {
                continue;
            }
            int k = i;
            waits.add(s.awaitConnected(timeout).whenComplete((zk, e) -> {
                if (e == null) {
                    first.complete(k);
                }
            }));
        }
        CompletableFuture.allOf(waits.toArray(new CompletableFuture<?>[0])).whenComplete((v, e) -> first.complete(-1));
        try {
            return first.get();
        } catch (ExecutionException e) {
            return -1; // never: completed with a value only
        }
    }

    /**
     * Whether the ensemble may still be starting up: its sessions were started by the first lease and not all of them
     * have made their first connection yet. One volatile read once start-up is over.
     */
    boolean startingUp() {
        return !startupOver;
    }

    /**
     * At start-up, once a first session is connected: gives the sessions still making their first connection until
     * the end of the start-up window to connect too, then picks again, so that leases taken and held at start-up spread
     * over the sessions instead of all going to the first one to connect. The window ends as long after the first
     * connection as that one took (at least {@link #STARTUP_SETTLE_MIN_MILLIS} ms), plus the time the process-wide
     * session-creation limiter may put between the sessions' starts ({@code (sessions - 1) / sessionCreationRate}):
     * sessions started together connect about together, and one whose first connection is slow (a server not
     * answering, a resolver that blocks) costs a lease at most the rest of that window, once. Returns {@code picked}
     * when there is nothing to wait for.
     */
    int settleStartup(int picked) throws InterruptedException {
        long startAt = startedAt;
        if (startAt == 0 || !sessions[picked].isConnected()) {
            return picked; // none connected yet: the lease waits for the first (awaitAnyConnected)
        }
        long firstAt = firstConnectedAt;
        if (firstAt == 0) {
            // Connected, and its event not handled yet: now is close enough to when it connected.
            firstAt = System.nanoTime();
            firstConnectedAt = firstAt;
        }
        long end = firstAt
                + Math.max(firstAt - startAt, TimeUnit.MILLISECONDS.toNanos(STARTUP_SETTLE_MIN_MILLIS))
                + creationSpreadNanos;
        List<CompletableFuture<?>> waits = null;
        for (int i = 0; i < participants; i++) {
            SharedSession s = sessions[i];
            if (!s.isConnected() && s.state() == SessionState.CONNECTING && !s.isKnownUnreachable()) {
                if (waits == null) {
                    waits = new ArrayList<>(sessions.length);
                }
                waits.add(s.awaitConnected(Duration.ofNanos(Math.max(0, end - System.nanoTime()))));
            }
        }
        if (waits == null || end - System.nanoTime() <= 0) {
            startupOver = true;
            return picked;
        }
        try {
            CompletableFuture.allOf(waits.toArray(new CompletableFuture<?>[0]))
                    .get(Math.max(0, end - System.nanoTime()), TimeUnit.NANOSECONDS);
        } catch (ExecutionException | TimeoutException e) {
            // some did not connect within the window: the lease goes to a session that did
        }
        int again = pick();
        return sessions[again].isConnected() ? again : picked;
    }

    /** The least start-up window after the first connection (see {@link #settleStartup}). */
    static final long STARTUP_SETTLE_MIN_MILLIS = 100;

    boolean leased() {
        return leased;
    }

    /** Where a new lease's reads start among the read sessions: leases take them in turn. */
    int nextReadOffset() {
        return readOffsets.getAndIncrement();
    }

    /** Whether the ensemble keeps sessions on observers for plain reads. */
    boolean hasReaders() {
        return participants < sessions.length;
    }

    /**
     * A connected read session (on an observer) for a plain read, trying them from {@code offset} on so that leases
     * spread their reads; null when the ensemble keeps none or none is connected (the read then stays on the lease's
     * session). Allocates nothing.
     */
    ReaderConnection reader(int offset) {
        int reads = readers.length;
        for (int i = 0; i < reads; i++) {
            ReaderConnection r = readers[Math.floorMod(offset + i, reads)];
            SharedSession s = r.session();
            if (s.isConnected() && s.state() != SessionState.READ_ONLY) {
                return r;
            }
        }
        return null;
    }

    /**
     * A connect string changed at runtime: the observers the config names in it go to the read sessions' list (when
     * it names any), the other servers to the leases' sessions.
     *
     * @throws IllegalArgumentException when it names only observers
     */
    void updateServers(ConnectString replacement) {
        if (config.observers().isEmpty()) {
            servers.update(replacement);
            return;
        }
        List<String> others = new ArrayList<>();
        List<String> observers = new ArrayList<>();
        for (String server : replacement.servers()) {
            (config.isObserver(server) ? observers : others).add(server);
        }
        if (others.isEmpty()) {
            throw new IllegalArgumentException("connectString '" + replacement.value()
                    + "' lists only the ensemble's observers " + config.observers()
                    + "; writes need a server that is not an observer");
        }
        String chroot = replacement.chroot() == null ? "" : replacement.chroot();
        servers.update(ConnectString.parse("connectString", String.join(",", others) + chroot));
        if (readServers != null) {
            // A string that names no observer any more moves the read sessions to the other servers: a server the
            // user removed is left, as ZooKeeper's own client leaves it (Review23o); reads then go there.
            List<String> readList = observers.isEmpty() ? others : observers;
            readServers.update(ConnectString.parse("connectString", String.join(",", readList) + chroot));
        }
    }

    /** The connect string every session of the ensemble uses now: the leases' servers, then the observers'. */
    String currentConnectString() {
        if (readServers == null) {
            return servers.current().value();
        }
        ConnectString own = servers.current();
        java.util.Set<String> all = new java.util.LinkedHashSet<>(own.servers());
        all.addAll(readServers.current().servers());
        return String.join(",", all) + (own.chroot() == null ? "" : own.chroot());
    }

    /** {@code servers} with the config's chroot, as a connect string; {@code setting} names it in errors. */
    private static ConnectString listOf(EnsembleConfig config, List<String> servers, String setting) {
        return ConnectString.parse(
                setting, String.join(",", servers) + (config.chroot() == null ? "" : config.chroot()));
    }

    SharedSession session(int index) {
        return sessions[index];
    }

    SessionRecovery recovery(int index) {
        return recoveries[index];
    }

    /** The batcher of session {@code index}'s asynchronous operations, or null when batching is off. */
    AsyncBatcher batcher(int index) {
        return batchers[index];
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

    /**
     * Stops every session's recovery and the version checks of silent members; the sessions themselves are closed by
     * {@link #closeSessions}.
     */
    void closeRecoveries() {
        rebalancer.close();
        if (readRebalancer != null) {
            readRebalancer.close();
        }
        features.close();
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
        return pool.listenerQueue(who, onOverflow, callbacks);
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
        if (readServers == null) {
            return servers.current().servers();
        }
        List<String> all = new ArrayList<>(servers.current().servers());
        all.addAll(readServers.current().servers());
        return all;
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
                    s.connectedServer(),
                    i < participants ? SessionStatus.Role.PARTICIPANT : SessionStatus.Role.OBSERVER));
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
