package dev.zksdk.internal.pool;

import dev.zksdk.EphemeralNode;
import dev.zksdk.FencedWrites;
import dev.zksdk.FencingToken;
import dev.zksdk.LeadershipListener;
import dev.zksdk.NodeData;
import dev.zksdk.WatchHandle;
import dev.zksdk.WatchListener;
import dev.zksdk.ZkAuthException;
import dev.zksdk.ZkConnectionLossException;
import dev.zksdk.ZkLeadership;
import dev.zksdk.ZkLease;
import dev.zksdk.ZkLock;
import dev.zksdk.ZkUnavailableException;
import dev.zksdk.cache.CacheConfig;
import dev.zksdk.cache.CachedNode;
import dev.zksdk.cache.ZkCache;
import dev.zksdk.cache.ZkTreeCache;
import dev.zksdk.internal.RequestSize;
import dev.zksdk.internal.SerialQueue;
import dev.zksdk.internal.Validation;
import dev.zksdk.internal.ZkAsync;
import dev.zksdk.internal.cache.WatchedCache;
import dev.zksdk.internal.pipeline.AsyncBatcher;
import dev.zksdk.internal.pipeline.AuthErrors;
import dev.zksdk.internal.pipeline.Calls;
import dev.zksdk.internal.pipeline.OperationRunner;
import dev.zksdk.internal.pipeline.ZkCall;
import dev.zksdk.internal.recovery.SessionRecovery;
import dev.zksdk.internal.recovery.WatchMode;
import dev.zksdk.internal.session.SharedSession;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.apache.curator.framework.CuratorFramework;
import org.apache.zookeeper.ClientCnxn;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Op;
import org.apache.zookeeper.OpResult;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.data.ACL;
import org.apache.zookeeper.data.Stat;
import org.apache.zookeeper.proto.CreateRequest;
import org.apache.zookeeper.proto.CreateTTLRequest;

/**
 * A lease: validation, then the ensemble's pipeline on the pinned session. On an ensemble that keeps sessions on
 * observers ({@link dev.zksdk.EnsembleConfig.Builder#readsFromObservers(int)}), plain reads ({@code getData},
 * {@code getNode}, {@code exists}, {@code getChildren} and their asynchronous forms) go to a connected observer session
 * instead, after catching up with the pool's newest completed write (the pipeline's read-your-writes); everything else
 * stays on the pinned session.
 */
final class RealLease implements ZkLease {

    /** The suffix of an election's or lock's epoch node, next to its path; reserved: no election path ends in it. */
    static final String EPOCH_SUFFIX = "-epoch";

    private final RealSessionPool pool;
    private final SharedSession session;
    private final SessionRecovery recovery;
    private final OperationRunner runner;
    private final int maxDataBytes;
    /** Read-your-writes: the pool's newest completed write when the lease was taken; its reads see at least that. */
    private final long readAfterZxid;

    /** Batches the asynchronous operations of the session (see {@link AsyncBatcher}); null when batching is off. */
    private final AsyncBatcher batcher;

    private final AtomicBoolean closed = new AtomicBoolean();

    /** The ensemble, when it keeps read sessions on observers; null otherwise (every read on {@link #session}). */
    private final Ensemble readers;
    /** Which read session this lease tries first, so that leases spread their reads. */
    private final int readOffset;
    /**
     * This lease's asynchronous writes not completed yet (only with {@link #readers}): while there are any, reads stay
     * on the lease's session, behind them in its order, as without observers.
     */
    private final AtomicInteger writesInFlight;
    /**
     * The newest zxid any of this lease's reads came back from (the serving handle's last reply; only with {@link
     * #readers}): a read on another session catches up to it first, so that a lease's reads never go back in time
     * when they move between an observer session and its own (Review23o: versions 29-79 back after a fallback).
     */
    private final java.util.concurrent.atomic.AtomicLong readFloor;

    RealLease(
            RealSessionPool pool,
            SharedSession session,
            SessionRecovery recovery,
            OperationRunner runner,
            int maxDataBytes) {
        this(pool, session, recovery, runner, maxDataBytes, null, null);
    }

