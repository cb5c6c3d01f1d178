package dev.zksdk.internal.pool;

import dev.zksdk.EnsembleConfig;
import dev.zksdk.OperationPolicy;
import dev.zksdk.PoolStats;
import dev.zksdk.SessionEvent;
import dev.zksdk.SessionListener;
import dev.zksdk.ZkLease;
import dev.zksdk.ZkUnavailableException;
import dev.zksdk.cache.CacheConfig;
import dev.zksdk.hosts.HostsConfig;
import dev.zksdk.hosts.SessionCreationLimiter;
import dev.zksdk.internal.ConnectString;
import dev.zksdk.internal.DaemonThreads;
import dev.zksdk.internal.SerialQueue;
import dev.zksdk.internal.Validation;
import dev.zksdk.internal.ZkAsync;
import dev.zksdk.internal.pipeline.OperationRunner;
import dev.zksdk.internal.recovery.SessionRecovery;
import dev.zksdk.internal.session.SessionEvents;
import dev.zksdk.internal.session.SharedSession;
import dev.zksdk.metrics.EnsembleStatus;
import dev.zksdk.metrics.MetricsTracker;
import dev.zksdk.metrics.MetricsTrackerFactory;
import dev.zksdk.metrics.PoolView;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.SortedMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.apache.zookeeper.client.ZKClientConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The engine behind {@link dev.zksdk.ZkSessionPool}. */
public final class RealSessionPool {

    private static final Logger log = LoggerFactory.getLogger(RealSessionPool.class);
    /**
     * Threads for user callbacks: each listener runs on at most one at a time, so this many listeners may block at
     * once before the others wait. Idle threads end after 2 s, so a burst of events leaves no threads behind.
     */
    static final int CALLBACK_THREADS = 16;
    /** Callbacks one listener may have queued before its overflow policy applies. */
    public static final int LISTENER_QUEUE_CAPACITY = 10_000;

    private final String name;
    private final EnsembleConfig defaultEnsemble;
    private final OperationPolicy policy;
    private final HostsConfig hosts;
    private final boolean followEnsembleChanges;
    /** How long each session's close waits for the server's answer. */
    private final Duration closeTimeout;
    /** User listeners, each with its own ordered queue on the callback executor. */
    private final List<Subscriber> listeners = new CopyOnWriteArrayList<>();
    /**
     * Completes the futures of the {@code ...Async} forms, so that stages chained to them run here, not on ZooKeeper's
     * event thread. As many threads as processors (at least 2); idle ones end after 2 s.
     */
    private final ThreadPoolExecutor completions;

    /** Runs user callbacks (session, watch, ephemeral listeners): never ZooKeeper's or the recovery's threads. */
    private final ThreadPoolExecutor callbacks;
    /** Every ensemble's callback threads ({@link #ensembleCallbackExecutor}), shut down with {@link #callbacks}. */
    private final List<ThreadPoolExecutor> ensembleCallbacks = new CopyOnWriteArrayList<>();

    private final LongAdder callbackOverflows = new LongAdder();
    private final Map<EnsembleConfig, Ensemble> ensembles = new ConcurrentHashMap<>();
    private final AtomicInteger ensembleNumbers = new AtomicInteger();
    private final AtomicInteger activeLeases = new AtomicInteger();
    private final ScheduledExecutorService scheduler;
    private final int maxDataBytes;
    private volatile boolean closed;
    private volatile CacheConfig cacheDefaults = CacheConfig.defaults();
    private volatile MetricsTracker metrics = MetricsTracker.NONE;

