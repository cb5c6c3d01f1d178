package dev.zksdk.internal.cache;

import com.github.benmanes.caffeine.cache.AsyncCache;
import com.github.benmanes.caffeine.cache.AsyncCacheLoader;
import com.github.benmanes.caffeine.cache.AsyncLoadingCache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Ticker;
import com.github.benmanes.caffeine.cache.stats.CacheStats;
import dev.zksdk.SessionEvent;
import dev.zksdk.SessionState;
import dev.zksdk.WatchEvent;
import dev.zksdk.WatchHandle;
import dev.zksdk.ZkException;
import dev.zksdk.ZkInterruptedException;
import dev.zksdk.ZkNoNodeException;
import dev.zksdk.cache.CacheConfig;
import dev.zksdk.cache.CacheMetrics;
import dev.zksdk.cache.CachedNode;
import dev.zksdk.cache.ZkCache;
import dev.zksdk.cache.ZkTreeCache;
import dev.zksdk.internal.Validation;
import dev.zksdk.internal.ZkAsync;
import dev.zksdk.internal.pipeline.Calls;
import dev.zksdk.internal.pipeline.OperationRunner;
import dev.zksdk.internal.pipeline.ZkCall;
import dev.zksdk.internal.recovery.RegisteredWatches;
import dev.zksdk.internal.recovery.WatchMode;
import dev.zksdk.internal.session.SharedSession;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.function.Consumer;
import java.util.function.Function;
import org.apache.zookeeper.KeeperException.Code;

/**
 * The engine behind {@link ZkCache} and {@link ZkTreeCache}: a Caffeine {@link AsyncLoadingCache} (single-flight
 * loads, size bound, statistics) whose entries are stamped with the connection generation they were loaded in, and
 * a persistent watch plus Curator connection states that decide which generation may be served (see {@link ZkCache}
 * for the guarantee). Not API: obtain caches from {@link dev.zksdk.ZkLease#cache} and
 * {@link dev.zksdk.ZkLease#treeCache}; {@link #open} is public only so that the lease, in another package, can call it.
 *
 * <p>Why stamps as well as invalidation: invalidating every entry on a reconnect takes a moment, and a load in flight
 * across a disconnection may be answered either before it or on the new connection. A value is served only while the
 * state it was loaded in is still current, which closes those windows without locks on the read path (one volatile
 * read and one map lookup on a hit).
 */
public class WatchedCache implements ZkCache {

    private final String root;
    private final boolean tree;
    private final SharedSession session;
    private final RegisteredWatches watches;
    private final OperationRunner runner;
    private final Function<String, ZkCall<CachedNode>> nodeReader;
    /**
     * Every write the pool completed before the cache was made: its loads see them (read-your-writes, as a lease's
     * reads), syncing first when the session's server may be behind.
     */
    private final long readAfterZxid;

    private final Executor completions;
    private final Ticker ticker;
    private final long boundNanos;
    private final LoadStats stats;
    private final AsyncLoadingCache<Key, Loaded> cache;
    private final ConcurrentMap<Key, CompletableFuture<Loaded>> map;
    private final Object stateLock = new Object();
    /** Set by the state gate when entries became unservable; cleared by the internal listener that frees them. */
    private final AtomicBoolean invalidationPending = new AtomicBoolean();
    /** Changes what may be served, on the publishing thread, before any listener hears of the event. */
    private final Consumer<SessionEvent> stateGate = event -> onConnectionState(event.state());
    /** Frees what the gate made unservable, on the session's internal thread. */
    private final Consumer<SessionEvent> connectionListener = event -> freeUnservable();

    private volatile State state = State.INITIAL;
    /**
     * Change notifications by key, striped: {@code changedAt[stripe(key)]} is the {@link #changes} count of the newest
     * notification for a key of that stripe. A load remembers the count when it starts; a value whose key changed after
     * that is never served, even when the notification arrived while Caffeine was still storing the load (and so could
     * not reload it). A collision only costs a reload.
     */
    private final AtomicLongArray changedAt = new AtomicLongArray(CHANGE_STRIPES);

    private final AtomicLong changes = new AtomicLong();
    private static final int CHANGE_STRIPES = 1024;
    private volatile WatchHandle watch;
    private volatile boolean closed;

