package dev.zksdk;

import dev.zksdk.cache.CacheConfig;
import dev.zksdk.cache.ZkCache;
import dev.zksdk.cache.ZkTreeCache;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.apache.curator.framework.CuratorFramework;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.Op;
import org.apache.zookeeper.OpResult;
import org.apache.zookeeper.data.ACL;
import org.apache.zookeeper.data.Stat;

/**
 * A cheap handle on one of the pool's long-lived sessions. Getting and closing a lease costs no network round trip
 * and opens no connection. A lease stays pinned to one session of its ensemble, so ZooKeeper's per-session FIFO order
 * holds for everything done through it (a read sees the lease's earlier writes).
 *
 * <p>Read-your-writes across leases: a lease's reads see every write this pool completed before the lease was taken,
 * whichever of the pool's sessions the write and the lease landed on. A read on a session whose server may not have
 * applied that write yet is preceded by one {@code sync} (shared by concurrent reads); a session that is known to be
 * up to date reads at once. Writes through {@link #curator()} are not tracked.
 *
 * <p>Thread-safe: a lease may be used from several threads. Every operation validates its arguments first
 * ({@link IllegalArgumentException} naming the argument and the value, nothing sent; that includes a request larger as
 * a whole than {@code jute.maxbuffer}, paths, data and ACLs together, which a server would answer by dropping the
 * connection), then runs through the
 * ensemble's bulkhead, circuit breaker and retry, and waits for a connected session up to the connection timeout. The
 * {@code ...Async} forms validate the same way and <em>throw</em> that {@link IllegalArgumentException} from the call
 * itself (no future is returned), so code that handles failures only through the future must validate first or catch
 * it. Closing a lease refuses new calls; asynchronous operations it already issued still run and complete their
 * futures (with batching on, queued ones too).
 *
 * <p>Failures, all unchecked:
 * <ul>
 *   <li>application results ({@code NONODE}, {@code NODEEXISTS}, {@code BADVERSION}, {@code NOTEMPTY}) throw a
 *       {@link ZkException} with that code (such as {@link ZkNoNodeException}) at once, never retried;</li>
 *   <li>{@code CONNECTIONLOSS} / {@code OPERATIONTIMEOUT} are retried with jittered exponential backoff within the
 *       operation timeout, then throw {@link ZkConnectionLossException}. A write is reported only as what is known:
 *       success when it was applied exactly once by this call, a failure (such as {@link ZkBadVersionException}) only
 *       when it was provably not applied, otherwise {@link ZkConnectionLossException} with
 *       {@link ZkConnectionLossException#outcomeUnknown()} true. After a loss in flight the write is not simply sent
 *       again: once reconnected, the server's state is read after a {@code sync}, and the write is sent again only
 *       when that proves the lost attempt was not applied (the node was not modified, created or deleted since it was
 *       sent); a sequential create finds its own node by its protected name. When the state cannot tell (another
 *       client changed the node meanwhile, or the session was replaced), the call throws at once with the outcome
 *       unknown, saying why;</li>
 *   <li>{@code SESSIONMOVED} (the session is alive on another server; the request was not applied) is retried on the
 *       session once it is connected there;</li>
 *   <li>session expiry: session-bound work (an ephemeral create) throws {@link ZkSessionExpiredException} and is never
 *       redone on the new session; reads and persistent writes run on the new session;</li>
 *   <li>no connected session within the connection timeout (or what is left of the operation timeout, if less)
 *       throws {@link ZkUnavailableException}, nothing sent; from then on, until a session connects, the ensemble
 *       counts as unreachable and calls throw it within milliseconds, as with an open circuit breaker or a full
 *       bulkhead;</li>
 *   <li>a calling thread that is interrupted before or during a call gets {@link ZkInterruptedException} and stays
 *       interrupted (nothing is sent when it was interrupted before);</li>
 *   <li>a call cut by the pool's close: a write that was sent throws {@link ZkConnectionLossException} with the
 *       outcome unknown ("the pool was closed while it was in flight"); a read, or a write never sent, throws
 *       {@link IllegalStateException} ("the pool is closed").</li>
 * </ul>
 * Every operation ends by its operation timeout. Registrations ({@link #ephemeral}, {@link #watch} and the other
 * watches, {@link #cache}) wait until armed on the server, up to the connection timeout plus the session timeout.
 * After {@link #close()} (or the pool's close) every method throws {@link IllegalStateException}.
 *
 * <p>The {@code ...Async} forms never block the caller. Their futures complete on the pool's completion threads (as
 * many as processors), never on ZooKeeper's: a stage chained without an executor may call any SDK method, including
 * the synchronous ones. A stage that blocks holds a completion thread and delays the completion of other calls (not
 * watches, caches or recovery): give slow work its own executor ({@code thenApplyAsync(fn, executor)}). Bad arguments
 * are thrown by the call itself, before any future exists (above); other failures come through the future, with the
 * same exception types as the synchronous forms.
 *
 * <p>With {@link EnsembleConfig.Builder#asyncBatching(BatchingConfig) batching} on, asynchronous writes and reads
 * queued behind one in flight on the session share a {@code multi} or {@code multiRead}; each future still completes
 * with its own result or exception, as if sent alone, and no atomicity holds across callers ({@link BatchingConfig}).
 * The lease's order holds: a synchronous call made while its session has asynchronous operations queued or in flight is
 * sent after them, except on ZooKeeper's event thread (a raw Curator or ZooKeeper callback), which delivers their
 * outcomes and so cannot wait for them: there it is sent at once, ahead of those still queued.
 *
 * <p>On a pool with {@link ZkSessionPool.Builder#route routes}, {@link ZkSessionPool#lease()} hands out a routed lease:
 * each operation goes to a lease on the ensemble that owns its path in the pool's {@link ZkRoutes routing table} at that
 * moment (see {@link ZkSessionPool#lease()}); what is said above of one session then holds per ensemble. A
 * {@code multi} across ensembles is refused with {@link IllegalArgumentException}; {@link #curator()} and
 * {@link #sessionId()} are the default route's, {@link #curator(String)} and {@link #sessionId(String)} choose by path.
 */