    public RealSessionPool(
            String name,
            EnsembleConfig defaultEnsemble,
            OperationPolicy policy,
            HostsConfig hosts,
            boolean followEnsembleChanges,
            List<SessionListener> listeners,
            Duration closeTimeout) {
        this.name = name;
        this.closeTimeout = closeTimeout;
        this.followEnsembleChanges = followEnsembleChanges;
        this.hosts = hosts;
        this.defaultEnsemble = defaultEnsemble;
        this.policy = policy;
        this.callbacks = callbackExecutor(name + "-callbacks");
        int completionThreads = Math.max(2, Runtime.getRuntime().availableProcessors());
        this.completions = new ThreadPoolExecutor(
                completionThreads,
                completionThreads,
                2,
                TimeUnit.SECONDS,
                new LinkedBlockingQueue<>(),
                DaemonThreads.numbered(name + "-async"));
        this.completions.allowCoreThreadTimeOut(true);
        for (SessionListener l : listeners) {
            addListener(l);
        }
        ScheduledThreadPoolExecutor executor =
                new ScheduledThreadPoolExecutor(1, DaemonThreads.numbered(name + "-scheduler"));
        executor.setRemoveOnCancelPolicy(true);
        this.scheduler = Executors.unconfigurableScheduledExecutorService(executor);
        this.maxDataBytes =
                new ZKClientConfig().getInt("jute.maxbuffer", ZKClientConfig.CLIENT_MAX_PACKET_LENGTH_DEFAULT);
    }

    public String name() {
        return name;
    }

    boolean followEnsembleChanges() {
        return followEnsembleChanges;
    }

    public HostsConfig hosts() {
        return hosts;
    }

    public EnsembleConfig defaultEnsemble() {
        return defaultEnsemble;
    }

    /** The routing table; null when the pool was built without routes. */
    private volatile Router router;

    /**
     * Gives the pool its routes (validated, holding {@code "/"}); called once, right after construction, before any
     * lease.
     */
    public void configureRoutes(Map<String, EnsembleConfig> routes) {
        this.router = new Router(name, routes);
    }

    /** The routing table, or null when the pool was built without routes. */
    public Router router() {
        return router;
    }

    /** Whether the pool was built with routes. */
    public boolean routed() {
        return router != null;
    }

    /** {@link Router#route}; only on a pool with routes. */
    public void route(String prefix, EnsembleConfig ensemble) {
        router.route(prefix, ensemble);
    }

    /** {@link Router#remove}; only on a pool with routes. */
    public boolean removeRoute(String prefix) {
        return router.remove(prefix);
    }

    /** The ensemble that owns {@code path} now; only on a pool with routes. */
    public EnsembleConfig ensembleFor(String path) {
        return router.table().lookup(path).config();
    }

    /** The table now, prefix to ensemble; only on a pool with routes. */
    public SortedMap<String, EnsembleConfig> routeTable() {
        return router.table().view();
    }

    /** {@link Router#checkPrefix}, for the builder. */
    public static String checkRoutePrefix(String prefix) {
        return Router.checkPrefix(prefix);
    }

    /** {@link Router#checkEnsemble}, for the builder. */
    public static EnsembleConfig checkRouteEnsemble(String prefix, EnsembleConfig ensemble) {
        return Router.checkEnsemble(prefix, ensemble);
    }

    /**
     * What {@link dev.zksdk.ZkSessionPool#lease()} hands out: with routes, a routed lease (which opens and waits for
     * nothing until an operation needs an ensemble); otherwise a lease on the default ensemble.
     */
    public ZkLease defaultLease() {
        Router r = router;
        return r != null ? new RoutedLease(this, r) : lease(defaultEnsemble);
    }