    WatchedCache(
            SharedSession session,
            RegisteredWatches watches,
            OperationRunner runner,
            Function<String, ZkCall<CachedNode>> nodeReader,
            Executor completions,
            String root,
            boolean tree,
            CacheConfig config) {
        this.session = session;
        this.watches = watches;
        this.runner = runner;
        this.nodeReader = nodeReader;
        this.completions = completions;
        this.readAfterZxid = runner.completedWriteZxid();
        this.root = root;
        this.tree = tree;
        this.ticker = config.ticker();
        this.boundNanos = saturatedNanos(config.maxDisconnectedStaleness());
        this.stats = new LoadStats(config.recordStats());
        Caffeine<Object, Object> builder = Caffeine.newBuilder()
                .maximumSize(config.maximumSize())
                // Maintenance (eviction) is a few map operations: run it on the calling thread rather than the common
                // pool.
                .executor(Runnable::run);
        if (config.recordStats()) {
            builder.recordStats(() -> stats);
        }
        this.cache = builder.buildAsync((AsyncCacheLoader<Key, Loaded>) (key, executor) -> load(key, false));
        this.map = cache.asMap();
    }

    /**
     * Opens a cache on {@code session}: registers for connection states, arms the watch (waiting, as
     * {@link dev.zksdk.ZkLease#watch} does, until the server has it) and starts serving.
     *
     * @param nodeReader the call that reads a node's data and stat in one round trip; null for no node
     * @param completions where the futures of the {@code ...Async} reads complete
     * @throws dev.zksdk.ZkUnavailableException when the watch cannot be armed within the connection and session timeout
     */
    public static WatchedCache open(
            SharedSession session,
            RegisteredWatches watches,
            OperationRunner runner,
            Function<String, ZkCall<CachedNode>> nodeReader,
            Executor completions,
            String path,
            boolean tree,
            CacheConfig config) {
        WatchedCache c = tree
                ? new WatchedTreeCache(session, watches, runner, nodeReader, completions, path, config)
                : new WatchedCache(session, watches, runner, nodeReader, completions, path, false, config);
        c.start();
        return c;
    }

    private void start() {
        // Listen before arming, so no state change between the two goes unseen.
        session.addStateGate(stateGate);
        session.addInternalListener(connectionListener);
        try {
            watch = watches.add(root, this::onWatchEvent, tree ? WatchMode.TREE : WatchMode.NODE, true);
        } catch (RuntimeException e) {
            session.removeStateGate(stateGate);
            session.removeInternalListener(connectionListener);
            throw e;
        }
        long sid = liveSessionId();
        synchronized (stateLock) {
            State s = state;
            state = session.isConnected() ? s.watched(sid) : s.unwatched(ticker.read(), sid);
        }
    }

    // ---------------------------------------------------------------- reads

    @Override
    public String path() {
        return root;
    }

    @Override
    public CachedNode get() {
        return get(root);
    }

    @Override
    public CachedNode get(String path) {
        Key key = new Key(path, false);
        return await(lookup(key), path).node();
    }

    @Override
    public CompletableFuture<CachedNode> getAsync(String path) {
        Key key = new Key(path, false);
        return extract(lookup(key), l -> l.node());
    }

    @Override
    public CachedNode getCurrent(String path) {
        return await(loadCurrent(new Key(path, false)), path).node();
    }

    @Override
    public CompletableFuture<CachedNode> getCurrentAsync(String path) {
        return extract(loadCurrent(new Key(path, false)), l -> l.node());
    }

    List<String> children(String path) {
        return await(lookup(new Key(path, true)), path).children(path);
    }

    CompletableFuture<List<String>> childrenAsync(String path) {
        return extract(lookup(new Key(path, true)), l -> l.children(path));
    }

    List<String> childrenCurrent(String path) {
        return await(loadCurrent(new Key(path, true)), path).children(path);
    }

    /**
     * The entry for {@code key}: a servable cached value, a load in flight, or a new load. The hit path is one volatile
     * read and one lookup; the path is validated only when it misses (only validated paths are ever cached).
     */
    private CompletableFuture<Loaded> lookup(Key key) {
        checkOpen();
        CompletableFuture<Loaded> f = key.path == null ? null : map.get(key);
        if (f != null) {
            if (!f.isDone()) {
                stats.recordHits(1); // joins the load in flight
                return f;
            }
            if (servable(key, f.join(), state)) {
                stats.recordHits(1);
                return f;
            }
            map.remove(key, f);
        }
        checkCovered(key.path);
        f = cache.get(key);
        settle(key, f);
        return f;
    }