    RealLease(
            RealSessionPool pool,
            SharedSession session,
            SessionRecovery recovery,
            OperationRunner runner,
            int maxDataBytes,
            AsyncBatcher batcher,
            Ensemble readers) {
        this.batcher = batcher;
        this.readers = readers;
        this.readOffset = readers == null ? 0 : readers.nextReadOffset();
        this.writesInFlight = readers == null ? null : new AtomicInteger();
        this.readFloor = readers == null ? null : new java.util.concurrent.atomic.AtomicLong();
        this.pool = pool;
        this.session = session;
        this.recovery = recovery;
        this.runner = runner;
        this.maxDataBytes = maxDataBytes;
        this.readAfterZxid = runner.completedWriteZxid();
    }

    private <T> ZkCall<T> read(ZkCall<T> call) {
        call.readAfterZxid = readAfterZxid;
        return call;
    }

    /** An ordered queue for one of this lease's listeners, on its ensemble's callback threads. */
    SerialQueue listenerQueue(String who) {
        return recovery.host().listenerQueue(who, null);
    }

    private void checkOpen() {
        if (closed.get()) {
            throw new IllegalStateException("the lease is closed");
        }
        pool.checkOpen();
    }

    private <T> T sync(ZkCall<T> call) {
        if (batcher != null && batcher.busy() && !ClientCnxn.isInEventThread()) {
            // Ordered after the session's queued and in-flight asynchronous operations (the lease's FIFO order); its
            // failures come explained as an asynchronous call's. Not on ZooKeeper's event thread (a raw Curator or
            // ZooKeeper callback): that thread delivers the outcome of the unit in flight, so it cannot wait for it;
            // the
            // call is sent at once, after what is in flight, ahead of what is still queued.
            return batcher.runInOrder(call);
        }
        try {
            return runner.executeSync(session, call);
        } catch (ZkAuthException e) {
            throw AuthErrors.explain(e, call, session);
        }
    }

    private <T> CompletableFuture<T> async(ZkCall<T> call) {
        if (batcher != null) {
            return batcher.submit(call);
        }
        return runner.executeAsync(session, call, pool.completions());
    }

    /**
     * The observer session a plain read goes to now, or null for the lease's own session: no read sessions, the lease's
     * asynchronous writes still in flight, or none connected.
     */
    private ReaderConnection reader() {
        if (readers == null || writesInFlight.get() > 0) {
            return null;
        }
        return readers.reader(readOffset);
    }

    /**
     * A plain read on an ensemble with read sessions: on a connected observer session when there is one (see {@link
     * #reader}), else on the lease's session; either way it sees at least the newest write the pool completed before
     * it was called (a session whose server may be behind syncs first). When the observer's connection is lost (or no
     * observer is reachable) the read runs again, as {@code again} makes it, on the lease's own session: observers
     * being down never fails a read.
     */
    private <T> T readAnywhere(ZkCall<T> call, Supplier<ZkCall<T>> again) {
        ReaderConnection reader = reader();
        if (reader == null) {
            return readOn(session, sync(afterPoolWrites(call)));
        }
        try {
            return readOn(reader.session(), runner.executeSync(reader, afterPoolWrites(call)));
        } catch (ZkConnectionLossException | ZkUnavailableException e) {
            return readOn(session, sync(afterPoolWrites(again.get())));
        }
    }

    /** Raises {@link #readFloor} to what {@code served}'s handle has seen, once a read it served returned. */
    private <T> T readOn(SharedSession served, T result) {
        long zxid = OperationRunner.lastZxid(served.connectedHandle());
        if (zxid > readFloor.get()) {
            readFloor.accumulateAndGet(zxid, Math::max);
        }
        return result;
    }