    public ZkLease lease(EnsembleConfig config) {
        Ensemble ensemble = ensemble(config);
        int picked = ensemble.pick();
        if (ensemble.startingUp() && ensemble.session(picked).isConnected()) {
            try {
                picked = ensemble.settleStartup(picked);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new ZkUnavailableException(
                        null, "interrupted while waiting for a session to " + config.connectString(), e);
            }
        }
        SharedSession session = ensemble.session(picked);
        if (!session.isConnected()) {
            if (ensemble.runner().breakerOpen()) {
                throw new ZkUnavailableException(
                        null,
                        "no connected session to " + config.connectString()
                                + " and its circuit breaker is open; failing fast",
                        null);
            }
            if (session.isKnownUnreachable()) {
                Throwable why = session.lastHandleFailure();
                throw new ZkUnavailableException(
                        null,
                        "the ensemble " + config.connectString() + " is unreachable (no "
                                + "session connected for " + session.unreachableForMillis()
                                + " ms); failing fast until a session "
                                + "connects" + (why == null ? "" : ": " + why.getMessage()),
                        why);
            }
            boolean connected;
            try {
                // No session is connected (pick prefers a connected one): the first to connect takes the lease, so
                // that one slow attempt (a server not answering, a resolver that blocks) does not hold it.
                long waitStart = System.nanoTime();
                int first = ensemble.awaitAnyConnected(picked, config.connectionTimeout());
                Duration left = Duration.ZERO;
                if (first >= 0) {
                    int again = ensemble.startingUp() ? ensemble.settleStartup(first) : ensemble.pick();
                    picked = ensemble.session(again).isConnected() ? again : first;
                    session = ensemble.session(picked);
                    left = config.connectionTimeout().minusNanos(System.nanoTime() - waitStart);
                }
                // Connected now, or the picked session's reason (timeout, refused credentials) reported as before; the
                // whole wait stays within the connection timeout.
                connected = session.blockUntilConnected(left.isNegative() ? Duration.ZERO : left);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new ZkUnavailableException(
                        null, "interrupted while waiting for a session to " + config.connectString(), e);
            }
            if (!connected) {
                session.markUnreachable();
                Throwable why = session.lastHandleFailure();
                throw new ZkUnavailableException(
                        null,
                        "no session to " + config.connectString() + " connected within "
                                + "the connection timeout of "
                                + config.connectionTimeout().toMillis() + " ms"
                                + (why == null ? "" : ": " + why.getMessage()),
                        why);
            }
        }
        checkOpen();
        activeLeases.incrementAndGet();
        session.leaseOpened();
        return new RealLease(
                this,
                session,
                ensemble.recovery(picked),
                ensemble.runner(),
                maxDataBytes,
                ensemble.batcher(picked),
                ensemble.hasReaders() ? ensemble : null);
    }

    private Ensemble ensemble(EnsembleConfig config) {
        checkOpen();
        Ensemble[] made = new Ensemble[1];
        Ensemble ensemble = ensembles.computeIfAbsent(
                config,
                c -> made[0] = new Ensemble(this, c, ensembleNumbers.getAndIncrement(), policy, hosts, scheduler));
        if (made[0] != null) {
            startMetrics(made[0]);
        }
        if (closed) {
            // close() raced with this lease: make sure what computeIfAbsent just made does not outlive the pool.
            ensemble.close();
            checkOpen();
        }
        return ensemble;
    }

    /**
     * Validates {@code connectString} for {@code config} (as the builder does, same chroot, some server of positive
     * weight) and applies it to the ensemble's sessions; see {@link dev.zksdk.ZkSessionPool#updateConnectString}.
     */
    public void updateConnectString(EnsembleConfig config, String connectString) {
        ConnectString replacement = ConnectString.parse("connectString", connectString);
        if (!Objects.equals(replacement.chroot(), config.chroot())) {
            throw new IllegalArgumentException("connectString '" + connectString + "' has chroot "
                    + (replacement.chroot() == null ? "none" : "'" + replacement.chroot() + "'")
                    + " but the ensemble's is "
                    + (config.chroot() == null ? "none" : "'" + config.chroot() + "'")
                    + ": a different chroot would change "
                    + "what every path means; lease an EnsembleConfig with that connect string instead");
        }
        if (replacement.servers().stream().noneMatch(server -> hosts.weight(server) > 0)) {
            throw new IllegalArgumentException(
                    "connectString '" + connectString + "' lists only servers of weight 0 in "
                            + "the pool's hosts config; at least one needs a positive weight");
        }
        checkOpen();
        requireKnown(config);
        ensemble(config).updateServers(replacement);
    }

    /** The connect string the ensemble's sessions use now; see {@link dev.zksdk.ZkSessionPool#currentConnectString}. */
    public String currentConnectString(EnsembleConfig config) {
        requireKnown(config);
        Ensemble e = ensembles.get(config);
        return e != null
                ? e.currentConnectString()
                : ConnectString.parse("connectString", config.connectString()).value();
    }

    private void requireKnown(EnsembleConfig config) {
        if (!config.equals(defaultEnsemble) && !ensembles.containsKey(config)) {
            throw new IllegalArgumentException(
                    "ensemble " + config + " is neither the pool's default ensemble nor one " + "it has leased");
        }
    }