    /** Sync, then read; the result replaces the entry, so readers that come later join it rather than the old value. */
    private CompletableFuture<Loaded> loadCurrent(Key key) {
        checkOpen();
        checkCovered(key.path);
        CompletableFuture<Loaded> f = load(key, true);
        cache.put(key, f);
        settle(key, f);
        return f;
    }

    private CompletableFuture<Loaded> load(Key key, boolean current) {
        State at = state;
        long stamp = at.watched ? at.gen : -1;
        long seen = changes.get();
        long start = ticker.read();
        CompletableFuture<?> read;
        try {
            if (current) {
                read = runner.execute(session, new Calls.Sync(key.path)).thenCompose(v -> read(key));
            } else {
                read = read(key);
            }
        } catch (RuntimeException e) {
            read = CompletableFuture.failedFuture(e);
        }
        CompletableFuture<Loaded> out = new CompletableFuture<>();
        AtomicBoolean returned = new AtomicBoolean();
        read.whenComplete((value, error) -> {
            long took = ticker.read() - start;
            Loaded loaded;
            Throwable cause = error == null ? null : OperationRunner.unwrap(error);
            if (cause == null) {
                loaded = key.children
                        ? Loaded.children(sorted(value), stamp, seen)
                        : Loaded.node((CachedNode) value, stamp, seen);
                stats.loadSucceeded(took);
            } else if (key.children && cause instanceof ZkNoNodeException) {
                loaded = Loaded.children(null, stamp, seen);
                stats.loadSucceeded(took);
            } else {
                loaded = Loaded.failed(cause);
                stats.loadFailed(took);
            }
            out.complete(loaded);
            // Completed while the loader is still running means inside Caffeine's compute for this key: touching the
            // map
            // there would be a recursive update; the caller settles the entry once Caffeine has stored it.
            if (returned.get()) {
                settle(key, out);
            }
        });
        returned.set(true);
        return out;
    }

    private CompletableFuture<?> read(Key key) {
        ZkCall<?> call = key.children ? new Calls.GetChildren(key.path) : nodeReader.apply(key.path);
        call.readAfterZxid = readAfterZxid;
        return runner.execute(session, call);
    }

    @SuppressWarnings("unchecked")
    private static List<String> sorted(Object children) {
        List<String> names = new ArrayList<>((List<String>) children);
        Collections.sort(names);
        return List.copyOf(names);
    }

    /** Drops a completed entry that must not stay: a failure, or a value loaded while the watch was not armed. */
    private void settle(Key key, CompletableFuture<Loaded> f) {
        if (!f.isDone()) {
            return;
        }
        Loaded l = f.join();
        State s = state;
        if (l.failure != null
                || l.stamp < 0
                || (l.stamp != s.gen && l.stamp != s.lastWatchedGen)
                || changedSince(key, l)) {
            map.remove(key, f);
        }
    }

    private int stripe(Key key) {
        return (key.hashCode() * 0x9E3779B9 >>> 16) & (CHANGE_STRIPES - 1);
    }

    /** A notification for {@code key}: loads that started before it are stale from now on. */
    private void changed(Key key) {
        long n = changes.incrementAndGet();
        changedAt.accumulateAndGet(stripe(key), n, Math::max);
    }

    private boolean changedSince(Key key, Loaded l) {
        return changedAt.get(stripe(key)) > l.changesSeen;
    }

    private boolean servable(Key key, Loaded l, State s) {
        if (l.failure != null || l.stamp < 0 || changedSince(key, l)) {
            return false;
        }
        if (s.watched) {
            return l.stamp == s.gen;
        }
        if (l.stamp != s.lastWatchedGen) {
            return false;
        }
        if (ticker.read() - s.disconnectedAt < boundNanos) {
            return true;
        }
        expireDisconnected(s);
        return false;
    }

    /** The bound has passed: nothing held may be served until reconnected, so free the memory too. */
    private void expireDisconnected(State seen) {
        synchronized (stateLock) {
            if (state != seen) {
                return;
            }
            state = seen.nothingServable();
        }
        cache.synchronous().invalidateAll();
    }

    // ---------------------------------------------------------------- watch and connection state

    private void onWatchEvent(WatchEvent event) {
        if (closed) {
            return;
        }
        String p = event.path();
        switch (event.type()) {
            case RESYNC:
                resynced();
                break;
            case DATA_CHANGED:
                reloadIfPresent(new Key(p, false));
                break;
            case CREATED:
                reloadIfPresent(new Key(p, false));
                parentChanged(p);
                break;
            case DELETED:
                changed(new Key(p, false));
                changed(new Key(p, true));
                cache.synchronous().invalidate(new Key(p, false));
                cache.synchronous().invalidate(new Key(p, true));
                parentChanged(p);
                break;
            case CHILDREN_CHANGED:
                reloadIfPresent(new Key(p, true));
                break;
            default:
                break;
        }
    }