public interface ZkLease extends AutoCloseable {

    /**
     * Reads the node's data.
     *
     * @param path the node's absolute path
     * @return the node's data, empty (not null) when the node has none
     * @throws ZkNoNodeException when there is no node at {@code path}
     */
    byte[] getData(String path);

    /**
     * The node's data and its stat, read in one request: the version is that of this data, so a read-modify-write
     * with {@code setData(path, newData, node.version())} fails with {@link ZkBadVersionException} when someone wrote
     * in between, instead of overwriting their write (a {@link #getData} then an {@link #exists} may pair the data of
     * one write with the version of a later one).
     *
     * @param path the node's absolute path
     * @return the node's data with the stat of that same version
     * @throws ZkNoNodeException when there is no node at {@code path}
     */
    NodeData getNode(String path);

    /**
     * Reads the node's stat, telling whether it exists.
     *
     * @param path the node's absolute path
     * @return the node's stat, or null when there is no node at {@code path}
     */
    Stat exists(String path);

    /**
     * Lists the node's children.
     *
     * @param path the node's absolute path
     * @return the names (not paths) of the node's children, in no particular order
     * @throws ZkNoNodeException when there is no node at {@code path}
     */
    List<String> getChildren(String path);

    /**
     * Creates a node and returns its actual path (for sequential modes, with the counter). Parents must exist.
     *
     * <p>Sequential creates are protected as Curator's protected mode does: the node's name carries a
     * {@code _c_<uuid>-} prefix so that a create retried after connection loss finds its own node instead of making a
     * second one. An ephemeral create is session-bound: if the session expires before the create is confirmed it throws
     * {@link ZkSessionExpiredException}. For lasting registrations use {@link #ephemeral(String, byte[])}.
     *
     * <p>The node gets the ensemble's ACL ({@link EnsembleConfig#aclProvider()}).
     *
     * @param path the node's absolute path; for a sequential mode, the prefix the counter is appended to
     * @param data the node's data, not null (may be empty), at most {@code jute.maxbuffer} bytes
     * @param mode persistent, ephemeral, sequential or container, as ZooKeeper defines them
     * @return the path of the node created, with the counter for a sequential mode
     * @throws ZkNodeExistsException when a node exists at a non-sequential {@code path}
     * @throws ZkNoNodeException when the parent does not exist
     * @throws ZkAuthException ({@code NOAUTH}) when the parent's ACL does not let this session's identity create
     */
    String create(String path, byte[] data, CreateMode mode);