    void checkOpen() {
        if (closed) {
            throw new IllegalStateException("the pool '" + name + "' is closed");
        }
    }

    boolean isClosed() {
        return closed;
    }

    void leaseClosed(SharedSession session) {
        activeLeases.decrementAndGet();
        session.leaseClosed();
    }

    /**
     * How the pool hears of each session's state changes: it tells the metrics tracker and the user's listeners (on
     * their queues).
     */
    SessionEvents sessionEvents() {
        return sessionEvents;
    }

    private final SessionEvents sessionEvents = new SessionEvents() {
        @Override
        public void onStateChange(SharedSession session, SessionEvent event) {
            each(l -> l.onStateChange(event));
        }

        @Override
        public void onTimeoutClamped(SharedSession session, Duration requested, Duration negotiated) {
            each(l -> l.onTimeoutClamped(session.config().connectString(), requested, negotiated));
        }
    };

    public ScheduledExecutorService scheduler() {
        return scheduler;
    }

    public PoolStats stats() {
        int open = 0;
        long opened = 0;
        Map<String, Integer> perServer = new HashMap<>();
        for (Ensemble e : ensembles.values()) {
            for (SharedSession s : e.sessions()) {
                opened += s.sessionsOpened();
                if (s.isStarted() && !s.isClosed()) {
                    open++;
                }
                String server = s.connectedServer();
                if (server != null) {
                    perServer.merge(server, 1, Integer::sum);
                }
            }
        }
        return new PoolStats(open, activeLeases.get(), opened, perServer);
    }

    /** The recovery of {@code session} (one of this pool's), for diagnostics and tests. */
    public SessionRecovery recovery(SharedSession session) {
        for (Ensemble e : ensembles.values()) {
            SharedSession[] sessions = e.sessions();
            for (int i = 0; i < sessions.length; i++) {
                if (sessions[i] == session) {
                    return e.recovery(i);
                }
            }
        }
        throw new IllegalArgumentException(session + " is not a session of this pool");
    }

    /** The sessions of every ensemble, for diagnostics and metrics. */
    public List<SharedSession> sessions() {
        List<SharedSession> all = new ArrayList<>();
        for (Ensemble e : ensembles.values()) {
            all.addAll(List.of(e.sessions()));
        }
        return all;
    }

    /** The operation pipeline of an ensemble, or null when it has never been leased. */
    public OperationRunner runner(EnsembleConfig config) {
        Ensemble e = ensembles.get(config);
        return e == null ? null : e.runner();
    }

    public Duration negotiatedSessionTimeout(EnsembleConfig config) {
        Ensemble e = ensembles.get(config);
        return e == null ? null : e.sessions()[0].negotiatedTimeout();
    }

    public void addListener(SessionListener listener) {
        listeners.add(new Subscriber(listener, listenerQueue("session listener " + listener, null)));
    }

    public void removeListener(SessionListener listener) {
        listeners.removeIf(s -> s.listener == listener);
    }

    /**
     * An ordered, bounded queue for one user listener on the pool's callback threads.
     *
     * @param onOverflow what replaces a full queue (a RESYNC for a watch), or null to drop the newest callback
     */
    public SerialQueue listenerQueue(String who, Supplier<Runnable> onOverflow) {
        return listenerQueue(who, onOverflow, callbacks);
    }

    /** {@link #listenerQueue(String, Supplier)} on {@code executor}: an ensemble's own callback threads. */
    SerialQueue listenerQueue(String who, Supplier<Runnable> onOverflow, Executor executor) {
        return new SerialQueue(name + ": " + who, executor, LISTENER_QUEUE_CAPACITY, onOverflow, callbackOverflows);
    }

    /**
     * {@link #CALLBACK_THREADS} threads for user callbacks, made when needed and ended after 2 s idle, so an ensemble
     * with no listener busy holds none. The pool's (session listeners) and each ensemble's (its watches, caches,
     * ephemerals, elections and locks) are separate: listeners blocked on an ensemble that is down hold only its
     * threads. Shut down with the pool.
     */
    private static ThreadPoolExecutor callbackExecutor(String threadName) {
        ThreadPoolExecutor executor = new ThreadPoolExecutor(
                CALLBACK_THREADS,
                CALLBACK_THREADS,
                2,
                TimeUnit.SECONDS,
                new LinkedBlockingQueue<>(),
                DaemonThreads.numbered(threadName));
        executor.allowCoreThreadTimeOut(true);
        return executor;
    }