    /** {@link #readAnywhere} for an asynchronous read. */
    private <T> CompletableFuture<T> readAnywhereAsync(ZkCall<T> call, Supplier<ZkCall<T>> again) {
        ReaderConnection reader = reader();
        if (reader == null) {
            return async(afterPoolWrites(call)).thenApply(r -> readOn(session, r));
        }
        return runner.executeAsync(reader, afterPoolWrites(call), pool.completions())
                .thenApply(r -> readOn(reader.session(), r))
                .exceptionallyCompose(e -> {
                    Throwable cause = OperationRunner.unwrap(e);
                    if (cause instanceof ZkConnectionLossException || cause instanceof ZkUnavailableException) {
                        return async(afterPoolWrites(again.get())).thenApply(r -> readOn(session, r));
                    }
                    return CompletableFuture.failedFuture(cause);
                });
    }

    /** Makes {@code call} see the newest write the pool completed by now, not only those before the lease. */
    private <T> ZkCall<T> afterPoolWrites(ZkCall<T> call) {
        call.readAfterZxid = Math.max(call.readAfterZxid, Math.max(runner.completedWriteZxid(), readFloor.get()));
        return call;
    }

    /**
     * A write the SDK made through Curator on this lease's session (a recipe's node deleted): later reads of the pool
     * see it, as they see the pipeline's writes.
     */
    void recipeWriteCompleted() {
        ZooKeeper zk = session.connectedHandle();
        if (zk != null) {
            runner.writeCompleted(zk);
        }
    }

    /**
     * How long closing a lock or an election waits for its node's deletion through the pipeline: a server that answers
     * deletes it in milliseconds; on a connection gone silent (not yet known lost) close returns after this, the
     * deletion going on in the background (Review23p: close blocked 13 s there, until the session expired).
     */
    static final long RECIPE_DELETE_WAIT_MILLIS = 1_000;