    /**
     * As {@link #create(String, byte[], CreateMode)}, with this ACL instead of the ensemble's.
     *
     * @param path the node's absolute path; for a sequential mode, the prefix the counter is appended to
     * @param data the node's data, not null (may be empty), at most {@code jute.maxbuffer} bytes
     * @param mode persistent, ephemeral, sequential or container, as ZooKeeper defines them
     * @param acl the node's ACL, not empty
     * @return the path of the node created, with the counter for a sequential mode
     * @throws IllegalArgumentException when {@code acl} is null or empty
     * @throws ZkException with code {@code INVALIDACL} when the server refuses the ACL (for example a creator ACL on a
     *     session without an identity)
     */
    String create(String path, byte[] data, CreateMode mode, List<ACL> acl);

    /**
     * Sets the node's data if its version is {@code version}.
     *
     * @param path the node's absolute path
     * @param data the new data, not null (may be empty), at most {@code jute.maxbuffer} bytes
     * @param version the version the node must have, or -1 for any
     * @return the node's stat after the write
     * @throws ZkNoNodeException when there is no node at {@code path}
     * @throws ZkBadVersionException when the node's version is not {@code version}
     */
    Stat setData(String path, byte[] data, int version);

    /**
     * Deletes the node if its version is {@code version}.
     *
     * @param path the node's absolute path
     * @param version the version the node must have, or -1 for any
     * @throws ZkNoNodeException when there is no node at {@code path}
     * @throws ZkBadVersionException when the node's version is not {@code version}
     * @throws ZkNotEmptyException when the node has children
     */
    void delete(String path, int version);

    /**
     * Waits until the server this lease's session is connected to has caught up with the leader for {@code path}.
     *
     * @param path the path whose view is brought up to date (ZooKeeper syncs the whole server, not one path)
     */
    void sync(String path);

    /**
     * Runs the operations atomically. After a connection loss in flight it is sent again only when the server's state
     * proves it was not applied (one of its operations provably did not happen: the multi is atomic); otherwise its
     * outcome is unknown ({@link ZkConnectionLossException#outcomeUnknown()}). When an operation fails, the exception
     * carries that operation's code and path.
     *
     * @param ops the operations, run all or none
     * @return one result per operation, in the order given
     */
    List<OpResult> multi(List<Op> ops);

    /**
     * {@link #getData}, without blocking.
     *
     * @param path the node's absolute path
     * @return a future of the node's data; it fails as {@link #getData} throws
     */
    CompletableFuture<byte[]> getDataAsync(String path);

    /**
     * {@link #getNode}, without blocking.
     *
     * @param path the node's absolute path
     * @return a future of the node's data and stat; it fails as {@link #getNode} throws
     */
    CompletableFuture<NodeData> getNodeAsync(String path);

    /**
     * {@link #exists}, without blocking.
     *
     * @param path the node's absolute path
     * @return a future of the node's stat, completed with null when there is no node
     */
    CompletableFuture<Stat> existsAsync(String path);

    /**
     * {@link #getChildren}, without blocking.
     *
     * @param path the node's absolute path
     * @return a future of the children's names; it fails as {@link #getChildren} throws
     */
    CompletableFuture<List<String>> getChildrenAsync(String path);

    /**
     * {@link #create(String, byte[], CreateMode)}, without blocking.
     *
     * @param path the node's absolute path; for a sequential mode, the prefix the counter is appended to
     * @param data the node's data, not null (may be empty), at most {@code jute.maxbuffer} bytes
     * @param mode persistent, ephemeral, sequential or container
     * @return a future of the path created; it fails as the synchronous form throws
     */
    CompletableFuture<String> createAsync(String path, byte[] data, CreateMode mode);

    /**
     * {@link #create(String, byte[], CreateMode, List)}, without blocking.
     *
     * @param path the node's absolute path; for a sequential mode, the prefix the counter is appended to
     * @param data the node's data, not null (may be empty), at most {@code jute.maxbuffer} bytes
     * @param mode persistent, ephemeral, sequential or container
     * @param acl the node's ACL, not empty
     * @return a future of the path created; it fails as the synchronous form throws
     */
    CompletableFuture<String> createAsync(String path, byte[] data, CreateMode mode, List<ACL> acl);