    private void parentChanged(String p) {
        if (tree && !p.equals(root)) {
            reloadIfPresent(new Key(Calls.parentOf(p), true));
        }
    }

    /** Keeps a changed entry warm: readers from now on join the new load instead of seeing the old value. */
    private void reloadIfPresent(Key key) {
        changed(key);
        if (map.containsKey(key)) {
            CompletableFuture<Loaded> f = load(key, false);
            cache.put(key, f);
            settle(key, f);
        }
    }

    private void onConnectionState(SessionState newState) {
        if (closed) {
            return;
        }
        switch (newState) {
            case SUSPENDED:
            case LOST:
                synchronized (stateLock) {
                    state = state.disconnected(ticker.read());
                }
                break;
            case CONNECTED:
            case RECONNECTED:
            case READ_ONLY:
                reconnected();
                break;
            default:
                break;
        }
    }

    private void freeUnservable() {
        if (invalidationPending.getAndSet(false)) {
            cache.synchronous().invalidateAll();
        }
    }

    /**
     * Connected again. ZooKeeper re-registers a persistent watch on a same-session reconnect but does not report what
     * changed meanwhile, so nothing from before is served; with a new session the watch is not armed until RESYNC.
     * Runs as a state gate, before any listener hears of the reconnect; the entries it made unservable are freed
     * afterwards on the internal thread.
     */
    private void reconnected() {
        long sid = liveSessionId();
        boolean connected = session.isConnected();
        synchronized (stateLock) {
            State s = state;
            if (s.watched && connected && sid == s.armedSession) {
                // No disconnection seen since the watch was armed: a late CONNECTED that predates this cache.
                return;
            }
            state = connected && sid != 0 && sid == s.armedSession
                    ? s.watched(sid)
                    : s.unwatched(ticker.read(), s.armedSession);
        }
        invalidationPending.set(true);
    }

    /** The watch is armed in a new session (RESYNC comes after the re-arm): what is loaded from now on is watched. */
    private void resynced() {
        // The id read here is the live one; were the session replaced again in between, another RESYNC follows.
        long sid = liveSessionId();
        boolean connected = session.isConnected();
        synchronized (stateLock) {
            State s = state;
            state = connected ? s.watched(sid) : s.unwatched(ticker.read(), sid);
        }
        cache.synchronous().invalidateAll();
    }

    private long liveSessionId() {
        try {
            return session.currentHandle().getSessionId();
        } catch (RuntimeException e) {
            return 0;
        }
    }

    // ---------------------------------------------------------------- the rest

    @Override
    public CacheStats stats() {
        return cache.synchronous().stats();
    }

    @Override
    public long estimatedSize() {
        return cache.synchronous().estimatedSize();
    }

    /** Runs pending maintenance (evictions) now. */
    public void cleanUp() {
        cache.synchronous().cleanUp();
    }