    /**
     * Deletes a recipe's own node through the pipeline, whatever its version, once the recipe has let it go (Curator
     * deletes it in the background too, and keeps trying across reconnects), so that the pool's next read does not
     * still list it: the deletion counts as a write of the pool once it completed (a node gone already counts too).
     * Waits for it up to {@link #RECIPE_DELETE_WAIT_MILLIS} when the session is connected and this is not ZooKeeper's
     * event thread (which must not wait on its own session); otherwise, or after that, returns while it goes on, and
     * reads see the node gone once it completed. A failure is only logged: the node goes with the session. Works on a
     * closing lease too.
     */
    void deleteRecipeNode(String path) {
        CompletableFuture<Void> deleted;
        try {
            deleted = runner.executeAsync(session, new Calls.Delete(path, -1), pool.completions())
                    .handle((v, e) -> {
                        if (e != null) {
                            if (OperationRunner.unwrap(e) instanceof dev.zksdk.ZkNoNodeException) {
                                recipeWriteCompleted(); // gone already: the reply is at least as new as its deletion
                            } else {
                                org.slf4j.LoggerFactory.getLogger(RealLease.class)
                                        .debug(
                                                "deleting the recipe node {} failed; it goes with the session: {}",
                                                path,
                                                e.toString());
                            }
                        }
                        return null;
                    });
        } catch (RuntimeException e) {
            org.slf4j.LoggerFactory.getLogger(RealLease.class)
                    .debug("deleting the recipe node {} failed; it goes with the session: {}", path, e.toString());
            return;
        }
        if (!session.isConnected() || ClientCnxn.isInEventThread()) {
            return;
        }
        try {
            deleted.get(RECIPE_DELETE_WAIT_MILLIS, java.util.concurrent.TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.TimeoutException e) {
            org.slf4j.LoggerFactory.getLogger(RealLease.class)
                    .debug(
                            "the recipe node {} was not deleted within {} ms; its deletion goes on",
                            path,
                            RECIPE_DELETE_WAIT_MILLIS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException e) {
            // handled above
        }
    }

    /** An asynchronous write; with read sessions, counted while in flight (see {@link #writesInFlight}). */
    private <T> CompletableFuture<T> asyncWrite(ZkCall<T> call) {
        if (writesInFlight == null) {
            return async(call);
        }
        writesInFlight.incrementAndGet();
        CompletableFuture<T> f;
        try {
            f = async(call);
        } catch (RuntimeException e) {
            writesInFlight.decrementAndGet();
            throw e;
        }
        f.whenComplete((v, e) -> writesInFlight.decrementAndGet());
        return f;
    }

    private ZkCall<byte[]> getDataCall(String path) {
        checkOpen();
        return read(new Calls.GetData(Validation.path("path", path)));
    }

    private ZkCall<NodeData> getNodeCall(String path) {
        checkOpen();
        return read(new Calls.GetNode(Validation.path("path", path)));
    }

    private ZkCall<Stat> existsCall(String path) {
        checkOpen();
        return read(new Calls.Exists(Validation.path("path", path)));
    }

    private ZkCall<List<String>> childrenCall(String path) {
        checkOpen();
        return read(new Calls.GetChildren(Validation.path("path", path)));
    }

    private ZkCall<String> createCall(String path, byte[] data, CreateMode mode) {
        return createCall(path, data, mode, null);
    }

    /** {@code acl} null: the ensemble's ACL for the path. */
    private ZkCall<String> createCall(String path, byte[] data, CreateMode mode, List<ACL> acl) {
        checkOpen();
        Validation.notNull("mode", mode);
        Validation.path("path", path, mode.isSequential());
        Validation.data("data", data, maxDataBytes);
        if (mode.isTTL()) {
            throw new IllegalArgumentException("mode " + mode + " needs a TTL; use curator() for TTL nodes");
        }
        if (acl != null && acl.isEmpty()) {
            throw new IllegalArgumentException("acl must not be empty (the server refuses a node nobody may access)");
        }
        refuseContainerOnOldServers(path, mode);
        List<ACL> sent = copyOf(acl != null ? acl : aclFor(path));
        RequestSize.create("data", path, mode.isSequential(), data, sent, maxDataBytes);
        return new Calls.Create(path, data, mode, sent);
    }

    /**
     * A container or TTL node asked for by name is refused on servers before 3.5 (a persistent node in its place would never
     * be removed); parents the SDK or Curator make as containers are made persistent there instead.
     */
    private void refuseContainerOnOldServers(String path, CreateMode mode) {
        if (mode.isContainer() || mode.isTTL()) {
            session.features().awaitKnown();
        }
        if (mode.isContainer() && session.features().before35()) {
            throw session.features().unsupported(path, "a container node", "3.5");
        }
        if (mode.isTTL() && session.features().before35()) {
            throw session.features().unsupported(path, "a TTL node", "3.5.3");
        }
    }

    private List<ACL> aclFor(String path) {
        List<ACL> acl = session.config().aclProvider().getAclForPath(path);
        return acl == null || acl.isEmpty() ? session.config().aclProvider().getDefaultAcl() : acl;
    }

    /**
     * A mutable copy: ZooKeeper's synchronous create asks the list whether it contains null, which the immutable lists
     * of {@code List.of} answer with a NullPointerException.
     */
    private static List<ACL> copyOf(List<ACL> acl) {
        for (int i = 0; i < acl.size(); i++) {
            Validation.notNull("acl[" + i + "]", acl.get(i));
        }
        return new ArrayList<>(acl);
    }

    private ZkCall<Stat> setDataCall(String path, byte[] data, int version) {
        checkOpen();
        Validation.path("path", path);
        Validation.data("data", data, maxDataBytes);
        Validation.version("version", version);
        RequestSize.setData("data", path, data, maxDataBytes);
        return new Calls.SetData(path, data, version);
    }

    private ZkCall<Void> deleteCall(String path, int version) {
        checkOpen();
        Validation.path("path", path);
        Validation.version("version", version);
        return new Calls.Delete(path, version);
    }

    private ZkCall<Void> syncCall(String path) {
        checkOpen();
        return read(new Calls.Sync(Validation.path("path", path)));
    }

    private ZkCall<List<OpResult>> multiCall(List<Op> ops) {
        checkOpen();
        Validation.notNull("ops", ops);
        if (ops.isEmpty()) {
            throw new IllegalArgumentException("ops must not be empty");
        }
        boolean sessionBound = false;
        for (int i = 0; i < ops.size(); i++) {
            Op op = Validation.notNull("ops[" + i + "]", ops.get(i));
            boolean sequential = false;
            if (op.toRequestRecord() instanceof CreateTTLRequest) {
                CreateTTLRequest ttl = (CreateTTLRequest) op.toRequestRecord();
                CreateMode mode;
                try {
                    mode = CreateMode.fromFlag(ttl.getFlags());
                } catch (KeeperException e) {
                    throw new IllegalArgumentException(
                            "ops[" + i + "] has an unknown create mode flag " + ttl.getFlags(), e);
                }
                refuseContainerOnOldServers(op.getPath(), mode);
                sequential = mode.isSequential();
            } else if (op.toRequestRecord() instanceof CreateRequest) {
                CreateRequest request = (CreateRequest) op.toRequestRecord();
                CreateMode mode;
                try {
                    mode = CreateMode.fromFlag(request.getFlags());
                } catch (KeeperException e) {
                    throw new IllegalArgumentException(
                            "ops[" + i + "] has an unknown create mode flag " + request.getFlags(), e);
                }
                sequential = mode.isSequential();
                sessionBound |= mode.isEphemeral();
                refuseContainerOnOldServers(op.getPath(), mode);
                Validation.data(
                        "ops[" + i + "] data",
                        request.getData() == null ? new byte[0] : request.getData(),
                        maxDataBytes);
            }
            Validation.path("ops[" + i + "] path", op.getPath(), sequential);
        }
        RequestSize.multi("ops", ops, maxDataBytes);
        return new Calls.Multi(ops, sessionBound, session.config().chroot());
    }

    @Override
    public byte[] getData(String path) {
        ZkCall<byte[]> call = getDataCall(path);
        return readers == null ? sync(call) : readAnywhere(call, () -> getDataCall(path));
    }

    @Override
    public NodeData getNode(String path) {
        ZkCall<NodeData> call = getNodeCall(path);
        return readers == null ? sync(call) : readAnywhere(call, () -> getNodeCall(path));
    }

    @Override
    public Stat exists(String path) {
        ZkCall<Stat> call = existsCall(path);
        return readers == null ? sync(call) : readAnywhere(call, () -> existsCall(path));
    }

    @Override
    public List<String> getChildren(String path) {
        ZkCall<List<String>> call = childrenCall(path);
        return readers == null ? sync(call) : readAnywhere(call, () -> childrenCall(path));
    }

    @Override
    public String create(String path, byte[] data, CreateMode mode) {
        return sync(createCall(path, data, mode));
    }

    @Override
    public String create(String path, byte[] data, CreateMode mode, List<ACL> acl) {
        return sync(createCall(path, data, mode, Validation.notNull("acl", acl)));
    }

    @Override
    public Stat setData(String path, byte[] data, int version) {
        return sync(setDataCall(path, data, version));
    }

    @Override
    public void delete(String path, int version) {
        sync(deleteCall(path, version));
    }

    @Override
    public void sync(String path) {
        sync(syncCall(path));
    }

    @Override
    public List<OpResult> multi(List<Op> ops) {
        return sync(multiCall(ops));
    }

    @Override
    public CompletableFuture<byte[]> getDataAsync(String path) {
        ZkCall<byte[]> call = getDataCall(path);
        return readers == null ? async(call) : readAnywhereAsync(call, () -> getDataCall(path));
    }

    @Override
    public CompletableFuture<NodeData> getNodeAsync(String path) {
        ZkCall<NodeData> call = getNodeCall(path);
        return readers == null ? async(call) : readAnywhereAsync(call, () -> getNodeCall(path));
    }

    @Override
    public CompletableFuture<Stat> existsAsync(String path) {
        ZkCall<Stat> call = existsCall(path);
        return readers == null ? async(call) : readAnywhereAsync(call, () -> existsCall(path));
    }

    @Override
    public CompletableFuture<List<String>> getChildrenAsync(String path) {
        ZkCall<List<String>> call = childrenCall(path);
        return readers == null ? async(call) : readAnywhereAsync(call, () -> childrenCall(path));
    }

    @Override
    public CompletableFuture<String> createAsync(String path, byte[] data, CreateMode mode) {
        return asyncWrite(createCall(path, data, mode));
    }

    @Override
    public CompletableFuture<String> createAsync(String path, byte[] data, CreateMode mode, List<ACL> acl) {
        return asyncWrite(createCall(path, data, mode, Validation.notNull("acl", acl)));
    }

    @Override
    public CompletableFuture<Stat> setDataAsync(String path, byte[] data, int version) {
        return asyncWrite(setDataCall(path, data, version));
    }

    @Override
    public CompletableFuture<Void> deleteAsync(String path, int version) {
        return asyncWrite(deleteCall(path, version));
    }

    @Override
    public CompletableFuture<Void> syncAsync(String path) {
        return async(syncCall(path));
    }

    @Override
    public CompletableFuture<List<OpResult>> multiAsync(List<Op> ops) {
        return asyncWrite(multiCall(ops));
    }

    @Override
    public EphemeralNode ephemeral(String path, byte[] data) {
        return ephemeral(path, data, CreateMode.EPHEMERAL);
    }

    @Override
    public EphemeralNode ephemeral(String path, byte[] data, CreateMode mode) {
        checkOpen();
        Validation.notNull("mode", mode);
        if (mode != CreateMode.EPHEMERAL && mode != CreateMode.EPHEMERAL_SEQUENTIAL) {
            throw new IllegalArgumentException("mode must be EPHEMERAL or EPHEMERAL_SEQUENTIAL, was " + mode);
        }
        Validation.path("path", path, mode.isSequential());
        Validation.data("data", data, maxDataBytes);
        RequestSize.create("data", path, mode.isSequential(), data, aclFor(path), maxDataBytes);
        return recovery.ephemerals().create(path, data, mode);
    }

    @Override
    public WatchHandle watch(String path, WatchListener listener) {
        return addWatch(path, listener, WatchMode.NODE);
    }

    @Override
    public WatchHandle watchTree(String path, WatchListener listener) {
        return addWatch(path, listener, WatchMode.TREE);
    }

    @Override
    public WatchHandle watchChildren(String path, WatchListener listener) {
        return addWatch(path, listener, WatchMode.CHILDREN);
    }

    private WatchHandle addWatch(String path, WatchListener listener, WatchMode mode) {
        checkOpen();
        Validation.path("path", path);
        Validation.notNull("listener", listener);
        return recovery.watches().add(path, listener, mode);
    }

    @Override
    public ZkCache cache(String path) {
        return cache(path, pool.cacheDefaults());
    }

    @Override
    public ZkTreeCache treeCache(String path) {
        return treeCache(path, pool.cacheDefaults());
    }

    @Override
    public ZkCache cache(String path, CacheConfig config) {
        return openCache(path, config, false);
    }

    @Override
    public ZkTreeCache treeCache(String path, CacheConfig config) {
        return (ZkTreeCache) openCache(path, config, true);
    }

    private WatchedCache openCache(String path, CacheConfig config, boolean tree) {
        checkOpen();
        Validation.path("path", path);
        Validation.notNull("config", config);
        // Reads go straight to the session's pipeline, not through this lease: a cache outlives its lease, as a watch
        // does.
        return WatchedCache.open(
                session, recovery.watches(), runner, RealLease::nodeCall, pool.completions(), path, tree, config);
    }

    /** Data and stat in one read (one version of the node); null when there is no node. */
    private static ZkCall<CachedNode> nodeCall(String path) {
        return new ZkCall<>("getData", path, ZkCall.Kind.READ, false) {
            @Override
            protected CompletableFuture<Void> checkBeforeResend(ZooKeeper zk) {
                return Calls.probeData(zk, path);
            }

            @Override
            protected CompletableFuture<CachedNode> send(ZooKeeper zk) {
                CompletableFuture<CachedNode> f = new CompletableFuture<>();
                zk.getData(
                        path,
                        false,
                        (rc, p, ctx, data, stat) -> {
                            if (rc == 0 && Calls.unreadable(data, stat)) {
                                Calls.failUnreadable(zk, path, f);
                            } else if (rc == 0) {
                                f.complete(new CachedNode(path, data, stat));
                            } else if (rc == KeeperException.Code.NONODE.intValue()) {
                                f.complete(null);
                            } else {
                                f.completeExceptionally(ZkAsync.error(rc, path));
                            }
                        },
                        null);
                return f;
            }
        };
    }

    @Override
    public long sessionId() {
        checkOpen();
        try {
            return session.awaitConnected(session.config().connectionTimeout())
                    .get()
                    .getSessionId();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ZkUnavailableException(null, "interrupted while waiting for a connected session", e);
        } catch (ExecutionException e) {
            throw new ZkUnavailableException(
                    null,
                    "no connected session to " + session.config().connectString() + " within the connection timeout of "
                            + session.config().connectionTimeout().toMillis() + " ms",
                    OperationRunner.unwrap(e));
        }
    }

    @Override
    public CuratorFramework curator() {
        checkOpen();
        return session.guardedClient();
    }

    @Override
    public CuratorFramework curatorOfEnsemble(String alias) {
        if (alias == null || alias.isEmpty()) {
            throw new IllegalArgumentException(
                    "alias must name an ensemble, was " + (alias == null ? "null" : "empty"));
        }
        String own = session.config().alias();
        if (!own.equals(alias)) {
            throw new IllegalArgumentException(
                    "this lease's ensemble has the alias '" + own + "', not '" + alias + "' (the pool has no routes)");
        }
        return curator();
    }

    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            // Elections and locks end with the lease: leadership released, each listener told once.
            Set<FencedTurns> open = coordination;
            if (open != null) {
                for (FencedTurns turns : open) {
                    turns.close();
                }
            }
            pool.leaseClosed(session);
        }
    }

