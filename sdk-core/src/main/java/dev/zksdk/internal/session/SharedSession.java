package dev.zksdk.internal.session;

import dev.zksdk.EnsembleConfig;
import dev.zksdk.SessionEvent;
import dev.zksdk.SessionState;
import dev.zksdk.ZkAuthException;
import dev.zksdk.hosts.BudgetedZooKeeper;
import dev.zksdk.hosts.WeightedHostProvider;
import dev.zksdk.internal.DaemonThreads;
import dev.zksdk.internal.pipeline.Connection;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.IntConsumer;
import java.util.function.LongSupplier;
import org.apache.curator.RetryPolicy;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.utils.ZookeeperFactory;
import org.apache.zookeeper.WatchedEvent;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.client.ZKClientConfig;
import org.apache.zookeeper.client.ZooKeeperSaslClient;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One long-lived pooled session: a Curator client whose ZooKeeper handle is replaced by Curator after expiry. Tracks
 * the session id across those replacements, turns Curator's bare state changes into {@link SessionEvent}s that carry
 * the previous state and ids, and starts the ordered recovery on every new session.
 */
public final class SharedSession implements Connection {

    private static final Logger log = LoggerFactory.getLogger(SharedSession.class);

    /** Everyone told of this session's state changes, in order: see {@link SessionEvents}. */
    private final List<SessionEvents> subscribers = new CopyOnWriteArrayList<>();

    private final ScheduledExecutorService scheduler;
    private final EnsembleConfig config;
    private final String label;
    private final int index;
    private final CuratorFramework client;
    /** What lease holders get: a namespace view of {@link #client}, made once the client is started. */
    private volatile CuratorFramework guarded;
    /** SDK-internal reactions to this session's events (caches), in order; never user code. */
    private final ExecutorService internalExecutor;

    private final List<Consumer<SessionEvent>> internalListeners = new CopyOnWriteArrayList<>();
    private final List<Consumer<SessionEvent>> stateGates = new CopyOnWriteArrayList<>();
    /** Curator's runSafe executor for this session's client (see the builder). */
    private final ExecutorService runSafe;

    private final EnsembleFollower follower;
    private final ServerFeatures features;
    private final Object stateLock = new Object();
    private final Object startLock = new Object();

    private volatile SessionState state = SessionState.CONNECTING;
    private volatile long sessionId;
    private volatile Duration negotiatedTimeout;
    private volatile String server;
    private volatile CompletableFuture<Void> connectedSignal = new CompletableFuture<>();
    private volatile boolean started;
    private volatile Throwable lastHandleFailure;
    private volatile boolean closed;
    private long clampReportedFor;
    /** The JAAS section of this ensemble's SASL login, or null without SASL. */
    private final String saslSection;
    /** Set once when the server refuses the credentials (or the SASL login fails): final for this session. */
    private volatile ZkAuthException authFailure;
    /** Completes when the current handle's SASL authentication succeeded; fails when it was refused. */
    private volatile CompletableFuture<Void> saslOutcome = CompletableFuture.completedFuture(null);
    /** Why connecting timed out, when the pool could find out (a failed TLS handshake); cleared on connection. */
    private volatile Throwable lastConnectFailure;
    /**
     * The handle of the last connection Curator reported, kept so that an operation need not ask Curator for it (which
     * checks the thread's retry-loop state and background errors on every call); null when disconnected or closed.
     */
    private volatile ZooKeeper liveHandle;
    /** Sampling of the live handle's received-packet count: when the ensemble was last heard from. */
    private final ExpiryDetector expiry;
    /** Leaves a server that answers nothing while requests wait, on {@link #expiry}'s samples. */
    private final HungServerCheck hungServer;
    /** Set just before the pool expires the session itself; read by the LOST event that follows. */
    private volatile boolean expiringOnClient;
    /** Since when (nanoTime) no session connected within the connection timeout; 0 while reachable. */
    private volatile long unreachableSince;
    /** The watcher of the newest handle: events of older handles no longer change this session's state. */
    private volatile HandleWatcher currentWatcher;

    private volatile ScheduledFuture<?> missedDisconnects;
    private final ReadYourWrites readYourWrites = new ReadYourWrites();
    /** ZooKeeper sessions this pooled session has had: the first and each replacement after an expiry. */
    private final AtomicLong opened = new AtomicLong();
    /**
     * How long closing waits for the server to answer the session's close request (the pool's close timeout).
     * ZooKeeper waits for that answer until its read timeout (two thirds of the session timeout): a frozen server would
     * hold {@code pool.close()} (and an application's shutdown) that long. Past the bound the connection is dropped and
     * the server ends the session when it expires; the pool has deleted its own ephemerals before.
     */
    private final Duration closeTimeout;