    /** An ensemble's own {@link #callbackExecutor callback threads}, shut down with the pool's. */
    ThreadPoolExecutor ensembleCallbackExecutor(String ensembleName) {
        ThreadPoolExecutor executor = callbackExecutor(name + "[" + ensembleName + "]-callbacks");
        ensembleCallbacks.add(executor);
        return executor;
    }

    /** Callbacks dropped or replaced because a listener's queue was full, since the pool started. */
    public long callbackOverflows() {
        return callbackOverflows.sum();
    }

    public OperationPolicy operationPolicy() {
        return policy;
    }

    /** The data-size limit: the client's {@code jute.maxbuffer}. */
    /** Where the futures of the {@code ...Async} forms complete (see {@link ZkAsync#completeOn}). */
    public Executor completions() {
        return completions;
    }

    public int maxDataBytes() {
        return maxDataBytes;
    }

    /**
     * Tells the metrics tracker at once, on the calling thread (it must not block), and every user listener on its own
     * queue: user code never runs on ZooKeeper's threads or the recovery's, and may call back into the pool.
     */
    void each(Consumer<SessionListener> call) {
        MetricsTracker tracker = metrics;
        if (tracker != MetricsTracker.NONE) {
            try {
                call.accept(tracker);
            } catch (RuntimeException e) {
                log.warn("{}: the metrics tracker threw", name, e);
            }
        }
        for (Subscriber s : listeners) {
            s.queue.execute(() -> call.accept(s.listener));
        }
    }

    private static final class Subscriber {
        final SessionListener listener;
        final SerialQueue queue;

        Subscriber(SessionListener listener, SerialQueue queue) {
            this.listener = listener;
            this.queue = queue;
        }
    }

