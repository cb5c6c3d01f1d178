package dev.zksdk.internal.recovery;

import dev.zksdk.WatchEvent;
import dev.zksdk.WatchHandle;
import dev.zksdk.WatchListener;
import dev.zksdk.ZkException;
import dev.zksdk.ZkUnsupportedException;
import dev.zksdk.hosts.BudgetedZooKeeper;
import dev.zksdk.internal.PoolWatcher;
import dev.zksdk.internal.ZkAsync;
import dev.zksdk.internal.session.ServerFeatures;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.zookeeper.AddWatchMode;
import org.apache.zookeeper.ClientCnxn;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.KeeperException.Code;
import org.apache.zookeeper.WatchedEvent;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.data.Stat;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The watches registered on a pooled session. Each is a ZooKeeper persistent watch ({@code addWatch}, PERSISTENT or
 * PERSISTENT_RECURSIVE, ZooKeeper 3.6+), which the client library re-registers by itself on a reconnect within the
 * same session. After a new session every watch is armed again and then gets RESYNC.
 *
 * <p>On a server without persistent watches ({@code UNIMPLEMENTED}), node and children watches fall back to one-shot
 * watches that are re-armed after every event; a tree watch cannot be emulated that way and fails with that code.
 *
 * <p>What can be missed: while no session is connected, changes are not seen as they happen. ZooKeeper replays the
 * gap for one-shot watches on a reconnect within the session, but not for persistent ones: it re-adds them and
 * reports nothing that happened meanwhile (ZooKeeper 3.9's {@code DataTree.setWatches}). So after a reconnect within
 * the same session this class catches up itself: for node and children watches it compares the node's stat with the
 * last state the listener was told about and delivers the events that were missed (CREATED, DELETED, DATA_CHANGED,
 * CHILDREN_CHANGED; a node deleted and re-created in the gap shows as DELETED then CREATED; intermediate values are
 * not replayed, the last one is what the listener reads). A tree watch cannot be caught up without reading the whole
 * subtree, so it gets RESYNC instead. After a new session nothing of the gap is known: every watch gets RESYNC, and the
 * listener must re-read; since the watch is armed before RESYNC is delivered, any change after RESYNC is seen.
 */
public final class RegisteredWatches {

    private static final Logger log = LoggerFactory.getLogger(RegisteredWatches.class);

    private final SessionRecovery recovery;
    private final Set<Registered> watches = ConcurrentHashMap.newKeySet();
    /** For tests and old servers: use re-armed one-shot watches even where persistent ones exist. */
    private volatile boolean forceOneShot;
    /** Closed watches whose watcher could not be taken out of the handle yet (the connection was down). */
    private final Set<Registered> unremoved = ConcurrentHashMap.newKeySet();

    RegisteredWatches(SessionRecovery recovery) {
        this.recovery = recovery;
        recovery.session().onPersistentWatchesDropped(dropped -> persistentWatchesDropped());
    }

    /**
     * The session's handle dropped its persistent watches from its table (a server of the ensemble turned out to lack
     * them, see {@code SharedSession.onSetWatches2Refused}). Each node and children watch becomes a re-armed one-shot
     * watch: the recovery arms it once connected, and the first arming delivers what was missed meanwhile, from the
     * node's stat, as a catch-up after a reconnect does. A tree watch becomes one-shot watches on every node of its
     * subtree (see {@link Registered#armTree}), re-armed after each event, and gets RESYNC once they are armed: what
     * changed in the subtree meanwhile is not known. A new tree watch still fails with {@code ZkUnsupportedException}
     * on such an ensemble.
     */
    void persistentWatchesDropped() {
        for (Registered w : watches) {
            if (w.closed || w.oneShot || forceOneShot) {
                continue;
            }
            w.catchUpOnArm = true;
            w.oneShot = true;
            w.armedSession = 0;
        }
        recovery.schedule();
    }

    /** Number of watches registered now. */
    public int size() {
        return watches.size();
    }

    void forceOneShot(boolean value) {
        this.forceOneShot = value;
    }

    int armedIn(long sid) {
        int n = 0;
        for (Registered w : watches) {
            if (w.armedSession == sid) {
                n++;
            }
        }
        return n;
    }

    /** Registers a user's watch and waits until it is armed on the server. */
    public WatchHandle add(String path, WatchListener listener, WatchMode mode) {
        return add(path, listener, mode, false);
    }

    /**
     * Registers a watch and waits until it is armed on the server. A user's listener runs on the pool's callback
     * threads, on its own ordered queue; an {@code internal} one (a cache's) on the session's internal thread, so it
     * never waits behind user code.
     */
    public WatchHandle add(String path, WatchListener listener, WatchMode mode, boolean internal) {
        features().awaitKnown(); // a watch right after the first connect is armed in the form the servers know
        if (mode == WatchMode.TREE && features().persistentWatches() == ServerFeatures.Known.NO) {
            throw treeUnsupported(path);
        }
        Registered w = new Registered(path, listener, mode, internal);
        watches.add(w);
        recovery.schedule();
        recovery.awaitRegistration("watch", path, w.firstArm, w::close, () -> null);
        return w;
    }

    /**
     * Arms every watch not yet armed in {@code sid}, all requests at once. Returns how many could not be armed (for a
     * reason other than the connection): the recovery tries them again with backoff.
     */
    int ensureAll(ZooKeeper zk, long sid, Duration timeout)
            throws InterruptedException, ExecutionException, TimeoutException {
        List<CompletableFuture<Void>> futures = new ArrayList<>();
        List<Registered> sent = new ArrayList<>();
        for (Registered w : watches) {
            if (w.closed || w.armedSession == sid) {
                continue;
            }
            sent.add(w);
            futures.add(w.arm(zk, sid));
        }
        if (futures.isEmpty()) {
            return 0;
        }
        CompletableFuture.allOf(futures.toArray(new CompletableFuture<?>[0]))
                .exceptionally(e -> null)
                .get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        int failed = 0;
        Throwable connectionFailure = null;
        for (int i = 0; i < futures.size(); i++) {
            try {
                futures.get(i).getNow(null);
            } catch (CompletionException e) {
                Throwable cause = ZkAsync.unwrap(e);
                Registered w = sent.get(i);
                if (cause instanceof KeeperException && isConnection(((KeeperException) cause).code())) {
                    connectionFailure = cause;
                } else if (cause instanceof ZkUnsupportedException) {
                    // Never sent again (the server would close the connection each time): the watch ends here.
                    w.firstArm.completeExceptionally(cause);
                    w.close();
                } else {
                    failed++;
                    log.warn(
                            "{}: watch on {} could not be armed: {}; trying again",
                            recovery.session().label(),
                            w.path,
                            cause.toString());
                    w.firstArm.completeExceptionally(
                            cause instanceof KeeperException
                                    ? ZkException.of(
                                            ((KeeperException) cause).code(),
                                            w.path,
                                            "watch " + w.path + ": " + ((KeeperException) cause).code(),
                                            cause)
                                    : cause);
                }
            }
        }
        if (connectionFailure != null) {
            throw new ExecutionException(connectionFailure);
        }
        return failed;
    }

    private ServerFeatures features() {
        return recovery.session().features();
    }

    private ZkUnsupportedException treeUnsupported(String path) {
        return features().unsupported(path, "a recursive watch (watchTree, tree caches)", "3.6");
    }

    private static boolean isConnection(Code c) {
        return c == Code.CONNECTIONLOSS
                || c == Code.OPERATIONTIMEOUT
                || c == Code.SESSIONEXPIRED
                || c == Code.SESSIONMOVED;
    }

    /** Delivers RESYNC to every watch armed in {@code sid} that was registered before this session. */
    void deliverResync(long sid) {
        for (Registered w : watches) {
            if (!w.closed && w.armedSession == sid && w.resyncPendingFor == sid) {
                w.resyncPendingFor = 0;
                w.deliver(new WatchEvent(WatchEvent.Type.RESYNC, w.path));
            }
        }
    }

    /**
     * After a reconnect within the same session: delivers what persistent watches missed while disconnected (see the
     * class comment). Reads are sent at once for all watches.
     */
    void catchUp(ZooKeeper zk, long sid, Duration timeout)
            throws InterruptedException, ExecutionException, TimeoutException {
        List<CompletableFuture<Void>> futures = new ArrayList<>();
        for (Registered w : watches) {
            if (w.closed || w.armedSession != sid) {
                continue;
            }
            if (w.mode == WatchMode.TREE && !(w.oneShot || forceOneShot)) {
                w.deliver(new WatchEvent(WatchEvent.Type.RESYNC, w.path));
            } else if (!(w.oneShot || forceOneShot)) {
                futures.add(w.catchUp(zk));
            }
        }
        if (!futures.isEmpty()) {
            CompletableFuture.allOf(futures.toArray(new CompletableFuture<?>[0]))
                    .get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        }
    }

    /**
     * Removes the watchers of watches closed while the connection was down (see {@link Registered#removeFromServer}), in
     * {@code sid}; those of earlier sessions went with their handles.
     *
     * @throws ExecutionException when the connection was lost again
     */
    void removeClosed(ZooKeeper zk, long sid, Duration timeout)
            throws InterruptedException, ExecutionException, TimeoutException {
        List<CompletableFuture<Boolean>> futures = new ArrayList<>();
        for (Registered w : unremoved) {
            if (w.armedSession != sid) {
                unremoved.remove(w);
            } else {
                futures.add(w.removeFromServer(zk));
            }
        }
        for (CompletableFuture<Boolean> f : futures) {
            if (!f.get(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new ExecutionException(KeeperException.create(Code.CONNECTIONLOSS, "removing closed watches"));
            }
        }
    }

    void closeAll() {
        for (Registered w : watches) {
            w.closed = true;
            w.firstArm.completeExceptionally(new IllegalStateException("the pool is closed"));
        }
        watches.clear();
    }

    /** One registered watch: its ZooKeeper watcher, and the session it is armed in. */
    final class Registered implements WatchHandle, PoolWatcher {
        final String path;
        final WatchListener listener;
        final WatchMode mode;
        /** Where the listener runs: the session's internal thread (a cache) or its own queue on the callback threads. */
        private final Executor delivery;

        final CompletableFuture<Void> firstArm = new CompletableFuture<>();
        volatile long armedSession;
        volatile long resyncPendingFor;
        volatile boolean oneShot;
        /** Was persistent until its handle dropped it: its next one-shot arming delivers what it missed. */
        volatile boolean catchUpOnArm;

        volatile boolean closed;
        // What the listener has been told about the node, kept up to date from events (on ZooKeeper's event thread) so
        // that a reconnect can tell what it missed. Unknown (known == false) until the first read after arming.
        // Counted in the node's versions, not its zxids: servers before 3.9 send notifications without a zxid
        // (ServerCnxn.process, ReplyHeader(-1, -1, 0)), but each notified change moves a version by exactly one: a
        // setData the data version; a child created or deleted the cversion, which a client reads as creates plus
        // deletes (DataNode.copyStat: twice the creates less the children left; ZooKeeper 3.4 to 3.9).
        private volatile boolean known;
        private volatile boolean exists;
        /**
         * The node's czxid, or 0 (unknown) when it was created since the last read and the notification carried no zxid.
         * A persistent watch learns it with a read right after such a CREATED ({@link #learnCzxid}); a one-shot watch at
         * the read that re-arms it.
         */
        private volatile long czxid;
        /**
         * One-shot: the connection came back within the session and the server may replay, for the watches the client
         * re-registered ({@code SetWatches}), a data or children change it cannot name: a node deleted and re-created
         * meanwhile comes as NodeDataChanged. Until the next arming read, such notifications are not delivered as
         * they are; that read tells what changed ({@link #deliverMissed}).
         */
        private volatile boolean replayed;
        /** The node's data version. */
        private volatile int version;
        /** The node's cversion: changes to its list of children. */
        private volatile int cversion;

        Registered(String path, WatchListener listener, WatchMode mode, boolean internal) {
            this.path = path;
            this.listener = listener;
            this.mode = mode;
            // A user listener too slow to keep up loses its queued events for one RESYNC: it re-reads, memory stays
            // bounded.
            this.delivery = internal
                    ? recovery.session().internalExecutor()
                    : recovery.host()
                            .listenerQueue(
                                    "watch listener on " + path,
                                    () -> () -> run(new WatchEvent(WatchEvent.Type.RESYNC, path)));
        }

        CompletableFuture<Void> arm(ZooKeeper zk, long sid) {
            if (armedSession != 0 && armedSession != sid) {
                resyncPendingFor = sid; // it was armed in an earlier session: the new one starts with RESYNC
            }
            if (!oneShot && mode != WatchMode.TREE && features().persistentWatches() == ServerFeatures.Known.NO) {
                oneShot =
                        true; // known for the ensemble: no addWatch is sent to a server that would drop the connection
            }
            if (oneShot || forceOneShot) {
                return armOneShot(zk, sid, false);
            }
            if (features().persistentWatches() == ServerFeatures.Known.NO) {
                return CompletableFuture.failedFuture(treeUnsupported(path));
            }
            CompletableFuture<Void> f = new CompletableFuture<>();
            AddWatchMode addMode = mode == WatchMode.TREE ? AddWatchMode.PERSISTENT_RECURSIVE : AddWatchMode.PERSISTENT;
            zk.addWatch(
                    path,
                    this,
                    addMode,
                    (rc, p, ctx) -> {
                        if (rc == 0) {
                            features().persistentWatchesWork();
                            if (mode == WatchMode.TREE) {
                                armed(sid);
                                f.complete(null);
                            } else {
                                // The baseline for catching up after a reconnect: read after the watch is armed, so any
                                // later change
                                // arrives as an event and moves it on.
                                zk.exists(
                                        path,
                                        false,
                                        (erc, ep, ectx, stat) -> {
                                            if (erc == 0 || erc == Code.NONODE.intValue()) {
                                                remember(stat);
                                            }
                                            armed(sid);
                                            f.complete(null);
                                        },
                                        null);
                            }
                        } else if (rc == Code.UNIMPLEMENTED.intValue() && mode == WatchMode.TREE) {
                            features().noPersistentWatches();
                            f.completeExceptionally(treeUnsupported(path));
                        } else if (rc == Code.UNIMPLEMENTED.intValue()) {
                            features().noPersistentWatches();
                            oneShot = true;
                            armOneShot(zk, sid, false).whenComplete((v, e) -> {
                                if (e == null) {
                                    f.complete(null);
                                } else {
                                    f.completeExceptionally(e);
                                }
                            });
                        } else {
                            f.completeExceptionally(KeeperException.create(Code.get(rc), path));
                        }
                    },
                    null);
            return f;
        }

        /**
         * exists() watches the node's existence and data; getChildren() its children when it exists. The last of these
         * reads sets what the listener is known to have been told (see {@link #settleOnArm}).
         */
        private CompletableFuture<Void> armOneShot(ZooKeeper zk, long sid, boolean afterEvent) {
            if (mode == WatchMode.TREE) {
                return armTree(zk, sid);
            }
            CompletableFuture<Void> f = new CompletableFuture<>();
            zk.exists(
                    path,
                    this,
                    (rc, p, ctx, stat) -> {
                        if (rc != 0 && rc != Code.NONODE.intValue()) {
                            f.completeExceptionally(KeeperException.create(Code.get(rc), path));
                            return;
                        }
                        if (mode == WatchMode.CHILDREN && rc == 0) {
                            zk.getChildren(
                                    path,
                                    this,
                                    (crc, cp, cctx, children, cstat) -> {
                                        if (crc == 0 || crc == Code.NONODE.intValue()) {
                                            settleOnArm(crc == 0 ? cstat : null, sid, afterEvent);
                                            armed(sid);
                                            f.complete(null);
                                        } else {
                                            f.completeExceptionally(KeeperException.create(Code.get(crc), path));
                                        }
                                    },
                                    null);
                        } else {
                            settleOnArm(rc == 0 ? stat : null, sid, afterEvent);
                            armed(sid);
                            f.complete(null);
                        }
                    },
                    null);
            return f;
        }

        /**
         * At the read that armed a one-shot watch (on the event thread, after every notification the server sent before
         * it): what changed since the listener was last told, in the same session (between an event and this re-arm,
         * while the watch was disarmed, or while it was a persistent watch its handle dropped), was notified to nobody,
         * so it is delivered now; what was delivered as an event is already counted ({@link #learn}), so nothing is
         * delivered twice. A first arming only records the node; in a new session RESYNC follows instead.
         *
         * <p>{@code afterEvent}: the re-arm right after an event. A czxid still unknown then (a CREATED without a zxid
         * just before) is learnt from this read, the node taken as the one created: a delete and re-create between the
         * event and this read leaves no trace but the czxid, which was never known (README: what one-shot watches can
         * see). Any other arming in the same session spans a longer gap: an unknown czxid gives RESYNC.
         */
        private void settleOnArm(Stat stat, long sid, boolean afterEvent) {
            boolean catchUp = catchUpOnArm;
            catchUpOnArm = false;
            replayed = false;
            if (catchUp || (known && resyncPendingFor != sid)) {
                deliverMissed(stat, !afterEvent);
            } else {
                remember(stat);
            }
        }

        private void armed(long sid) {
            armedSession = sid;
            firstArm.complete(null);
        }

        /** Nodes of a one-shot tree watch's subtree known to exist (their watches armed or being armed). */
        private final Set<String> treeNodes = ConcurrentHashMap.newKeySet();

        /**
         * A tree watch on servers without persistent recursive watches (it was persistent until its handle dropped
         * it): one-shot exists and children watches on every node of the subtree, armed again after each event. A node
         * found by a children listing is reported CREATED (with everything below it); a deletion and a data change by
         * the node's own watch. Ends with RESYNC when it took over from a persistent watch or was disarmed: what
         * happened meanwhile is not known. Within the session, ZooKeeper re-registers the one-shot watches on a
         * reconnect and reports what changed while disconnected.
         */
        private CompletableFuture<Void> armTree(ZooKeeper zk, long sid) {
            boolean resync = catchUpOnArm;
            catchUpOnArm = false;
            treeNodes.clear();
            return walk(zk, path, false).thenRun(() -> {
                armed(sid);
                if (resync) {
                    deliver(new WatchEvent(WatchEvent.Type.RESYNC, path));
                }
            });
        }

        /** Arms watches on {@code node} and every node below it; {@code announce}: report each node found CREATED. */
        private CompletableFuture<Void> walk(ZooKeeper zk, String node, boolean announce) {
            CompletableFuture<Void> f = new CompletableFuture<>();
            zk.exists(
                    node,
                    this,
                    (rc, p, ctx, stat) -> {
                        if (rc == Code.NONODE.intValue()) {
                            treeNodes.remove(node);
                            f.complete(null);
                            return;
                        }
                        if (rc != 0) {
                            f.completeExceptionally(KeeperException.create(Code.get(rc), node));
                            return;
                        }
                        if (treeNodes.add(node) && announce) {
                            deliver(new WatchEvent(WatchEvent.Type.CREATED, node));
                        }
                        listChildren(zk, node, announce).whenComplete((v, e) -> {
                            if (e == null) {
                                f.complete(null);
                            } else {
                                f.completeExceptionally(ZkAsync.unwrap(e));
                            }
                        });
                    },
                    null);
            return f;
        }

        /** Arms the children watch of {@code node} and walks the children not known yet. */
        private CompletableFuture<Void> listChildren(ZooKeeper zk, String node, boolean announce) {
            CompletableFuture<Void> f = new CompletableFuture<>();
            zk.getChildren(
                    node,
                    this,
                    (rc, p, ctx, children) -> {
                        if (rc == Code.NONODE.intValue()) {
                            f.complete(null); // deleted meanwhile: its own watch reports it
                            return;
                        }
                        if (rc != 0) {
                            f.completeExceptionally(KeeperException.create(Code.get(rc), node));
                            return;
                        }
                        List<CompletableFuture<Void>> below = new ArrayList<>();
                        for (String child : children) {
                            String childPath = node.equals("/") ? "/" + child : node + "/" + child;
                            if (!treeNodes.contains(childPath)) {
                                below.add(walk(zk, childPath, announce));
                            }
                        }
                        CompletableFuture.allOf(below.toArray(new CompletableFuture<?>[0]))
                                .whenComplete((v, e) -> {
                                    if (e == null) {
                                        f.complete(null);
                                    } else {
                                        f.completeExceptionally(ZkAsync.unwrap(e));
                                    }
                                });
                    },
                    null);
            return f;
        }

        /** An event of a one-shot tree watch (see {@link #armTree}): delivers it and arms what it used up. */
        private void onTreeEvent(WatchedEvent event) {
            String node = event.getPath() == null ? path : event.getPath();
            long armedIn = armedSession;
            ZooKeeper zk = recovery.session().connectedHandle();
            boolean live = zk != null && armedIn != 0 && zk.getSessionId() == armedIn;
            CompletableFuture<Void> rearm = null;
            switch (event.getType()) {
                case NodeCreated:
                    // The subtree's root (or a node deleted and made again before its parent's listing): found by
                    // its exists watch; walked with everything below it.
                    if (live) {
                        rearm = walk(zk, node, true);
                    }
                    break;
                case NodeDataChanged:
                    deliver(new WatchEvent(WatchEvent.Type.DATA_CHANGED, node));
                    if (live) {
                        CompletableFuture<Void> f = new CompletableFuture<>();
                        zk.exists(
                                node,
                                this,
                                (rc, p, ctx, stat) -> {
                                    if (rc == 0 || rc == Code.NONODE.intValue()) {
                                        f.complete(null);
                                    } else {
                                        f.completeExceptionally(KeeperException.create(Code.get(rc), node));
                                    }
                                },
                                null);
                        rearm = f;
                    }
                    break;
                case NodeDeleted:
                    treeNodes.remove(node);
                    deliver(new WatchEvent(WatchEvent.Type.DELETED, node));
                    if (live && node.equals(path)) {
                        rearm = walk(zk, node, true); // watches for the subtree's root to be made again
                    }
                    break;
                case NodeChildrenChanged:
                    if (live && treeNodes.contains(node)) {
                        rearm = listChildren(zk, node, true);
                    }
                    break;
                default:
                    return;
            }
            if (!live) {
                catchUpOnArm = true; // armed again by the recovery, then RESYNC
                disarmed(armedIn);
            } else if (rearm != null) {
                rearm.whenComplete((v, e) -> {
                    if (e != null) {
                        log.info(
                                "{}: re-arming the tree watch on {} at {} failed ({}); the recovery arms it again",
                                recovery.session().label(),
                                path,
                                node,
                                ZkAsync.unwrap(e).toString());
                        catchUpOnArm = true;
                        disarmed(armedIn);
                    }
                });
            }
        }

        @Override
        public void process(WatchedEvent event) {
            if (closed) {
                return;
            }
            if (event.getType() == Event.EventType.None) {
                if (event.getState() == Event.KeeperState.SyncConnected && (oneShot || forceOneShot)) {
                    replayed = true; // notifications the server replays on this connection come after this event
                }
                return;
            }
            if (mode == WatchMode.TREE && (oneShot || forceOneShot)) {
                onTreeEvent(event);
                return;
            }
            WatchEvent.Type type;
            switch (event.getType()) {
                case NodeCreated:
                    type = WatchEvent.Type.CREATED;
                    break;
                case NodeDataChanged:
                    type = WatchEvent.Type.DATA_CHANGED;
                    break;
                case NodeDeleted:
                    type = WatchEvent.Type.DELETED;
                    break;
                case NodeChildrenChanged:
                    if (mode == WatchMode.NODE) {
                        return;
                    }
                    type = WatchEvent.Type.CHILDREN_CHANGED;
                    break;
                default:
                    return; // watch-removed notices
            }
            boolean own = event.getPath() == null || event.getPath().equals(path);
            boolean oneShotNow = oneShot || forceOneShot;
            if (own
                    && oneShotNow
                    && replayed
                    && known
                    && (type == WatchEvent.Type.DATA_CHANGED || type == WatchEvent.Type.CHILDREN_CHANGED)) {
                // Possibly the server's replay of a re-creation, not a change of this node: the arming read decides.
                rearmOneShot();
                return;
            }
            if (own) {
                learn(type, event.getZxid());
            }
            if (oneShotNow) {
                rearmOneShot();
            } else if (own && type == WatchEvent.Type.CREATED && known && czxid == 0) {
                learnCzxid();
            }
            deliver(new WatchEvent(type, event.getPath() == null ? path : event.getPath()));
        }

        /**
         * After a CREATED without a zxid on a persistent watch: reads the node (no watch) to learn its czxid, so that a
         * later catch-up can tell a node deleted and re-created meanwhile. The answer comes on the event thread after
         * every notification sent before it, and a persistent watch is notified of every change: what the listener
         * was told then matches the node read. If the read is lost with the connection, czxid stays unknown and the
         * catch-up delivers RESYNC.
         */
        private void learnCzxid() {
            ZooKeeper zk = recovery.session().connectedHandle();
            if (zk == null) {
                return;
            }
            zk.exists(
                    path,
                    false,
                    (rc, p, ctx, stat) -> {
                        if (rc == 0 && stat != null && known && exists && czxid == 0) {
                            czxid = stat.getCzxid();
                        }
                    },
                    null);
        }

        /**
         * A one-shot watch ends with each event: arm it again. If that fails (the connection dropped, the server refused),
         * the watch is no longer armed and the recovery arms it on its next pass, with backoff: it never stays dead.
         */
        private void rearmOneShot() {
            long armedIn = armedSession;
            ZooKeeper zk = recovery.session().connectedHandle();
            if (zk == null || zk.getSessionId() != armedIn) {
                disarmed(armedIn);
                return;
            }
            armOneShot(zk, armedIn, true).whenComplete((v, e) -> {
                if (e != null) {
                    log.info(
                            "{}: re-arming the one-shot watch on {} failed ({}); the recovery arms it again",
                            recovery.session().label(),
                            path,
                            ZkAsync.unwrap(e).toString());
                    disarmed(armedIn);
                }
            });
        }

        private void disarmed(long sid) {
            if (armedSession == sid) {
                armedSession = 0;
            }
            recovery.schedule();
        }

        /** Runs on ZooKeeper's event thread, like every watch event, so events and catch-up reads are in order. */
        private void remember(Stat stat) {
            known = true;
            exists = stat != null;
            czxid = stat == null ? 0 : stat.getCzxid();
            version = stat == null ? 0 : stat.getVersion();
            cversion = stat == null ? 0 : stat.getCversion();
        }

        /**
         * Moves what the listener knows on by one delivered event. Exact whether or not the notification carried a zxid:
         * a persistent watch is notified of every change, one notification each; a one-shot watch of the first change
         * after the read that armed it. A read of the node later ({@link #deliverMissed}) then finds only what was not
         * delivered.
         */
        private void learn(WatchEvent.Type type, long zxid) {
            if (!known) {
                return;
            }
            switch (type) {
                case CREATED:
                    exists = true;
                    czxid = zxid == WatchedEvent.NO_ZXID ? 0 : zxid;
                    version = 0;
                    cversion = 0;
                    break;
                case DELETED:
                    exists = false;
                    break;
                case DATA_CHANGED:
                    version++;
                    break;
                case CHILDREN_CHANGED:
                    cversion++;
                    break;
                default:
                    break;
            }
        }

        /** Compares the node now with what the listener knows, and delivers the difference as events. */
        CompletableFuture<Void> catchUp(ZooKeeper zk) {
            CompletableFuture<Void> f = new CompletableFuture<>();
            zk.exists(
                    path,
                    false,
                    (rc, p, ctx, stat) -> {
                        if (rc != 0 && rc != Code.NONODE.intValue()) {
                            f.completeExceptionally(KeeperException.create(Code.get(rc), path));
                            return;
                        }
                        deliverMissed(stat, true);
                        f.complete(null);
                    },
                    null);
            return f;
        }

        /**
         * Delivers the difference between {@code stat} (null: no node) and what the listener knows, then keeps it.
         * {@code resyncIfUnknown}: when the node's czxid is unknown (created since the last read, told by a notification
         * without a zxid), a re-creation cannot be told from the same node: RESYNC; otherwise the node read is taken as
         * the one created.
         */
        private void deliverMissed(Stat stat, boolean resyncIfUnknown) {
            if (!known) {
                deliver(new WatchEvent(WatchEvent.Type.RESYNC, path));
            } else if (exists && stat == null) {
                deliver(new WatchEvent(WatchEvent.Type.DELETED, path));
            } else if (!exists && stat != null) {
                deliver(new WatchEvent(WatchEvent.Type.CREATED, path));
                changedSinceCreated(stat);
            } else if (exists && czxid == 0 && resyncIfUnknown) {
                deliver(new WatchEvent(WatchEvent.Type.RESYNC, path));
            } else if (exists) {
                if (czxid != 0 && stat.getCzxid() != czxid) {
                    deliver(new WatchEvent(WatchEvent.Type.DELETED, path));
                    deliver(new WatchEvent(WatchEvent.Type.CREATED, path));
                    changedSinceCreated(stat);
                } else {
                    if (stat.getVersion() != version) {
                        deliver(new WatchEvent(WatchEvent.Type.DATA_CHANGED, path));
                    }
                    if (mode == WatchMode.CHILDREN && stat.getCversion() != cversion) {
                        deliver(new WatchEvent(WatchEvent.Type.CHILDREN_CHANGED, path));
                    }
                }
            }
            remember(stat);
        }

        /**
         * A node found created (or re-created) by a read starts at version and cversion 0: above that, its data or
         * children changed since, unseen (or seen by a notification held for this read, see {@link #replayed}).
         */
        private void changedSinceCreated(Stat stat) {
            if (stat.getVersion() != 0) {
                deliver(new WatchEvent(WatchEvent.Type.DATA_CHANGED, path));
            }
            if (mode == WatchMode.CHILDREN && stat.getCversion() != 0) {
                deliver(new WatchEvent(WatchEvent.Type.CHILDREN_CHANGED, path));
            }
        }

        void deliver(WatchEvent event) {
            try {
                delivery.execute(() -> run(event));
            } catch (RejectedExecutionException e) {
                // the pool is closing
            }
        }

        private void run(WatchEvent event) {
            if (closed) {
                return;
            }
            try {
                listener.onEvent(event);
            } catch (RuntimeException e) {
                log.warn(
                        "{}: watch listener on {} threw on {}",
                        recovery.session().label(),
                        path,
                        event,
                        e);
            }
        }

        @Override
        public String path() {
            return path;
        }

        /**
         * Stops delivering at once and removes this watcher, and only it: watchers that Curator recipes on
         * {@code lease.curator()} (or other handles of this pool) set on the same path stay. A one-shot watch (servers
         * before 3.6) is just left to fire once more, unseen: nothing is sent, since such servers may not know watch
         * removal. A persistent watch is removed from the client's watch table; the server forgets it too, unless
         * another watcher of the same kind on the path still needs it.
         */
        @Override
        public void close() {
            if (closed) {
                return;
            }
            closed = true;
            watches.remove(this);
            firstArm.completeExceptionally(new IllegalStateException("closed"));
            ZooKeeper zk = recovery.session().connectedHandle();
            if (zk == null || armedSession == 0 || oneShot || forceOneShot) {
                if (zk == null && armedSession != 0 && !(oneShot || forceOneShot)) {
                    unremoved.add(this); // still in the handle's watch table: removed once connected again
                }
                return;
            }
            CompletableFuture<Boolean> f = removeFromServer(zk);
            if (ClientCnxn.isInEventThread()) {
                return; // called from a ZooKeeper callback: waiting here would hold up the answer itself
            }
            try {
                f.get(recovery.session().config().connectionTimeout().toMillis(), TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (ExecutionException | TimeoutException e) {
                log.debug(
                        "{}: removing the watch on {} from the server did not finish; it no longer delivers",
                        recovery.session().label(),
                        path,
                        e);
            }
        }

        /**
         * Takes this closed watch's watcher out of the handle's table, and the server's watch too if no other watcher of
         * the kind is left on the path. Completes with false when the connection was lost first: the watcher is then
         * still in the table (and re-registered with the server on reconnect), and {@link #removeClosed} tries again.
         *
         * <p>Not ZooKeeper's {@code local = true}: when the connection drops under such a removal, ZooKeeper's client
         * delivers the removal as an event in the Disconnected state, records that state as reported, and then drops the
         * connection's own Disconnected event as a duplicate; the session would never be seen suspended (nor, with no
         * server reachable, lost).
         */
        CompletableFuture<Boolean> removeFromServer(ZooKeeper zk) {
            WatcherType type = mode == WatchMode.TREE ? WatcherType.PersistentRecursive : WatcherType.Persistent;
            CompletableFuture<Boolean> f = new CompletableFuture<>();
            zk.removeWatches(
                    path,
                    this,
                    type,
                    false,
                    (rc, p, ctx) -> {
                        if (rc == 0) {
                            unremoved.remove(this);
                            if (zk instanceof BudgetedZooKeeper && !((BudgetedZooKeeper) zk).hasWatchers(path, type)) {
                                // No watcher of this kind is left on the path on this side: the server's watch serves
                                // nobody now.
                                zk.removeAllWatches(path, type, false, (rrc, rp, rctx) -> f.complete(true), null);
                            } else {
                                f.complete(true);
                            }
                        } else if (isConnection(Code.get(rc)) && rc != Code.SESSIONEXPIRED.intValue()) {
                            unremoved.add(this);
                            f.complete(false);
                        } else {
                            // NOWATCHER (already gone) or the session ended: nothing of it is left.
                            unremoved.remove(this);
                            f.complete(true);
                        }
                    },
                    null);
            return f;
        }

        @Override
        public String toString() {
            return "WatchHandle{" + mode + " " + path + (closed ? ", closed" : "") + "}";
        }
    }
}
