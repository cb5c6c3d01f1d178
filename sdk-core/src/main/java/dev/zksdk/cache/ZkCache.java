package dev.zksdk.cache;

import com.github.benmanes.caffeine.cache.stats.CacheStats;
import java.util.concurrent.CompletableFuture;

/**
 * A read cache of ZooKeeper nodes kept current by a persistent watch: made with {@link dev.zksdk.ZkLease#cache} (one
 * node) or {@link dev.zksdk.ZkLease#treeCache} (a node and everything below it, with children lists). A node is read
 * from the server on its first {@link #get}, then served from memory until the watch reports a change; concurrent
 * misses for the same node share one server read (single flight). A node that does not exist is cached as absent
 * (and {@link #get} returns null), since the watch also reports its creation.
 *
 * <h2>What a served value is guaranteed to be</h2>
 * A value is <em>confirmed</em> at the moment the server answered the read that loaded it. {@link #get} serves a
 * cached value only in one of two states of the cache's session, as the client observes them:
 * <ol>
 *   <li><b>Watched.</b> The watch was armed on the server before the read was sent, and the client has seen no
 *       disconnection since. The server notifies this session of every change committed after the read; the entry is
 *       reloaded (or, after a delete, evicted) when the notification is processed. A watched value is therefore never
 *       older than the last notification this session has received for that node: it lags the session's own server
 *       by the time a notification takes to arrive, like any ZooKeeper watch. That server may itself lag the leader
 *       (ZooKeeper reads are sequentially consistent, not linearizable), but never behind the pool's own writes: a
 *       load sees every write the pool completed before the cache was made (read-your-writes, as a lease's reads).
 *       {@link #getCurrent} is {@code sync} + read for a value that reflects every write committed before it was
 *       called.</li>
 *   <li><b>Disconnected, within the bound.</b> The client noticed the connection drop less than
 *       {@link CacheConfig#maxDisconnectedStaleness()} ago, and the value was watched when it did. It may miss changes
 *       made since the connection dropped, for at most that bound plus the time the client took to notice (up to
 *       two thirds of the negotiated session timeout on a silent network). Past the bound every read goes to the
 *       server (and fails as lease reads do while no session is connected).</li>
 * </ol>
 * On every reconnection, with the same session or a new one, nothing loaded before it is served again: ZooKeeper
 * re-registers persistent watches on a same-session reconnect without reporting the changes made while it was
 * disconnected, and a new session starts without watches. The cache drops its entries and reloads each on its next
 * read, once the watch is armed again (for a new session: after the watch's {@code RESYNC}). So, once reconnected, a
 * cache never serves data older than what the server confirmed after the reconnection. A value loaded while the watch
 * is not armed is returned to the callers that asked for it but not kept.
 *
 * <h2>Failures and threads</h2>
 * Reads run through the lease's pipeline (bulkhead, circuit breaker, retry) and fail as the lease's reads do, with the
 * same exception types ({@link dev.zksdk.ZkConnectionLossException}, {@link dev.zksdk.ZkUnavailableException}, ...);
 * a failed load is not cached, and a later read tries again. Arguments are checked before anything is sent
 * ({@link IllegalArgumentException}, also for a path the cache does not cover). Thread-safe; the {@code ...Async}
 * forms never block, and a future not complete when returned completes on the pool's completion threads, never on
 * ZooKeeper's (see {@link dev.zksdk.ZkLease}). The cache lives
 * until {@link #close()} or until the pool closes, independently of the lease it was made from; then every method
 * but {@code close} throws {@link IllegalStateException}.
 */
public interface ZkCache extends AutoCloseable {

    /**
     * The cached node (for a tree cache: the root of the cached subtree).
     *
     * @return the absolute path the cache was made for
     */
    String path();

    /**
     * The node at {@link #path()}, as {@link #get(String)} returns it.
     *
     * @return the node, or null when it does not exist
     */
    CachedNode get();

    /**
     * The node's data and stat, from memory when the cache holds a value it may serve, otherwise read from the server
     * (one read for all concurrent callers) and kept.
     *
     * @param path the node's absolute path: the cache's path, or for a tree cache any path in its subtree
     * @return the node, or null when it does not exist
     * @throws IllegalArgumentException when {@code path} is invalid or outside what this cache covers
     * @throws dev.zksdk.ZkException (a subclass) when the read from the server fails
     * @throws IllegalStateException after {@link #close()} or after the pool closed
     */
    CachedNode get(String path);

    /**
     * As {@link #get(String)}, without blocking: a cached value comes back as a completed future.
     *
     * @param path the node's absolute path: the cache's path, or for a tree cache any path in its subtree
     * @return a future of the node, completed with null when it does not exist; it fails as {@link #get(String)}
     *     throws
     */
    CompletableFuture<CachedNode> getAsync(String path);

    /**
     * {@code sync} then read: a value that reflects every write the ensemble committed before this call, whatever the
     * cache holds. The result replaces the cached value.
     *
     * @param path the node's absolute path: the cache's path, or for a tree cache any path in its subtree
     * @return the node, or null when it does not exist
     * @throws IllegalArgumentException when {@code path} is invalid or outside what this cache covers
     * @throws dev.zksdk.ZkException (a subclass) when the sync or the read fails
     * @throws IllegalStateException after {@link #close()} or after the pool closed
     */
    CachedNode getCurrent(String path);

    /**
     * As {@link #getCurrent(String)}, without blocking.
     *
     * @param path the node's absolute path: the cache's path, or for a tree cache any path in its subtree
     * @return a future of the node, completed with null when it does not exist; it fails as
     *     {@link #getCurrent(String)} throws
     */
    CompletableFuture<CachedNode> getCurrentAsync(String path);

    /**
     * Hit, miss, load and eviction counts since the cache was made ({@link CacheStats#empty()} when statistics are
     * off). A read that joins a load already in flight counts as a hit; only the read that starts a load is a miss.
     *
     * @return Caffeine's statistics of this cache
     */
    CacheStats stats();

    /**
     * About how many entries the cache holds now (loads in flight included).
     *
     * @return the estimated number of entries
     */
    long estimatedSize();

    /** Stops the watch (removing it from the server), drops every entry. Idempotent. */
    @Override
    void close();
}