    /** The Caffeine cache, for {@link CacheMetrics}. */
    public AsyncCache<?, ?> caffeine() {
        return cache;
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        session.removeStateGate(stateGate);
        session.removeInternalListener(connectionListener);
        WatchHandle w = watch;
        if (w != null) {
            w.close();
        }
        cache.synchronous().invalidateAll();
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("the cache of " + root + " is closed");
        }
        if (session.isClosed()) {
            throw new IllegalStateException("the pool of the cache of " + root + " is closed");
        }
    }

    private void checkCovered(String path) {
        Validation.path("path", path);
        boolean covered = path.equals(root)
                || (tree && (root.equals("/") || (path.startsWith(root) && path.charAt(root.length()) == '/')));
        if (!covered) {
            throw new IllegalArgumentException(
                    tree
                            ? "path must be " + root + " or below it (the cached subtree), was " + path
                            : "path must be " + root + " (the cached node), was " + path);
        }
    }

    private static Loaded await(CompletableFuture<Loaded> f, String path) {
        if (f.isDone()) {
            return f.join();
        }
        try {
            return f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ZkInterruptedException(path, "interrupted while reading " + path + " through the cache", e);
        } catch (ExecutionException e) {
            // Loads complete with a Loaded (failures included) and never exceptionally.
            throw new IllegalStateException(e.getCause());
        }
    }

    /** The value of a load, for a caller of an {@code ...Async} form: completed on the pool's completion threads. */
    private <T> CompletableFuture<T> extract(CompletableFuture<Loaded> f, Function<Loaded, T> value) {
        CompletableFuture<T> out = new CompletableFuture<>();
        f.whenComplete((l, e) -> {
            if (e != null) {
                out.completeExceptionally(OperationRunner.unwrap(e));
                return;
            }
            try {
                out.complete(value.apply(l));
            } catch (RuntimeException | Error x) {
                out.completeExceptionally(x);
            }
        });
        return ZkAsync.completeOn(out, completions);
    }

    private static long saturatedNanos(Duration d) {
        try {
            return d.toNanos();
        } catch (ArithmeticException e) {
            return Long.MAX_VALUE;
        }
    }

    @Override
    public String toString() {
        State s = state;
        return (tree ? "ZkTreeCache{" : "ZkCache{") + root + ", " + (s.watched ? "watched" : "not watched") + ", "
                + estimatedSize() + " entries" + (closed ? ", closed" : "") + "}";
    }

    // ---------------------------------------------------------------- values

    /** A node's data entry, or its children entry. */
    record Key(String path, boolean children) {}

    /** A completed load: a value (node or children, null when there is no node) or a failure, with its stamp. */
    static final class Loaded {
        final CachedNode node;
        final List<String> children;
        final Throwable failure;
        /** The generation the load started in while the watch was armed; -1 when it was not. */
        final long stamp;
        /** The cache's count of change notifications when the load started. */
        final long changesSeen;

        private Loaded(CachedNode node, List<String> children, Throwable failure, long stamp, long changesSeen) {
            this.node = node;
            this.children = children;
            this.failure = failure;
            this.stamp = stamp;
            this.changesSeen = changesSeen;
        }

        static Loaded node(CachedNode node, long stamp, long changesSeen) {
            return new Loaded(node, null, null, stamp, changesSeen);
        }

        static Loaded children(List<String> children, long stamp, long changesSeen) {
            return new Loaded(null, children, null, stamp, changesSeen);
        }

        static Loaded failed(Throwable failure) {
            return new Loaded(null, null, failure, -1, 0);
        }

        CachedNode node() {
            rethrowFailure();
            return node;
        }

        List<String> children(String path) {
            rethrowFailure();
            if (children == null) {
                throw ZkException.of(Code.NONODE, path, "getChildren " + path + ": " + Code.NONODE, null);
            }
            return children;
        }

        private void rethrowFailure() {
            if (failure instanceof RuntimeException) {
                throw (RuntimeException) failure;
            }
            if (failure instanceof Error) {
                throw (Error) failure;
            }
            if (failure != null) {
                throw new IllegalStateException(failure);
            }
        }
    }

    /**
     * What the cache may serve, replaced as a whole (one volatile read per lookup). {@code gen} changes with every
     * connection or watch change; a value is served when it was loaded in the current generation while watched, or in
     * {@code lastWatchedGen} within the bound after {@code disconnectedAt}.
     */
    private static final class State {
        static final State INITIAL = new State(0, false, -1, 0, 0);

        final long gen;
        final boolean watched;
        final long lastWatchedGen;
        final long disconnectedAt;
        final long armedSession;

        private State(long gen, boolean watched, long lastWatchedGen, long disconnectedAt, long armedSession) {
            this.gen = gen;
            this.watched = watched;
            this.lastWatchedGen = lastWatchedGen;
            this.disconnectedAt = disconnectedAt;
            this.armedSession = armedSession;
        }

        /** The watch is armed in {@code sid} and the session connected: a fresh, watched generation. */
        State watched(long sid) {
            return new State(gen + 1, true, -1, 0, sid);
        }

        /** Connected again but not (yet) watched: nothing from before may be served. */
        State unwatched(long now, long sid) {
            return new State(gen + 1, false, -1, watched ? now : disconnectedAt, sid);
        }

        /** The client noticed a disconnection: values of the watched generation may be served within the bound. */
        State disconnected(long now) {
            return watched
                    ? new State(gen + 1, false, gen, now, armedSession)
                    : new State(gen + 1, false, lastWatchedGen, disconnectedAt, armedSession);
        }

        State nothingServable() {
            return new State(gen, false, -1, disconnectedAt, armedSession);
        }
    }
}