    /** How long each session's close waits for the server's answer. */
    public Duration closeTimeout() {
        return closeTimeout;
    }

    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
        }
        // Elections and locks first, while the callback threads still run: each listener hears of its loss once.
        for (AutoCloseable turns : coordination) {
            try {
                turns.close();
            } catch (Exception e) {
                log.warn("{}: closing {} failed", name, turns, e);
            }
        }
        // Deleted explicitly first, so that a registration is gone before anything else of the pool stops; waited for
        // at most the close timeout, like the sessions' close after it.
        closeEphemerals(closeTimeout);
        // Every session of every ensemble closes at once: a pool whose servers do not answer closes within one
        // closeTimeout, not one per session.
        List<SharedSession> all = new ArrayList<>();
        for (Ensemble e : ensembles.values()) {
            e.closeRecoveries();
            all.addAll(List.of(e.sessions()));
        }
        Ensemble.closeAll(all.toArray(SharedSession[]::new));
        for (Ensemble e : ensembles.values()) {
            e.closeRunner();
        }
        scheduler.shutdownNow();
        try {
            scheduler.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        // Callbacks already queued (the sessions' CLOSED events among them) are still delivered; not awaited, since a
        // listener may be what closes the pool.
        callbacks.shutdown();
        ensembleCallbacks.forEach(ThreadPoolExecutor::shutdown);
        completions.shutdown();
        try {
            metrics.close();
        } catch (RuntimeException e) {
            log.warn("{}: the metrics tracker failed to close", name, e);
        }
    }

    /**
     * Closes every owned ephemeral of every ensemble: each stops being recovered, and each confirmed in a live session
     * is deleted now, all deletes sent at once. Waits for the answers up to the longest connection timeout; a node
     * that could not be deleted (no connection) goes when its session ends.
     */
    public void closeEphemerals() {
        closeEphemerals(null);
    }

    /** {@link #closeEphemerals()}, waiting at most {@code bound} (null: the longest connection timeout). */
    private void closeEphemerals(Duration bound) {
        List<CompletableFuture<Void>> deletes = new ArrayList<>();
        Duration wait = Duration.ZERO;
        for (Ensemble e : ensembles.values()) {
            deletes.addAll(e.closeEphemeralsAsync());
            wait = wait.compareTo(e.config().connectionTimeout()) < 0
                    ? e.config().connectionTimeout()
                    : wait;
        }
        if (bound != null && bound.compareTo(wait) < 0) {
            wait = bound;
        }
        if (deletes.isEmpty()) {
            return;
        }
        try {
            CompletableFuture.allOf(deletes.toArray(new CompletableFuture<?>[0]))
                    .get(wait.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException e) {
            log.info(
                    "{}: not every owned ephemeral could be deleted now ({}); the rest go when their sessions end",
                    name,
                    e.toString());
        }
    }

    /** The settings of caches made without their own; set once, right after construction, before any lease. */
    public void cacheDefaults(CacheConfig config) {
        this.cacheDefaults = config;
    }

    /** The settings of caches made without their own. */
    public CacheConfig cacheDefaults() {
        return cacheDefaults;
    }

    /**
     * Creates the pool's metrics tracker and makes it the first session listener. Called once, right after
     * construction, before any lease.
     */
    public void attachMetrics(MetricsTrackerFactory factory) {
        RealSessionPool pool = this;
        MetricsTracker tracker = factory.create(new PoolView() {
            @Override
            public String name() {
                return pool.name;
            }

            @Override
            public PoolStats stats() {
                return pool.stats();
            }

            @Override
            public long callbackOverflows() {
                return pool.callbackOverflows();
            }

            @Override
            public SessionCreationLimiter sessionCreationLimiter() {
                // The same limiter HostsZookeeperFactory.forPool takes permits from.
                return SessionCreationLimiter.shared(pool.hosts.sessionCreationRate());
            }
        });
        this.metrics = Validation.notNull("the metrics tracker made by " + factory, tracker);
        for (Ensemble e : ensembles.values()) {
            startMetrics(e);
        }
    }

    /** The pool's metrics tracker (a no-op one unless a factory was attached), for components that publish meters. */
    public MetricsTracker metrics() {
        return metrics;
    }

    private void startMetrics(Ensemble ensemble) {
        MetricsTracker tracker = metrics;
        ensemble.runner().recordTo(tracker, ensemble.name());
        try {
            tracker.ensembleStarted(ensemble);
        } catch (RuntimeException e) {
            log.warn("{}: the metrics tracker failed to register ensemble {}", name, ensemble.name(), e);
        }
    }

    /** A snapshot of every ensemble leased so far. */
    public List<EnsembleStatus> ensembleStatus() {
        List<EnsembleStatus> all = new ArrayList<>();
        for (Ensemble e : ensembles.values()) {
            if (e.leased()) {
                all.add(e.status());
            }
        }
        all.sort(Comparator.comparing(EnsembleStatus::connectString));
        return all;
    }

    @Override
    public String toString() {
        Router r = router;
        return "name=" + name + ", defaultEnsemble=" + defaultEnsemble + ", ensembles=" + ensembles.size()
                + (r == null ? "" : ", routes=" + r) + (closed ? ", closed" : "");
    }

    /** Open elections and locks of every lease, closed first by {@link #close()}. */
    private final Set<AutoCloseable> coordination = ConcurrentHashMap.newKeySet();
    /** (ensemble, epoch path) of every election or lock that handed out a token: what {@code fenced} accepts. */
    private final Set<List<Object>> fencingEpochs = ConcurrentHashMap.newKeySet();

    void coordinationOpened(AutoCloseable turns) {
        coordination.add(turns);
    }

    void coordinationClosed(AutoCloseable turns) {
        coordination.remove(turns);
    }

    /** Records that a token was made on {@code epochPath} of {@code config}. */
    void recordFencingEpoch(EnsembleConfig config, String epochPath) {
        fencingEpochs.add(List.of(config, epochPath));
    }

    /** Whether a token was ever made on {@code epochPath} of {@code config} by this pool. */
    boolean isFencingEpoch(EnsembleConfig config, String epochPath) {
        return fencingEpochs.contains(List.of(config, epochPath));
    }
}