    /**
     * {@link #setData}, without blocking.
     *
     * @param path the node's absolute path
     * @param data the new data, not null (may be empty), at most {@code jute.maxbuffer} bytes
     * @param version the version the node must have, or -1 for any
     * @return a future of the node's stat after the write; it fails as {@link #setData} throws
     */
    CompletableFuture<Stat> setDataAsync(String path, byte[] data, int version);

    /**
     * {@link #delete}, without blocking.
     *
     * @param path the node's absolute path
     * @param version the version the node must have, or -1 for any
     * @return a future completed when the node is deleted; it fails as {@link #delete} throws
     */
    CompletableFuture<Void> deleteAsync(String path, int version);

    /**
     * {@link #sync}, without blocking.
     *
     * @param path the path whose view is brought up to date
     * @return a future completed once the server has caught up with the leader
     */
    CompletableFuture<Void> syncAsync(String path);

    /**
     * {@link #multi}, without blocking.
     *
     * @param ops the operations, run all or none
     * @return a future of one result per operation; it fails as {@link #multi} throws
     */
    CompletableFuture<List<OpResult>> multiAsync(List<Op> ops);

    /**
     * Creates an ephemeral node (and any missing parents, as container nodes; persistent ones on servers without
     * containers) that the pool keeps alive across session expiry until the returned handle is closed: after a new
     * session it is re-created with its latest data. Returns once the node exists on the server, created by this call.
     * The node is a plain {@link CreateMode#EPHEMERAL}; use {@link #ephemeral(String, byte[], CreateMode)} for a
     * sequential one. See {@link EphemeralNode} for who owns what.
     *
     * @param path the node's absolute path
     * @param data the node's data, re-written on every re-creation until changed through the handle
     * @return the handle that keeps the node alive until closed
     * @throws ZkNodeExistsException when this pool already has a live {@link EphemeralNode} for {@code path}, or a node
     *     this call did not create is there (another client's, or one made with {@link #create} or {@link #curator()})
     * @throws ZkUnavailableException when the node could not be confirmed within the connection timeout plus the
     *     session timeout (nothing is left behind: a create that lands later is undone)
     */
    EphemeralNode ephemeral(String path, byte[] data);

    /**
     * As {@link #ephemeral(String, byte[])} with an explicit mode.
     *
     * @param path the node's absolute path; for the sequential mode, the prefix the counter is appended to
     * @param data the node's data
     * @param mode {@code EPHEMERAL} or {@code EPHEMERAL_SEQUENTIAL}
     * @return the handle that keeps the node alive until closed
     */
    EphemeralNode ephemeral(String path, byte[] data, CreateMode mode);

    /**
     * Watches one node: its creation, data changes and deletion. The watch is persistent (re-armed after every event
     * and after a new session); after a new session the listener gets {@link WatchEvent.Type#RESYNC}.
     *
     * <p>The listener runs on the pool's callback threads, never on ZooKeeper's: one event at a time, in order, and it
     * may call any SDK method. A listener that blocks delays only its own events, as long as fewer listeners of its
     * ensemble block at once than the ensemble has callback threads (16; beyond that its other listeners wait for a
     * thread); when 10,000 are queued for it, they are replaced by one {@link WatchEvent.Type#RESYNC}
     * (re-read), counted as an overflow.
     *
     * <p>Returns once the watch is armed on the server.
     *
     * @param path the node's absolute path (the node need not exist)
     * @param listener called with each event
     * @return the handle that removes the watch when closed
     * @throws ZkUnavailableException when it cannot be armed (no connected session) within the connection timeout plus
     *     the session timeout
     */
    WatchHandle watch(String path, WatchListener listener);

    /**
     * Watches a subtree recursively: creation, data change and deletion of {@code path} and every node below it.
     * Otherwise as {@link #watch}.
     *
     * @param path the subtree's root (the node need not exist)
     * @param listener called with each event
     * @return the handle that removes the watch when closed
     */
    WatchHandle watchTree(String path, WatchListener listener);

    /**
     * Watches a node's list of children ({@link WatchEvent.Type#CHILDREN_CHANGED}) as well as the node itself.
     * Otherwise as {@link #watch}.
     *
     * @param path the node's absolute path
     * @param listener called with each event
     * @return the handle that removes the watch when closed
     */
    WatchHandle watchChildren(String path, WatchListener listener);