    @Override
    public String toString() {
        return "ZkLease{" + session + (closed.get() ? ", closed" : "") + "}";
    }

    /** This lease's open elections and locks, closed with it; made on the first, so that a lease stays free. */
    private volatile Set<FencedTurns> coordination;

    private String coordinationPath(String path) {
        Validation.path("path", path);
        if (path.endsWith(EPOCH_SUFFIX)) {
            throw new IllegalArgumentException(
                    "path must not end in -epoch (the suffix of the epoch node next to it), was " + path);
        }
        if (path.equals("/")) {
            throw new IllegalArgumentException("path must not be the root, was " + path);
        }
        return path;
    }

    private <T extends FencedTurns> T register(T turns) {
        Set<FencedTurns> open = coordination;
        if (open == null) {
            synchronized (this) {
                open = coordination;
                if (open == null) {
                    coordination = open = ConcurrentHashMap.newKeySet();
                }
            }
        }
        open.add(turns);
        pool.coordinationOpened(turns);
        if (closed.get()) {
            turns.close();
            throw new IllegalStateException("the lease is closed");
        }
        return turns;
    }

    void coordinationClosed(FencedTurns turns) {
        Set<FencedTurns> open = coordination;
        if (open != null) {
            open.remove(turns);
        }
    }

    /** The ACL a fenced create gets: the ensemble's, as for {@link #create(String, byte[], CreateMode)}. */
    List<ACL> aclForFenced(String path) {
        return copyOf(aclFor(path));
    }

    @Override
    public ZkLeadership leaderElection(String path, LeadershipListener listener) {
        checkOpen();
        coordinationPath(path);
        Validation.notNull("listener", listener);
        RealLeadership election = register(new RealLeadership(this, pool, session, path, listener));
        try {
            election.start();
        } catch (RuntimeException e) {
            election.close();
            throw e;
        }
        return election;
    }

    @Override
    public ZkLock lock(String path) {
        return lock(path, FencedTurns.NO_LISTENER);
    }

    @Override
    public ZkLock lock(String path, LeadershipListener listener) {
        checkOpen();
        coordinationPath(path);
        Validation.notNull("listener", listener);
        return register(new RealLock(this, pool, session, path, listener));
    }

    @Override
    public FencedWrites fenced(FencingToken token) {
        checkOpen();
        Validation.notNull("token", token);
        if (!pool.isFencingEpoch(session.config(), token.epochPath())) {
            throw new IllegalArgumentException("token must come from an election or lock of this pool on "
                    + session.config().connectString() + ", was " + token);
        }
        return new RealFencedWrites(this, token);
    }
}