    /**
     * @param poolName names the session's threads and log lines: {@code <poolName>-e<ensemble>-s<index>}
     * @param handles makes the ZooKeeper handles (host selection)
     * @param scheduler the pool's scheduler (expiry checks, contact sampling)
     * @param servers the ensemble's server list, to follow membership changes into; null not to follow them
     * @param recipeRetry Curator's retry, for recipes run on the lease's Curator client (the pool's policy)
     * @param features what the ensemble's servers can do, shared by its sessions
     * @param closeTimeout how long closing waits for the server to answer the session's close request
     * @param hungBound how long the connection may stay silent with requests waiting before it is dropped so that the
     *     session resumes on another server ({@link HungServerCheck#bound})
     */
    public SharedSession(
            String poolName,
            EnsembleConfig config,
            int ensembleNumber,
            int index,
            ZookeeperFactory handles,
            ScheduledExecutorService scheduler,
            EnsembleServers servers,
            RetryPolicy recipeRetry,
            ServerFeatures features,
            Duration closeTimeout,
            Duration hungBound) {
        this.closeTimeout = closeTimeout;
        this.config = config;
        this.features = features;
        this.index = index;
        this.label = poolName + "-e" + ensembleNumber + "-s" + index;
        this.scheduler = scheduler;
        this.hungServer = new HungServerCheck(label, hungBound);
        this.expiry =
                new ExpiryDetector(scheduler, config.sessionTimeout(), () -> closed ? null : liveHandle, hungServer);
        this.runSafe = Executors.newSingleThreadExecutor(DaemonThreads.single(label + "-curator-safe"));
        CuratorFrameworkFactory.Builder builder = CuratorFrameworkFactory.builder()
                .connectString(config.connectString())
                .sessionTimeoutMs((int) config.sessionTimeout().toMillis())
                .connectionTimeoutMs((int) config.connectionTimeout().toMillis())
                // Only Curator recipes use Curator's own retry loop; the SDK's operations retry through resilience4j.
                .retryPolicy(recipeRetry)
                .zookeeperFactory(new HandleFactory(label, handles, this))
                .canBeReadOnly(config.canBeReadOnly())
                .threadFactory(DaemonThreads.numbered(label + "-curator"))
                // Curator makes its own runSafe executor (LeaderLatch and others use it) and never shuts it down: one
                // idle thread per session would outlive the pool. This one is shut down on close.
                .runSafeService(runSafe)
                .ensembleTracker(false) // EnsembleFollower does it, on the live handle too
                .waitForShutdownTimeoutMs(5_000);
        for (EnsembleConfig.Auth auth : config.authorizations()) {
            builder.authorization(auth.scheme(), auth.secret());
        }
        // Curator recipes run through lease.curator() create with the ensemble's ACL too.
        builder.aclProvider(config.aclProvider());
        this.saslSection = config.sasl() == null ? null : JaasSections.acquire(config.sasl());
        this.client = builder.build();
        // Lease holders get a namespace view of the client: its close() is refused, it is the framework type recipes
        // such
        // as CuratorCache need, and its getZookeeperClient() is the guard that refuses close and reset.
        GuardedZookeeperClient.install(client);
        this.internalExecutor = Executors.newSingleThreadExecutor(DaemonThreads.single(label + "-internal"));
        this.follower = servers == null ? null : new EnsembleFollower(this, servers);
    }

    /** Starts connecting; idempotent, and a concurrent caller returns only once the session is started. */
    public void start() {
        synchronized (startLock) {
            synchronized (stateLock) {
                if (started || closed) {
                    return;
                }
                started = true;
            }
            GuardedZookeeperClient.asPool(client::start);
            try {
                guarded = client.usingNamespace(null);
            } catch (IllegalStateException e) { // CuratorClosedException
                if (authFailure == null) {
                    throw e;
                }
                // A SASL login that failed as the handle started has closed the client already (on another thread):
                // callers get that failure, from awaitConnected, not this one.
            }
            expiry.start();
            try {
                missedDisconnects =
                        scheduler.scheduleWithFixedDelay(this::checkMissedDisconnect, 100, 100, TimeUnit.MILLISECONDS);
            } catch (RejectedExecutionException e) {
                // the pool is closing
            }
        }
    }