    /**
     * A cache of the node at {@code path} with the pool's cache settings ({@link ZkSessionPool.Builder#cacheDefaults},
     * {@link CacheConfig#defaults()} unless set); see {@link #cache(String, CacheConfig)}.
     *
     * @param path the node's absolute path (the node need not exist)
     * @return the cache, its watch armed
     */
    default ZkCache cache(String path) {
        return cache(path, CacheConfig.defaults());
    }

    /**
     * A read cache of the node at {@code path} (which need not exist yet), kept current by a persistent watch on this
     * lease's session; {@link ZkCache} states exactly how current a served value is. Its loads see every write this pool
     * completed before the cache was made, as a lease's reads do. Returns once the watch is armed on the server. The cache reads through this session's pipeline and lives until it is closed or the pool closes, even
     * after this lease is closed.
     *
     * @param path the node's absolute path (the node need not exist)
     * @param config the cache's size, expiry and staleness settings
     * @return the cache, its watch armed
     * @throws IllegalArgumentException when {@code path} is invalid or {@code config} is null
     * @throws ZkUnavailableException when the watch cannot be armed (no connected session) within the connection
     *     timeout plus the session timeout
     */
    ZkCache cache(String path, CacheConfig config);

    /**
     * A cache of the subtree at {@code path} with the pool's cache settings ({@link ZkSessionPool.Builder#cacheDefaults},
     * {@link CacheConfig#defaults()} unless set); see {@link #treeCache(String, CacheConfig)}.
     *
     * @param path the subtree's root (the node need not exist)
     * @return the cache, its watch armed
     */
    default ZkTreeCache treeCache(String path) {
        return treeCache(path, CacheConfig.defaults());
    }

    /**
     * A read cache of the node at {@code path} and every node below it, data and children lists, kept current by one
     * persistent recursive watch; otherwise as {@link #cache(String, CacheConfig)}. Nodes are loaded when first read,
     * not all at once, and {@link CacheConfig#maximumSize()} bounds how many are kept.
     *
     * @param path the subtree's root (the node need not exist)
     * @param config the cache's size, expiry and staleness settings
     * @return the cache, its watch armed
     * @throws IllegalArgumentException when {@code path} is invalid or {@code config} is null
     * @throws ZkUnavailableException when the watch cannot be armed within the connection timeout plus the session
     *     timeout
     */
    ZkTreeCache treeCache(String path, CacheConfig config);

    /**
     * The id of this lease's current session, waiting for a connected session up to the connection timeout. On a
     * routed lease (a pool with {@link ZkSessionPool.Builder#route routes}), the session of the default route
     * ({@code "/"}); {@link #sessionId(String)} names the ensemble by a path.
     *
     * @return the session id; it changes when the session expires and a new one replaces it
     * @throws ZkUnavailableException when no session connects within the connection timeout
     */
    long sessionId();

    /**
     * The shared Curator client behind this lease's session: every Curator recipe works on it. It belongs to the pool:
     * its {@code close()} throws {@link UnsupportedOperationException}, and it stays usable until the pool closes. On
     * its ZooKeeper handle, what would change the session for every lease is refused the same way: {@code close()},
     * {@code register(Watcher)} (the default watcher drives the pool's recovery) and {@code updateServerList} (use
     * {@link ZkSessionPool#updateConnectString}). On a routed lease (a pool with
     * {@link ZkSessionPool.Builder#route routes}), the client of the default route ({@code "/"}); use
     * {@link #curator(String)} for the ensemble that owns a path.
     *
     * @return the pool's Curator client for this session
     */
    CuratorFramework curator();

    /**
     * The id of the session this lease uses for {@code path}, waiting for a connected session up to the connection
     * timeout. On a lease of one ensemble it is {@link #sessionId()}; on a routed lease (a pool with
     * {@link ZkSessionPool.Builder#route routes}) it is the session of the ensemble that owns {@code path} in the
     * routing table now, taking the lease on that ensemble if this lease had not used it yet.
     *
     * @param path an absolute path, used only to choose the ensemble
     * @return the session id
     * @throws IllegalArgumentException when {@code path} is not a valid path
     * @throws ZkUnavailableException when no session connects within the connection timeout
     */
    default long sessionId(String path) {
        dev.zksdk.internal.Validation.path("path", path);
        return sessionId();
    }

    /**
     * The shared Curator client this lease uses for {@code path}; as {@link #curator()} in every other respect. On a
     * lease of one ensemble it is {@link #curator()}; on a routed lease (a pool with
     * {@link ZkSessionPool.Builder#route routes}) it is the client of the ensemble that owns {@code path} in the
     * routing table now. The client is not routed: every path given to it goes to its own ensemble (so a recipe made
     * on it stays there, whatever the table says later).
     *
     * @param path an absolute path, used only to choose the ensemble
     * @return the pool's Curator client for that ensemble's session
     * @throws IllegalArgumentException when {@code path} is not a valid path
     */
    default CuratorFramework curator(String path) {
        dev.zksdk.internal.Validation.path("path", path);
        return curator();
    }

    /**
     * The shared Curator client this lease uses for the ensemble whose {@link EnsembleConfig#alias() alias} is
     * {@code alias}; as {@link #curator()} in every other respect. On a lease of one ensemble, {@code alias} must be
     * that ensemble's (then it is {@link #curator()}); on a routed lease (a pool with
     * {@link ZkSessionPool.Builder#route routes}), that of an ensemble a route of the routing table names now, taking
     * the lease on that ensemble if this lease had not used it yet. For recipes that belong to an ensemble rather than
     * to a path.
     *
     * @param alias the ensemble's alias ({@code EnsembleConfig.Builder#alias}, by default its connect string)
     * @return the pool's Curator client for that ensemble's session
     * @throws IllegalArgumentException when no such ensemble is there (the message names the aliases there are), or
     *     {@code alias} is null or empty
     */
    CuratorFramework curatorOfEnsemble(String alias);

    /** Releases the lease. Idempotent. The session stays open for other leases. */
    @Override
    void close();

    /**
     * Enters a leader election on {@code path} (Curator's {@code LeaderLatch} on this lease's session) whose turns are
     * proven by {@link FencingToken}s; see {@link ZkLeadership}. The epoch node {@code path + "-epoch"} is created (a
     * persistent node) on the first turn and never deleted by the SDK. Returns at once; the listener hears of turns.
     * Two elections on the same path, in one pool or not, are two participants. Closed with this lease.
     *
     * @param path the election's absolute path (not ending in {@code -epoch})
     * @param listener told of each turn gained and lost, on the pool's callback threads
     * @return the participant, already in the election
     * @throws IllegalArgumentException when {@code path} is invalid or {@code listener} is null
     */
    ZkLeadership leaderElection(String path, LeadershipListener listener);

    /**
     * A lock on {@code path} (Curator's {@code InterProcessMutex} on this lease's session) whose holders get
     * {@link FencingToken}s; see {@link ZkLock}. Nothing is sent until {@link ZkLock#acquire}. Closed with this lease.
     *
     * @param path the lock's absolute path (not ending in {@code -epoch})
     * @return the lock, not held
     * @throws IllegalArgumentException when {@code path} is invalid
     */
    ZkLock lock(String path);

    /**
     * As {@link #lock(String)}, with a listener told of each turn: {@code onElected} once {@link ZkLock#acquire} (or a
     * reconnect within the session) has proven a turn, {@code onLost} when it ends (SUSPENDED, LOST, release or
     * close), on the pool's callback threads.
     *
     * @param path the lock's absolute path (not ending in {@code -epoch})
     * @param listener told of each turn gained and lost
     * @return the lock, not held
     * @throws IllegalArgumentException when {@code path} is invalid or {@code listener} is null
     */
    ZkLock lock(String path, LeadershipListener listener);

    /**
     * Writes fenced by {@code token}: each is one {@code multi} that first checks the epoch node still has the token's
     * version and the token's {@link FencingToken#holderNode() holder node} still exists, so a holder that lost its
     * turn gets {@link ZkFencedException} and nothing lands; see
     * {@link FencedWrites}. Cheap: no network.
     *
     * @param token a token handed out by an election or lock of this pool on this lease's ensemble
     * @return the fenced view of this lease's writes
     * @throws IllegalArgumentException when {@code token} is null, or was not made by an election or lock of this pool
     *     on this lease's ensemble
     */
    FencedWrites fenced(FencingToken token);
}