    /**
     * The version probe of a new connection answered: the connection is announced now, or, when the server is about to
     * close it (a 3.5 server after the 3.6 request), at the next connection; should it stay open after all, a second
     * later. Curator's recipes are told first whether the servers have persistent watches.
     */
    private void afterProbe(
            HandleWatcher watcher, ZooKeeper probed, Watcher.Event.KeeperState keeperState, boolean closing) {
        long disconnects = watcher.disconnects();
        Runnable announce = () -> {
            // Not once the connection was lost since the answer: the next connection announces itself.
            if (watcher.disconnects() == disconnects && probed.getState().isConnected() && liveHandle != probed) {
                onHandleEvent(watcher, keeperState);
            }
        };
        if (!closing) {
            announce.run();
            return;
        }
        try {
            // A safety net only: every 3.5 server closes the connection after that answer.
            scheduler.schedule(announce, config.connectionTimeout().toMillis(), TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException e) {
            // the pool is closing
        }
    }

    /**
     * Completes with the live ZooKeeper handle once connected (and, with SASL, authenticated), or fails with
     * {@link TimeoutException}; fails at once with {@link ZkAuthException} after the server refused the credentials.
     */
    @Override
    public CompletableFuture<ZooKeeper> awaitConnected(Duration timeout) {
        ZooKeeper live = saslSection == null ? connectedHandle() : null;
        if (live != null) {
            return CompletableFuture.completedFuture(live);
        }
        ZkAuthException failed = authFailure;
        if (failed != null) {
            return CompletableFuture.failedFuture(failed);
        }
        CompletableFuture<ZooKeeper> connected = awaitConnection(timeout);
        return saslSection == null ? connected : connected.thenCompose(zk -> awaitAuthenticated(zk, timeout));
    }

    /**
     * ZooKeeper holds requests back while SASL runs and fails them if it fails; waiting here makes a lease taken
     * during the first authentication fail with the reason instead of handing out a session that is about to.
     */
    private CompletableFuture<ZooKeeper> awaitAuthenticated(ZooKeeper zk, Duration timeout) {
        CompletableFuture<Void> outcome = saslOutcome;
        if (outcome.isDone() && !outcome.isCompletedExceptionally()) {
            return CompletableFuture.completedFuture(zk);
        }
        return outcome.copy()
                .orTimeout(timeout.toMillis(), TimeUnit.MILLISECONDS)
                .thenApply(ignored -> zk);
    }

    private CompletableFuture<ZooKeeper> awaitConnection(Duration timeout) {
        if (closed) {
            return CompletableFuture.failedFuture(new IllegalStateException("the pool is closed"));
        }
        ZooKeeper live = connectedHandle();
        if (live != null) {
            return CompletableFuture.completedFuture(live);
        }
        CompletableFuture<Void> signal = connectedSignal;
        live = connectedHandle();
        if (live != null) {
            return CompletableFuture.completedFuture(live);
        }
        // A copy per caller: each waits its own deadline, and one caller timing out does not fail the others.
        return signal.copy()
                .orTimeout(timeout.toMillis(), TimeUnit.MILLISECONDS)
                .thenApply(ignored -> {
                    ZooKeeper zk = liveHandle;
                    return zk != null ? zk : currentHandle();
                });
    }

    /** Blocks until connected, up to {@code timeout}; true when connected. */
    public boolean blockUntilConnected(Duration timeout) throws InterruptedException {
        try {
            awaitConnected(timeout).get();
            return true;
        } catch (ExecutionException e) {
            if (e.getCause() instanceof TimeoutException) {
                explainConnectTimeout();
                return false;
            }
            if (e.getCause() instanceof ZkAuthException) {
                // The session's one failure, re-thrown with this caller's stack.
                ZkAuthException failure = (ZkAuthException) e.getCause();
                throw new ZkAuthException(failure.code(), failure.path(), failure.getMessage(), failure);
            }
            if (e.getCause() instanceof RuntimeException) {
                throw (RuntimeException) e.getCause();
            }
            throw new IllegalStateException(e.getCause());
        }
    }

    /**
     * ZooKeeper's client only logs a failed TLS handshake and tries again; one handshake of the pool's own finds out
     * why, for the "no session connected" error.
     */
    private void explainConnectTimeout() {
        if (config.tls() != null && !closed) {
            Duration probeTimeout = config.connectionTimeout().compareTo(Duration.ofSeconds(5)) < 0
                    ? config.connectionTimeout()
                    : Duration.ofSeconds(5);
            Throwable why = TlsProbe.diagnose(config, probeTimeout);
            if (why != null) {
                lastConnectFailure = why;
            }
        }
    }

    /** The current ZooKeeper handle (it changes after expiry). */
    public ZooKeeper currentHandle() {
        try {
            return client.getZookeeperClient().getZooKeeper();
        } catch (Exception e) {
            throw new IllegalStateException("no ZooKeeper handle for " + label, e);
        }
    }

    /**
     * Turns one handle's connection events into this session's state, on that handle's event thread, before Curator
     * sees them. The session id comes from the handle the event is about, never from whichever handle is current by
     * the time the event is handled, and events of a handle that has been replaced change nothing.
     */
    private void onHandleEvent(HandleWatcher watcher, Watcher.Event.KeeperState keeperState) {
        SessionEvent event;
        long previousId;
        long newId;
        boolean fresh = false;
        ZooKeeper zk = null;
        synchronized (stateLock) {
            if (closed || authFailure != null || watcher != currentWatcher) {
                return; // after an authentication failure only the pool's own LOST event stands
            }
            SessionState previous = state;
            previousId = sessionId;
            newId = previousId;
            SessionState next;
            switch (keeperState) {
                case SyncConnected:
                case ConnectedReadOnly:
                    zk = watcher.awaitHandle();
                    if (zk == null) {
                        return;
                    }
                    if (features.needsProbe()) {
                        // Nobody may use the connection before the pool knows what the servers can do: a request an
                        // old server does not know closes the connection under every lease.
                        ZooKeeper probed = zk;
                        features.probe(zk, scheduler, closing -> afterProbe(watcher, probed, keeperState, closing));
                        return;
                    }
                    lastConnectFailure = null;
                    newId = zk.getSessionId();
                    negotiatedTimeout = Duration.ofMillis(zk.getSessionTimeout());
                    server = serverOf(zk);
                    if (newId != previousId) {
                        fresh = true;
                        opened.incrementAndGet(); // before anyone can see the connection: a caller then finds it
                        // counted
                    }
                    sessionId = newId;
                    if (features.persistentWatches() == ServerFeatures.Known.NO) {
                        // Before anyone can use the connection: recipes made from now on use one-shot watches.
                        GuardedZookeeperClient.withoutPersistentWatches(client);
                    }
                    if (follower != null) {
                        // Queued before anyone can see the connection: a caller's requests go out after this
                        // connect-time read, never with it arriving in between.
                        follower.follow(zk);
                    }
                    liveHandle = zk;
                    unreachableSince = 0;
                    expiry.connected(zk);
                    next = keeperState == Watcher.Event.KeeperState.ConnectedReadOnly
                            ? SessionState.READ_ONLY
                            : previous == SessionState.CONNECTING ? SessionState.CONNECTED : SessionState.RECONNECTED;
                    connectedSignal.complete(null);
                    break;
                case Disconnected:
                    if (previous == SessionState.SUSPENDED
                            || previous == SessionState.LOST
                            || previous == SessionState.CONNECTING) {
                        return;
                    }
                    next = SessionState.SUSPENDED;
                    liveHandle = null;
                    receivedAtDisconnect = receivedPackets(watcher);
                    resetSignal();
                    long sid = previousId;
                    expiry.disconnected(negotiatedTimeout, () -> expireOnClient(watcher, sid));
                    break;
                case Expired:
                    if (previous == SessionState.LOST) {
                        return;
                    }
                    next = SessionState.LOST;
                    liveHandle = null;
                    // No packet from any server since the disconnect: no server reported it, the client declared it
                    // (the
                    // pool's detector, or Curator's own timer when it came first).
                    long received = receivedPackets(watcher);
                    silentExpiry = received >= 0 && received == receivedAtDisconnect;
                    resetSignal();
                    expiry.cancel();
                    break;
                default:
                    return;
            }
            state = next;
            boolean down = next == SessionState.SUSPENDED || next == SessionState.LOST;
            boolean byClient = next == SessionState.LOST && (expiringOnClient || silentExpiry);
            silentExpiry = false;
            expiringOnClient = false;
            event = new SessionEvent(
                    config.connectString(),
                    index,
                    previous,
                    next,
                    previousId,
                    newId,
                    down ? null : negotiatedTimeout,
                    down ? null : server,
                    Instant.now(),
                    byClient);
            if (fresh) {
                reportClampOnce(newId);
            }
        }
        if (event.state() == SessionState.LOST || event.state() == SessionState.SUSPENDED) {
            log.info("{}: {} (session 0x{})", label, event.state(), Long.toHexString(previousId));
        } else {
            log.info(
                    "{}: {} session 0x{} on {} (negotiated timeout {} ms){}",
                    label,
                    event.state(),
                    Long.toHexString(newId),
                    event.server(),
                    negotiatedTimeout.toMillis(),
                    fresh && previousId != 0 ? ", replacing expired session 0x" + Long.toHexString(previousId) : "");
        }
        gate(event);
        publish(event);
        publishInternal(event);
    }

    private volatile IntConsumer persistentWatchesDropped;

    /**
     * Told, on the thread that dropped them, when this session's handle dropped its persistent watches (a server of
     * the ensemble turned out to lack them, see {@link ServerFeatures#closedAfterSetWatches2}): the watches' owner arms
     * them again as one-shot watches.
     *
     * @param listener gets how many were dropped
     */
    public void onPersistentWatchesDropped(IntConsumer listener) {
        this.persistentWatchesDropped = listener;
    }

    void persistentWatchesDropped(int count) {
        IntConsumer listener = persistentWatchesDropped;
        if (listener != null) {
            listener.accept(count);
        }
    }

    /**
     * Runs the state gates for {@code event} on this thread, before anyone hears of it: what a listener does on
     * hearing it (read a cache) then sees the state change already made.
     */
    private void gate(SessionEvent event) {
        for (Consumer<SessionEvent> g : stateGates) {
            try {
                g.accept(event);
            } catch (RuntimeException e) {
                log.warn("{}: a session state gate threw on {}", label, event, e);
            }
        }
    }

    /**
     * Engine components (caches) whose own state must change before any listener hears of a session event: called
     * in order on the thread that publishes the event (ZooKeeper's event thread), so they must be quick and never
     * block or call ZooKeeper. Slower work belongs in an {@link #addInternalListener internal listener}.
     */
    public void addStateGate(Consumer<SessionEvent> gate) {
        stateGates.add(gate);
    }

    public void removeStateGate(Consumer<SessionEvent> gate) {
        stateGates.remove(gate);
    }

    /** Tells every subscriber of {@code event}, in order; a subscriber that throws does not stop the others. */
    private void publish(SessionEvent event) {
        for (SessionEvents s : subscribers) {
            try {
                s.onStateChange(this, event);
            } catch (RuntimeException e) {
                log.warn("{}: a session subscriber threw on {}", label, event, e);
            }
        }
    }

    /** Adds a subscriber to this session's events; see {@link SessionEvents} for the threading. */
    public void subscribe(SessionEvents subscriber) {
        subscribers.add(subscriber);
    }

    /** Hands {@code event} to the engine's own listeners (caches), in order, on the session's internal thread. */
    private void publishInternal(SessionEvent event) {
        if (internalListeners.isEmpty()) {
            return;
        }
        try {
            internalExecutor.execute(() -> {
                for (Consumer<SessionEvent> l : internalListeners) {
                    try {
                        l.accept(event);
                    } catch (RuntimeException e) {
                        log.warn("{}: an internal session listener threw", label, e);
                    }
                }
            });
        } catch (RejectedExecutionException e) {
            // closing
        }
    }

    /** Engine components (caches) that follow this session's state; called in order on {@link #internalExecutor()}. */
    public void addInternalListener(Consumer<SessionEvent> listener) {
        internalListeners.add(listener);
    }

    public void removeInternalListener(Consumer<SessionEvent> listener) {
        internalListeners.remove(listener);
    }

    /** The thread on which the engine's own reactions to this session (cache invalidation) run, in order. */
    public Executor internalExecutor() {
        return internalExecutor;
    }

    private void resetSignal() {
        if (connectedSignal.isDone()) {
            connectedSignal = new CompletableFuture<>();
        }
    }

    private void reportClampOnce(long id) {
        Duration requested = config.sessionTimeout();
        if (negotiatedTimeout != null && !negotiatedTimeout.equals(requested) && clampReportedFor != id) {
            clampReportedFor = id;
            log.warn(
                    "{}: the server clamped the session timeout: requested {} ms, negotiated {} ms "
                            + "(the server's minSessionTimeout/maxSessionTimeout bound it; sessions now expire after {} ms "
                            + "without a connection)",
                    label,
                    requested.toMillis(),
                    negotiatedTimeout.toMillis(),
                    negotiatedTimeout.toMillis());
            Duration negotiated = negotiatedTimeout;
            for (SessionEvents s : subscribers) {
                s.onTimeoutClamped(this, requested, negotiated);
            }
        }
    }

    public void close() {
        synchronized (stateLock) {
            if (closed) {
                return;
            }
            closed = true;
            liveHandle = null;
        }
        expiry.close();
        ScheduledFuture<?> checks = missedDisconnects;
        if (checks != null) {
            checks.cancel(false);
        }
        if (saslSection != null) {
            JaasSections.release(config.sasl());
        }
        SessionState previous = state;
        long id = sessionId;
        state = SessionState.CLOSED;
        if (started) {
            closeWithin(closeTimeout);
        }
        runSafe.shutdown();
        connectedSignal.completeExceptionally(new IllegalStateException("the pool is closed"));
        internalExecutor.shutdown();
        try {
            internalExecutor.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        publish(new SessionEvent(
                config.connectString(), index, previous, SessionState.CLOSED, id, 0, null, null, Instant.now()));
    }

    /**
     * Closes the client, interrupting this thread if the close has not returned within {@code bound}, and again every
     * 100 ms until it has: ZooKeeper's close request is interruptible, and an interrupt ends it by dropping the
     * connection; the close then joins ZooKeeper's send thread, which may still be inside the resolver (a name lookup
     * that blocks) or the connection attempt, so that wait is cut short too and the send thread ends by itself when its
     * attempt returns. The interrupts are ours only: cleared when delivered, and a caller's own interrupt status is
     * kept.
     */
    private void closeWithin(Duration bound) {
        Thread closing = Thread.currentThread();
        boolean interruptedBefore = Thread.interrupted();
        // 0 closing, 1 closed, 2 the bound passed and an interrupt is being delivered, 3 delivered (and still closing)
        AtomicInteger stage = new AtomicInteger();
        ScheduledFuture<?> watchdog = null;
        try {
            watchdog = scheduler.scheduleWithFixedDelay(
                    () -> {
                        int now = stage.get();
                        if ((now == 0 || now == 3) && stage.compareAndSet(now, 2)) {
                            closing.interrupt();
                            stage.set(3);
                        }
                    },
                    bound.toMillis(),
                    100,
                    TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException e) {
            // the pool's scheduler is already down: close without the bound
        }
        try {
            GuardedZookeeperClient.asPool(client::close);
        } finally {
            if (watchdog != null) {
                watchdog.cancel(false);
            }
            int last;
            while (true) {
                last = stage.get();
                if (last == 2) {
                    Thread.onSpinWait(); // between the watchdog's CAS and its interrupt: a few instructions
                } else if (stage.compareAndSet(last, 1)) {
                    break;
                }
            }
            if (last == 3) {
                Thread.interrupted();
                log.info(
                        "{}: the server did not answer the session's close within {} ms (or the connection attempt"
                                + " did not return); the connection is dropped and the server ends the session at its"
                                + " expiry",
                        label,
                        bound.toMillis());
            }
            if (interruptedBefore) {
                closing.interrupt();
            }
        }
    }

    /**
     * The live handle when it is connected now, else null (then {@link #awaitConnected} waits for one). ZooKeeper's own
     * state of the handle decides, so a handle Curator replaced after an expiry (closed) or one that just lost its
     * connection is never returned, even before Curator's state event for it has been handled.
     */
    @Override
    public ZooKeeper connectedHandle() {
        ZooKeeper zk = liveHandle;
        return zk != null && zk.getState().isConnected() && authFailure == null ? zk : null;
    }

    /** Connected now, by this session's own state (set from the handle's events before Curator hears of them). */
    public boolean isConnected() {
        return started && !closed && connectedHandle() != null;
    }

    /**
     * Why the server refused this session's credentials (or its SASL login failed), or null. Once set, every lease and
     * operation of the session fails at once with it, and the pool does not try the credentials again.
     */
    @Override
    public ZkAuthException authFailure() {
        return authFailure;
    }

    /** A fresh client config for a new handle: this ensemble's TLS and SASL settings, nothing JVM-wide. */
    ZKClientConfig newClientConfig() {
        if (saslSection != null) {
            JaasSections.ensureInstalled();
            saslOutcome = new CompletableFuture<>();
        }
        return SessionClientConfig.forEnsemble(config, saslSection);
    }

    /**
     * Called on ZooKeeper's event thread for {@code AuthFailed}: the server refused the credentials (the handle is
     * dead), or the SASL login failed on this side (ZooKeeper then goes on without an identity, so the handle is
     * closed here). The failure is final: credentials that were refused are not tried again, since repeated failed
     * logins can lock an account and the same secret cannot start working on its own.
     */
    /** For the {@link HandleFactory}: a watcher for the handle about to be made, which becomes the current one. */
    HandleWatcher newHandleWatcher(Watcher curator) {
        HandleWatcher w = new HandleWatcher(curator, saslOutcome);
        synchronized (stateLock) {
            currentWatcher = w;
        }
        return w;
    }

    /** For the {@link HandleFactory}: why the last handle could not be made, or null once one was. */
    void handleMade(Throwable failure) {
        lastHandleFailure = failure;
    }

    private void onAuthFailed(HandleWatcher watcher, SessionAuthentication.Failure kind) {
        ZooKeeper zk = watcher.handleOrNull();
        if (kind == SessionAuthentication.Failure.REFUSED_OR_LOGIN_FAILED) {
            // A refusal kills the handle; after a failed login ZooKeeper goes on connecting without an identity (a
            // login fails as the handle starts, possibly before its constructor has even returned it).
            kind = zk == null || zk.getState().isAlive()
                    ? SessionAuthentication.Failure.LOGIN_FAILED
                    : SessionAuthentication.Failure.REFUSED;
        }
        ZkAuthException failure = SessionAuthentication.failure(config, kind);
        SessionEvent event = null;
        synchronized (stateLock) {
            if (closed || authFailure != null) {
                watcher.outcome.completeExceptionally(authFailure != null ? authFailure : failure);
                return;
            }
            authFailure = failure;
            SessionState previous = state;
            if (previous != SessionState.LOST) {
                state = SessionState.LOST;
                event = new SessionEvent(
                        config.connectString(),
                        index,
                        previous,
                        SessionState.LOST,
                        sessionId,
                        sessionId,
                        null,
                        null,
                        Instant.now());
            }
        }
        log.error("{}: {}", label, failure.getMessage());
        if (event != null) {
            gate(event);
            publish(event);
        }
        watcher.outcome.completeExceptionally(failure);
        connectedSignal.completeExceptionally(failure);
        watcher.failed = true;
        stopAfterAuthFailure(zk);
    }

    /**
     * Nothing of this session may try again: not the handle (after a failed login ZooKeeper would go on without an
     * identity; after a refusal it sees too late, it reconnects), not Curator (it would replace an expired handle).
     */
    private void stopAfterAuthFailure(ZooKeeper zk) {
        if (zk != null && zk.getState().isAlive()) {
            // Dead at once, as Curator itself ends handles: a reconnect the handle already scheduled is refused.
            zk.getTestable().injectSessionExpiration();
        }
        // Closing Curator waits for ZooKeeper's event thread, which may be this one; any other thread will do.
        DaemonThreads.start(label + "-auth-failed-close", () -> GuardedZookeeperClient.asPool(client::close));
    }

    /**
     * The watcher of one handle: turns its connection and authentication events into this session's state, then passes
     * every event on to Curator.
     */
    final class HandleWatcher implements Watcher {
        private final Watcher curator;
        private final CompletableFuture<Void> outcome;
        /** Completes once the handle's constructor has returned (ZooKeeper can report events before that). */
        private final CompletableFuture<ZooKeeper> handle = new CompletableFuture<>();

        private volatile boolean failed;
        private final AtomicLong disconnects = new AtomicLong();
        /** The SASL client of the current connection, to read its verdict if the connection drops. */
        private volatile ZooKeeperSaslClient connectionSasl;

        HandleWatcher(Watcher curator, CompletableFuture<Void> outcome) {
            this.curator = curator;
            this.outcome = outcome;
        }

        /** The handle is known only once its constructor returned, and a failed login can be reported before that. */
        void attach(ZooKeeper zk) {
            handle.complete(zk);
            if (failed) {
                stopAfterAuthFailure(zk);
            }
        }

        /** Curator never makes a handle whose constructor fails after reporting an event: no handle is an edge case. */
        void abandon() {
            handle.complete(null);
        }

        /** The handle, waiting (microseconds) for its constructor to return; null if it failed. */
        ZooKeeper awaitHandle() {
            ZooKeeper zk = handle.getNow(null);
            if (zk != null) {
                return zk;
            }
            try {
                return handle.get(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return null;
            } catch (ExecutionException | TimeoutException e) {
                return null;
            }
        }

        ZooKeeper handleOrNull() {
            return handle.getNow(null);
        }

        /** How many times this handle's connection was lost (Disconnected events). */
        long disconnects() {
            return disconnects.get();
        }

        @Override
        public void process(WatchedEvent event) {
            if (event.getType() == Watcher.Event.EventType.None) {
                if (event.getState() == Watcher.Event.KeeperState.SaslAuthenticated) {
                    outcome.complete(null);
                } else if (event.getState() == Watcher.Event.KeeperState.AuthFailed) {
                    onAuthFailed(this, SessionAuthentication.Failure.REFUSED_OR_LOGIN_FAILED);
                } else if (event.getState() == Watcher.Event.KeeperState.SyncConnected
                        || event.getState() == Watcher.Event.KeeperState.ConnectedReadOnly) {
                    if (saslSection != null) {
                        ZooKeeper zk = awaitHandle();
                        connectionSasl = zk == null ? null : zk.getSaslClient();
                    }
                    if (stillConnected(this)) {
                        // Connected again without a Disconnected before: ZooKeeper's client dropped it (see
                        // missedDisconnect).
                        log.warn(
                                "{}: the connection was lost and made again without ZooKeeper reporting the loss; reporting it "
                                        + "now",
                                label);
                        onHandleEvent(this, Watcher.Event.KeeperState.Disconnected);
                    }
                } else if (event.getState() == Watcher.Event.KeeperState.Disconnected) {
                    disconnects.incrementAndGet();
                    // On the Netty socket the server's close can overtake ZooKeeper's own check of the SASL verdict: it
                    // then
                    // reports a plain disconnect and would try again. The connection's SASL client still knows.
                    ZooKeeperSaslClient sasl = connectionSasl;
                    connectionSasl = null;
                    if (sasl != null && sasl.isFailed()) {
                        onAuthFailed(this, SessionAuthentication.Failure.REFUSED);
                    }
                } else if (event.getState() == null) {
                    // ZooKeeper reports a SASL client that could not even start (say, a mechanism refused on this side)
                    // as an
                    // event without a state; Curator would fail on it. It is an authentication failure: say so, to
                    // both.
                    onAuthFailed(this, SessionAuthentication.Failure.SASL_DID_NOT_START);
                    curator.process(
                            new WatchedEvent(Watcher.Event.EventType.None, Watcher.Event.KeeperState.AuthFailed, null));
                    return;
                }
                if (event.getState() != null) {
                    onHandleEvent(this, event.getState());
                }
            }
            curator.process(event);
        }
    }

    /** Packets the handle had received when the connection was lost; -1 when not known. Guarded by stateLock. */
    private long receivedAtDisconnect = -1;

    private boolean silentExpiry;

    private static long receivedPackets(HandleWatcher watcher) {
        ZooKeeper zk = watcher.handleOrNull();
        return zk instanceof BudgetedZooKeeper ? ((BudgetedZooKeeper) zk).receivedPackets() : -1;
    }

    /** True when the session is in a connected state for {@code watcher}'s handle. */
    private boolean stillConnected(HandleWatcher watcher) {
        synchronized (stateLock) {
            return watcher == currentWatcher
                    && (state == SessionState.CONNECTED
                            || state == SessionState.RECONNECTED
                            || state == SessionState.READ_ONLY);
        }
    }

    /** Consecutive checks that found the live handle without a connection while the session was connected. */
    private int disconnectedChecks;

    /**
     * ZooKeeper's client can lose a connection without reporting it: when a request that removes a watcher locally
     * ({@code removeWatches(..., local = true)}, which Curator recipes or a lease holder may send) is cut by the loss,
     * the client delivers the removal as an event in the Disconnected state and then drops the connection's own
     * Disconnected event as a repeat. The session would stay "connected" (no SUSPENDED, no client-side expiry) until a
     * reconnection. So the live handle's state is checked every 100 ms: not connected at two checks in a row while the
     * session is, the loss is handled as if reported, for the pool and for Curator.
     */
    private void checkMissedDisconnect() {
        HandleWatcher watcher;
        ZooKeeper zk;
        synchronized (stateLock) {
            watcher = currentWatcher;
            zk = liveHandle;
            ZooKeeper.States handleState = zk == null ? null : zk.getState();
            if (closed
                    || watcher == null
                    || handleState == null
                    || handleState.isConnected()
                    || !handleState.isAlive()
                    || !(state == SessionState.CONNECTED
                            || state == SessionState.RECONNECTED
                            || state == SessionState.READ_ONLY)) {
                disconnectedChecks = 0;
                return;
            }
            if (++disconnectedChecks < 2) {
                return;
            }
            disconnectedChecks = 0;
        }
        log.warn("{}: the connection was lost without ZooKeeper reporting it; reporting it now", label);
        watcher.process(new WatchedEvent(Watcher.Event.EventType.None, Watcher.Event.KeeperState.Disconnected, null));
    }

    private final AtomicInteger leases = new AtomicInteger();

    private final AtomicInteger coordinationParticipants = new AtomicInteger();

    /**
     * Elections and locks of the SDK on this session, open: the pool's rebalancing does not move such a session (a
     * move is a reconnect, whose SUSPENDED would end their turns).
     */
    public int coordinationParticipants() {
        return coordinationParticipants.get();
    }

    public void coordinationOpened() {
        coordinationParticipants.incrementAndGet();
    }

    public void coordinationClosed() {
        coordinationParticipants.decrementAndGet();
    }

    /** Leases pinned to this session and not closed. */
    public int leases() {
        return leases.get();
    }

    public void leaseOpened() {
        leases.incrementAndGet();
    }

    public void leaseClosed() {
        leases.decrementAndGet();
    }

    // ---------------------------------------------------------------- client-side expiry

    /** The expiry the {@link ExpiryDetector} found due: the handle ends as if a server had said so. */
    private void expireOnClient(HandleWatcher watcher, long sid) {
        ZooKeeper zk;
        synchronized (stateLock) {
            if (closed || state != SessionState.SUSPENDED || sessionId != sid || watcher != currentWatcher) {
                return;
            }
            zk = watcher.handleOrNull();
            if (zk == null) {
                return;
            }
            expiringOnClient = true;
        }
        log.warn(
                "{}: no contact with the ensemble for the session timeout ({} ms) since the last one: session 0x{} has "
                        + "expired on the servers; declaring it lost",
                label,
                negotiatedTimeout.toMillis(),
                Long.toHexString(sid));
        // As Curator does for its own timer: the handle ends as if the server had said so; Curator makes a new one.
        zk.getTestable().injectSessionExpiration();
    }

    // ---------------------------------------------------------------- reachability

    /** A caller waited the connection timeout and no session connected: calls fail fast until one does. */
    @Override
    public void markUnreachable() {
        if (unreachableSince == 0 && connectedHandle() == null) {
            unreachableSince = System.nanoTime();
            log.warn(
                    "{}: no session connected within the connection timeout of {} ms: calls fail fast until one does",
                    label,
                    config.connectionTimeout().toMillis());
        }
    }

    /** True while the ensemble is known unreachable: a connection timeout passed and no session connected since. */
    @Override
    public boolean isKnownUnreachable() {
        return unreachableSince != 0;
    }

    @Override
    public long unreachableForMillis() {
        long since = unreachableSince;
        return since == 0
                ? 0
                : TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - since)
                        + config.connectionTimeout().toMillis();
    }

    // ---------------------------------------------------------------- read-your-writes

    @Override
    public long seenZxid(ZooKeeper zk) {
        if (zk.getState() == ZooKeeper.States.CONNECTEDREADONLY) {
            // A read-only server refuses a sync (NOTREADONLY) and cannot catch up while it is cut off from the
            // majority: a read there is served as that server has it (README, read-only mode), never held up.
            return Long.MAX_VALUE;
        }
        return readYourWrites.seenZxid(zk);
    }

    /** What the ensemble's servers can do (shared by the ensemble's sessions). */
    public ServerFeatures features() {
        return features;
    }

    @Override
    public CompletableFuture<Void> catchUp(ZooKeeper zk, long zxid, LongSupplier target) {
        return readYourWrites.catchUp(zk, zxid, target);
    }

    /** ZooKeeper sessions this pooled session has had: the first and each replacement after an expiry. */
    public long sessionsOpened() {
        return opened.get();
    }

    public boolean isStarted() {
        return started;
    }

    @Override
    public boolean isClosed() {
        return closed;
    }

    public SessionState state() {
        return state;
    }

    /** The id of the current (or last) session; 0 before the first connection. */
    public long sessionId() {
        return sessionId;
    }

    public Duration negotiatedTimeout() {
        return negotiatedTimeout;
    }

    /**
     * How long the connection may stay silent, requests waiting, before it is dropped ({@link HungServerCheck}).
     *
     * @return the hung-server bound
     */
    public Duration hungServerBound() {
        return hungServer.bound();
    }

    /** The server of the live connection ({@code host:port} as in the connect string), or null while disconnected. */
    public String connectedServer() {
        ZooKeeper zk = connectedHandle();
        return zk == null || !started || closed ? null : serverOf(zk);
    }

    private static String serverOf(ZooKeeper zk) {
        if (zk instanceof BudgetedZooKeeper) {
            WeightedHostProvider provider = ((BudgetedZooKeeper) zk).weightedHostProvider();
            return provider.isConnected() ? provider.currentServer() : null;
        }
        return null;
    }

    /**
     * Why the last attempt to create a ZooKeeper handle failed (connection budget exhausted, session creation rate
     * limited), or null. Reported with "no connected session" errors, which would otherwise hide the reason.
     */
    @Override
    public Throwable lastHandleFailure() {
        Throwable handleFailure = lastHandleFailure;
        return handleFailure != null ? handleFailure : lastConnectFailure;
    }

    public CuratorFramework client() {
        return client;
    }

    public CuratorFramework guardedClient() {
        start();
        return guarded;
    }

    @Override
    public EnsembleConfig config() {
        return config;
    }

    @Override
    public String identities() {
        return SessionAuthentication.identities(config);
    }

    public String label() {
        return label;
    }

    public int index() {
        return index;
    }

    @Override
    public String toString() {
        return label + "{" + state + ", session 0x" + Long.toHexString(sessionId) + ", server " + server + "}";
    }
}
