package dev.zksdk.internal.recovery;

import dev.zksdk.EphemeralNode;
import dev.zksdk.ZkConnectionLossException;
import dev.zksdk.ZkException;
import dev.zksdk.ZkInterruptedException;
import dev.zksdk.ZkNodeExistsException;
import dev.zksdk.internal.RequestSize;
import dev.zksdk.internal.SerialQueue;
import dev.zksdk.internal.Validation;
import dev.zksdk.internal.ZkAsync;
import dev.zksdk.internal.pipeline.Calls;
import dev.zksdk.internal.pipeline.OperationRunner;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import org.apache.curator.framework.imps.ProtectedUtils;
import org.apache.curator.utils.ZKPaths;
import org.apache.zookeeper.ClientCnxn;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.KeeperException.Code;
import org.apache.zookeeper.WatchedEvent;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.data.ACL;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The ephemerals one pooled session owns. Each is confirmed per session id: "exists on the server, owned by session
 * X, created by this registration". A recovery pass brings every one to "owned by the live session", sending all
 * requests at once.
 *
 * <p>Ownership belongs to the {@link EphemeralNode} handle, not to the session:
 * <ul>
 *   <li>A plain path has at most one live registration per pool (the {@link EphemeralRegistry} of its ensemble): a
 *       second {@code ephemeral(path)} fails at once with {@link ZkNodeExistsException}.</li>
 *   <li>A node the registration did not create is never taken as its own: not another client's, not one made through
 *       {@code lease.create} or {@code curator()} on the same session, not one left by a closed registration. The
 *       one exception: a create of this registration lost in flight, when the node found afterwards is owned by the
 *       same session and was created after that create was sent (a create made by other code on the same session at
 *       that same moment cannot be told from it).</li>
 *   <li>Nothing is deleted that cannot be shown to be the registration's own: a node left by this pool's expired
 *       session is waited for (the server deletes it when it expires that session), never deleted by version, since
 *       versions restart at 0 and another client may have created a node there meanwhile. A sequential node is
 *       named with the registration's own random id, so a leftover of it can be deleted.</li>
 * </ul>
 *
 * <p>Each registration watches its node (a one-shot {@code exists} watch, which every server has): when someone else
 * deletes it, it is re-created at once, and {@link EphemeralNode#isPresent()} turns false within a round trip.
 * Failures to re-create (a removed parent, {@code NOAUTH}, a conflicting node) are retried with backoff, reported once
 * per cause to {@link dev.zksdk.SessionListener#onEphemeralMissing} and counted as missing in the ensemble's status
 * until the node exists again ({@link dev.zksdk.SessionListener#onEphemeralRestored}).
 */
public final class OwnedEphemerals {

    private static final Logger log = LoggerFactory.getLogger(OwnedEphemerals.class);
    /** How often a closed registration's node is read and deleted while our own writes keep changing its version. */
    private static final int DELETE_ATTEMPTS = 10;

    private final SessionRecovery recovery;
    private final EphemeralRegistry registry;
    private final Set<Owned> owned = ConcurrentHashMap.newKeySet();
    /** Closed registrations whose node exists under the live session and could not be deleted yet. */
    private final Set<Owned> closing = ConcurrentHashMap.newKeySet();

    OwnedEphemerals(SessionRecovery recovery, EphemeralRegistry registry) {
        this.recovery = recovery;
        this.registry = registry;
    }

    int confirmedIn(long sid) {
        int n = 0;
        for (Owned o : owned) {
            if (o.confirmedSession == sid) {
                n++;
            }
        }
        return n;
    }

    /** Number of ephemerals registered now. */
    public int size() {
        return owned.size();
    }

    /** Registrations whose node is known to be missing on the server (a re-creation failed or is waiting). */
    public int missing() {
        int n = 0;
        for (Owned o : owned) {
            if (o.missing != null) {
                n++;
            }
        }
        return n;
    }

    /**
     * Registers an ephemeral and waits, up to the connection timeout plus the session timeout, until it exists on the
     * server, created by this registration.
     *
     * @throws ZkNodeExistsException when this pool already has a live registration of {@code path}, or a node exists
     *     there that this registration did not create (another client's, or one made by other means on this pool)
     */
    public EphemeralNode create(String path, byte[] data, CreateMode mode) {
        if (recovery.isReadOnly()) {
            throw new ZkException(
                    Code.NOTREADONLY,
                    path,
                    "ephemeral " + path + ": the session is connected to a read-only server (no majority of the "
                            + "ensemble is reachable), which refuses every create; nothing was registered: register it "
                            + "again once the session is read-write");
        }
        Owned node = new Owned(path, data.clone(), mode);
        if (!mode.isSequential()) {
            Owned existing = registry.registered.putIfAbsent(path, node);
            if (existing != null) {
                throw new ZkNodeExistsException(
                        path,
                        "ephemeral " + path + ": already registered by this pool (" + existing
                                + "); a path has at most one live EphemeralNode per pool: close that one first, or keep using it "
                                + "(setData changes its data)",
                        null);
            }
        }
        owned.add(node);
        recovery.schedule();
        recovery.awaitRegistration("ephemeral", path, node.firstConfirmation, node::close, () -> node.missing);
        return node;
    }

    static final class PassResult {
        int recreated;
        /** Registrations still missing after the pass (conflict, waiting, failed): the pass is tried again later. */
        int pending;
    }

    /**
     * Brings every owned ephemeral to "exists, owned by {@code sid}, with its latest data", and deletes the nodes of
     * registrations closed while it could not be done. Pipelined: all requests go out at once.
     *
     * @throws ExecutionException with the connection failure when the connection was lost during the pass
     */
    PassResult ensureAll(ZooKeeper zk, long sid, Duration timeout)
            throws InterruptedException, ExecutionException, TimeoutException {
        PassResult result = new PassResult();
        List<CompletableFuture<Outcome>> futures = new ArrayList<>();
        List<Owned> sent = new ArrayList<>();
        for (Owned c : closing) {
            if (c.confirmedSession != sid) {
                forgetClosing(c); // its session is gone, and the node with it
                continue;
            }
            sent.add(c);
            futures.add(c.deleteOwn(zk, sid).thenApply(deleted -> {
                forgetClosing(c);
                return Outcome.CONFIRMED;
            }));
        }
        int deletes = futures.size();
        // One existence check per distinct parent, however many owned nodes share it (a registry directory).
        Map<String, CompletableFuture<Void>> parentChecks = new HashMap<>();
        for (Owned o : owned) {
            if (o.closed) {
                continue;
            }
            if (o.confirmedSession == sid) {
                if (o.dataToWrite()) {
                    sent.add(o);
                    futures.add(o.writeData(zk, sid));
                }
                continue;
            }
            sent.add(o);
            futures.add(o.ensure(zk, sid, parentChecks));
        }
        if (futures.isEmpty()) {
            return result;
        }
        CompletableFuture.allOf(futures.toArray(new CompletableFuture<?>[0]))
                .exceptionally(e -> null)
                .get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        Throwable connectionFailure = null;
        for (int i = 0; i < futures.size(); i++) {
            Owned o = sent.get(i);
            Outcome outcome;
            try {
                outcome = futures.get(i).getNow(null);
            } catch (CompletionException e) {
                Throwable cause = ZkAsync.unwrap(e);
                if (isConnectionProblem(cause)) {
                    connectionFailure = cause;
                    continue;
                }
                outcome = Outcome.failed(toZk(cause, o.requestedPath));
            }
            if (i < deletes) {
                continue;
            }
            if (outcome.kind == Outcome.Kind.CONFIRMED) {
                result.recreated++;
            } else {
                result.pending++;
                o.stillMissing(outcome);
            }
        }
        if (connectionFailure != null) {
            throw new ExecutionException(connectionFailure);
        }
        return result;
    }

    private void forgetClosing(Owned c) {
        closing.remove(c);
        registry.closing.remove(c.requestedPath, c);
    }

    private static boolean isConnectionProblem(Throwable t) {
        if (t instanceof KeeperException) {
            Code c = ((KeeperException) t).code();
            return c == Code.CONNECTIONLOSS
                    || c == Code.OPERATIONTIMEOUT
                    || c == Code.SESSIONEXPIRED
                    || c == Code.SESSIONMOVED;
        }
        return false;
    }

    private static ZkException toZk(Throwable t, String path) {
        if (t instanceof ZkException) {
            return (ZkException) t;
        }
        if (t instanceof KeeperException) {
            KeeperException k = (KeeperException) t;
            return ZkException.of(
                    k.code(),
                    k.getPath() != null ? k.getPath() : path,
                    "ephemeral " + path + ": " + k.code()
                            + (k.getPath() != null && !k.getPath().equals(path) ? " at " + k.getPath() : ""),
                    k);
        }
        return new ZkException(Code.SYSTEMERROR, path, "ephemeral " + path + ": " + t, t);
    }

    /**
     * Closes every owned ephemeral: none is recovered any more, and each confirmed in the live session is deleted on
     * the server now, every request sent at once. Completes when all deletes are answered; a node that cannot be
     * deleted now (no connection) is left for its session's end.
     */
    public CompletableFuture<Void> closeAllAsync() {
        List<CompletableFuture<Void>> deletes = new ArrayList<>();
        for (Owned o : owned) {
            deletes.add(o.closeAsync());
        }
        return CompletableFuture.allOf(deletes.toArray(new CompletableFuture<?>[0]));
    }

    void closeAll() {
        for (Owned o : owned) {
            o.abandon();
        }
        owned.clear();
        for (Owned c : closing) {
            forgetClosing(c);
        }
    }

    /** The ensemble's ACL for a node, the same on every re-creation. A mutable copy: ZooKeeper asks it for null. */
    private List<ACL> acl(String path) {
        List<ACL> acl = recovery.session().config().aclProvider().getAclForPath(path);
        return new ArrayList<>(
                acl == null || acl.isEmpty()
                        ? recovery.session().config().aclProvider().getDefaultAcl()
                        : acl);
    }

    /**
     * Makes the parent chain of an owned node: container nodes (the server removes them once empty), or persistent
     * ones on a server without containers. One level after the other, each tolerating a concurrent creator.
     */
    private CompletableFuture<Void> ensureParents(ZooKeeper zk, String parent) {
        CompletableFuture<Void> f = new CompletableFuture<>();
        zk.exists(
                parent,
                false,
                (rc, p, ctx, stat) -> {
                    if (rc == 0) {
                        f.complete(null);
                    } else if (rc == Code.NONODE.intValue()) {
                        List<String> chain = new ArrayList<>();
                        for (String q = parent; !q.equals("/"); q = Calls.parentOf(q)) {
                            chain.add(0, q);
                        }
                        createChain(zk, chain, 0, f);
                    } else {
                        f.completeExceptionally(KeeperException.create(Code.get(rc), parent));
                    }
                },
                null);
        return f;
    }

    private void createChain(ZooKeeper zk, List<String> chain, int i, CompletableFuture<Void> f) {
        if (i == chain.size()) {
            f.complete(null);
            return;
        }
        String p = chain.get(i);
        // Persistent parents on a server without containers (before 3.5), known for the ensemble.
        boolean container = !recovery.session().features().before35();
        zk.create(
                p,
                new byte[0],
                acl(p),
                container ? CreateMode.CONTAINER : CreateMode.PERSISTENT,
                (rc, rp, ctx, name) -> {
                    if (rc == 0 || rc == Code.NODEEXISTS.intValue()) {
                        createChain(zk, chain, i + 1, f);
                    } else if (rc == Code.UNIMPLEMENTED.intValue() && container) {
                        // The server closes the connection after this answer; the pass is tried again on the next one.
                        recovery.session().features().unimplemented("a container create");
                        f.completeExceptionally(KeeperException.create(Code.CONNECTIONLOSS, p));
                    } else {
                        f.completeExceptionally(KeeperException.create(Code.get(rc), p));
                    }
                },
                null);
    }

    /** What one pass did for one registration. */
    static final class Outcome {
        enum Kind {
            CONFIRMED,
            /** A node of another owner is there (another client's live session, or other code on this pool). */
            CONFLICT,
            /** A node that will go away by itself is there (this pool's expired session's, a closed registration's). */
            WAITING,
            FAILED
        }

        static final Outcome CONFIRMED = new Outcome(Kind.CONFIRMED, null, 0);

        final Kind kind;
        final ZkException cause;
        final long owner;

        private Outcome(Kind kind, ZkException cause, long owner) {
            this.kind = kind;
            this.cause = cause;
            this.owner = owner;
        }

        static Outcome conflict(ZkException cause, long owner) {
            return new Outcome(Kind.CONFLICT, cause, owner);
        }

        static Outcome waiting(ZkException cause) {
            return new Outcome(Kind.WAITING, cause, 0);
        }

        static Outcome failed(ZkException cause) {
            return new Outcome(Kind.FAILED, cause, 0);
        }
    }

    /** One owned ephemeral: a registration and its node's state per session. Guarded by itself where noted. */
    final class Owned implements EphemeralNode, Watcher {
        final String requestedPath;
        final CreateMode mode;
        final String protectedId;
        final CompletableFuture<Void> firstConfirmation = new CompletableFuture<>();
        private final List<Consumer<String>> pathListeners = new CopyOnWriteArrayList<>();
        private final SerialQueue listenerQueue;
        /** The data the node should have, and its version (one per setData); guarded by this. */
        private byte[] data;

        private long dataVersion;
        /** The newest data version known to be on the server in {@link #confirmedSession}; guarded by this. */
        private long writtenVersion;
        /** setData calls waiting for their data to be written: version → signal; guarded by this. */
        private final Map<Long, CompletableFuture<Void>> dataWaiters = new HashMap<>();

        volatile String currentPath;
        /** The session the node is known to exist in, created by this registration; 0 when not known. */
        volatile long confirmedSession;

        private volatile long confirmedCzxid;
        /** A create of this registration lost in flight: the session and the last zxid seen when it was sent. */
        private volatile long lostCreateSession;

        private volatile long lostCreateAfterZxid;
        private volatile long lostCreateVersion;
        /** A create of this registration the server answered: its session, czxid and data version. */
        private volatile long createdSession;

        private volatile long createdCzxid;
        private volatile long createdVersion;
        volatile boolean closed;
        /** Why the node is missing on the server, while it is; null when present or not yet tried. */
        volatile ZkException missing;

        private volatile Code reportedMissing;
        private volatile long reportedConflictOwner;

        Owned(String path, byte[] data, CreateMode mode) {
            this.requestedPath = path;
            this.data = data;
            this.mode = mode;
            this.protectedId = mode.isSequential() ? UUID.randomUUID().toString() : null;
            this.currentPath = mode.isSequential() ? null : path;
            this.listenerQueue = recovery.host().listenerQueue("path listeners of ephemeral " + path, null);
        }

        CompletableFuture<Outcome> ensure(ZooKeeper zk, long sid, Map<String, CompletableFuture<Void>> parentChecks) {
            String parent = Calls.parentOf(requestedPath);
            CompletableFuture<Void> parents = parent.equals("/")
                    ? CompletableFuture.completedFuture(null)
                    : parentChecks.computeIfAbsent(parent, p -> ensureParents(zk, p));
            return parents.thenCompose(v -> mode.isSequential() ? ensureSequential(zk, sid) : ensurePlain(zk, sid, 3))
                    .exceptionally(e -> {
                        Throwable cause = ZkAsync.unwrap(e);
                        if (isConnectionProblem(cause)) {
                            throw new CompletionException(cause);
                        }
                        return Outcome.failed(toZk(cause, requestedPath));
                    });
        }

        private CompletableFuture<Outcome> ensurePlain(ZooKeeper zk, long sid, int attemptsLeft) {
            byte[] payload;
            long version;
            synchronized (this) {
                payload = data;
                version = dataVersion;
            }
            long sentAfter = OperationRunner.lastZxid(zk);
            CompletableFuture<Outcome> f = new CompletableFuture<>();
            zk.create(
                    requestedPath,
                    payload,
                    acl(requestedPath),
                    CreateMode.EPHEMERAL,
                    (rc, p, ctx, name, stat) -> {
                        if (rc == 0) {
                            // Known to be ours from here on, even if reading it back is cut: the next pass finds it by
                            // its czxid.
                            createdSession = sid;
                            createdCzxid = stat.getCzxid();
                            createdVersion = version;
                            watchAndConfirm(zk, sid, requestedPath, version, attemptsLeft, f);
                        } else if (rc == Code.NODEEXISTS.intValue()) {
                            inspectExisting(zk, sid, attemptsLeft, f);
                        } else {
                            if (rc == Code.CONNECTIONLOSS.intValue() || rc == Code.OPERATIONTIMEOUT.intValue()) {
                                lostCreate(sid, sentAfter, version);
                            }
                            f.completeExceptionally(KeeperException.create(Code.get(rc), requestedPath));
                        }
                    },
                    null,
                    -1);
            return f;
        }

        /**
         * A create lost in flight in {@code sid}: a node owned by {@code sid} created after the first such create was sent
         * may be any of them, so the earliest send and the oldest data are kept (newer data is then written again).
         */
        private synchronized void lostCreate(long sid, long sentAfter, long version) {
            if (lostCreateSession == sid) {
                lostCreateAfterZxid = Math.min(lostCreateAfterZxid, sentAfter);
                lostCreateVersion = Math.min(lostCreateVersion, version);
            } else {
                lostCreateSession = sid;
                lostCreateAfterZxid = sentAfter;
                lostCreateVersion = version;
            }
        }

        /** Our create succeeded: read the node back (leaving the watch) and confirm it with its creation zxid. */
        private void watchAndConfirm(
                ZooKeeper zk, long sid, String path, long version, int attemptsLeft, CompletableFuture<Outcome> f) {
            zk.exists(
                    path,
                    this,
                    (rc, p, ctx, stat) -> {
                        if (rc == 0 && stat.getEphemeralOwner() == sid) {
                            confirm(zk, sid, path, stat.getCzxid(), version);
                            f.complete(Outcome.CONFIRMED);
                        } else if (rc == 0 || rc == Code.NONODE.intValue()) {
                            // Deleted (and maybe replaced) by someone else right after we made it: start over.
                            retryPlain(zk, sid, attemptsLeft, f);
                        } else {
                            f.completeExceptionally(KeeperException.create(Code.get(rc), path));
                        }
                    },
                    null);
        }

        /** A node is at our path: whose is it? Only a lost create of ours in this session is taken as ours. */
        private void inspectExisting(ZooKeeper zk, long sid, int attemptsLeft, CompletableFuture<Outcome> f) {
            zk.exists(
                    requestedPath,
                    this,
                    (rc, p, ctx, stat) -> {
                        if (rc == Code.NONODE.intValue()) {
                            retryPlain(zk, sid, attemptsLeft, f);
                            return;
                        }
                        if (rc != 0) {
                            f.completeExceptionally(KeeperException.create(Code.get(rc), requestedPath));
                            return;
                        }
                        long owner = stat.getEphemeralOwner();
                        if (owner == sid && createdSession == sid && stat.getCzxid() == createdCzxid) {
                            // Our own create, answered, whose read-back was cut.
                            confirm(zk, sid, requestedPath, stat.getCzxid(), createdVersion);
                            f.complete(Outcome.CONFIRMED);
                        } else if (owner == sid && lostCreateSession == sid && stat.getCzxid() > lostCreateAfterZxid) {
                            // Our own create, lost in flight: it has that create's data (newer data is written by the
                            // next pass).
                            confirm(zk, sid, requestedPath, stat.getCzxid(), lostCreateVersion);
                            f.complete(Outcome.CONFIRMED);
                        } else if (registry.isClosingIn(requestedPath, owner)) {
                            f.complete(Outcome.waiting(new ZkNodeExistsException(
                                    requestedPath,
                                    "ephemeral " + requestedPath
                                            + ": the node of a closed registration of this path is still there (session 0x"
                                            + Long.toHexString(owner)
                                            + "); it is deleted once that session is connected",
                                    null)));
                        } else if (owner != sid && owner != 0 && registry.isPastSession(owner)) {
                            f.complete(Outcome.waiting(new ZkNodeExistsException(
                                    requestedPath,
                                    "ephemeral " + requestedPath
                                            + ": a node left by this pool's expired session 0x"
                                            + Long.toHexString(owner) + " is still there; "
                                            + "it is not deleted (it may be another client's by the time a delete arrives), the server removes it "
                                            + "when it expires that session",
                                    null)));
                        } else {
                            String whose = owner == 0
                                    ? "no session (a persistent node)"
                                    : owner == sid
                                            ? "this pool's own session 0x" + Long.toHexString(owner)
                                                    + ", but it was not created by "
                                                    + "this registration (lease.create or curator() made it)"
                                            : "session 0x" + Long.toHexString(owner);
                            f.complete(Outcome.conflict(
                                    new ZkNodeExistsException(
                                            requestedPath,
                                            "ephemeral " + requestedPath + ": a node already exists there, owned by "
                                                    + whose + "; it is not taken over",
                                            null),
                                    owner));
                        }
                    },
                    null);
        }

        private void retryPlain(ZooKeeper zk, long sid, int attemptsLeft, CompletableFuture<Outcome> f) {
            if (attemptsLeft <= 0) {
                f.complete(Outcome.waiting(new ZkNodeExistsException(
                        requestedPath,
                        "ephemeral " + requestedPath + ": racing with another creator of the path; trying again",
                        null)));
                return;
            }
            ensurePlain(zk, sid, attemptsLeft - 1).whenComplete((o, e) -> complete(f, o, e));
        }

        private CompletableFuture<Outcome> ensureSequential(ZooKeeper zk, long sid) {
            String parent = Calls.parentOf(requestedPath);
            String prefix = ProtectedUtils.getProtectedPrefix(protectedId);
            CompletableFuture<Outcome> f = new CompletableFuture<>();
            zk.getChildren(
                    parent,
                    false,
                    (rc, p, ctx, children) -> {
                        if (rc != 0) {
                            f.completeExceptionally(KeeperException.create(Code.get(rc), parent));
                            return;
                        }
                        List<String> mine = new ArrayList<>();
                        for (String child : children) {
                            if (child.startsWith(prefix)) {
                                mine.add(ZKPaths.makePath(parent, child));
                            }
                        }
                        checkOwners(zk, sid, mine, 0, null, f);
                    },
                    null);
            return f;
        }

        /**
         * Keeps the one node of ours owned by the live session (if any) and deletes the others: the name carries this
         * registration's own random id, so each is provably ours, left by an expired session. Then creates if needed.
         */
        private void checkOwners(
                ZooKeeper zk, long sid, List<String> mine, int i, String live, CompletableFuture<Outcome> f) {
            if (i == mine.size()) {
                if (live != null) {
                    // Made by an earlier pass in this session whose answer was lost: ours, data unknown (rewritten).
                    watchAndConfirm(zk, sid, live, -1, 0, f);
                    return;
                }
                byte[] payload;
                long version;
                synchronized (this) {
                    payload = data;
                    version = dataVersion;
                }
                zk.create(
                        Calls.protectedPath(requestedPath, protectedId),
                        payload,
                        acl(requestedPath),
                        CreateMode.EPHEMERAL_SEQUENTIAL,
                        (rc, p, ctx, name) -> {
                            if (rc == 0) {
                                watchAndConfirm(zk, sid, name, version, 0, f);
                            } else {
                                f.completeExceptionally(KeeperException.create(Code.get(rc), requestedPath));
                            }
                        },
                        null);
                return;
            }
            String path = mine.get(i);
            zk.exists(
                    path,
                    false,
                    (rc, p, ctx, stat) -> {
                        if (rc == Code.NONODE.intValue()) {
                            checkOwners(zk, sid, mine, i + 1, live, f);
                        } else if (rc != 0) {
                            f.completeExceptionally(KeeperException.create(Code.get(rc), path));
                        } else if (stat.getEphemeralOwner() == sid && live == null) {
                            checkOwners(zk, sid, mine, i + 1, path, f);
                        } else {
                            zk.delete(
                                    path,
                                    -1,
                                    (drc, dp, dctx) -> {
                                        if (drc == 0 || drc == Code.NONODE.intValue()) {
                                            checkOwners(zk, sid, mine, i + 1, live, f);
                                        } else {
                                            f.completeExceptionally(KeeperException.create(Code.get(drc), path));
                                        }
                                    },
                                    null);
                        }
                    },
                    null);
        }

        /**
         * The node exists in {@code sid}, created by this registration with data {@code version} (-1: unknown). A close
         * that came while the create was in flight deletes it now: a timed-out first registration leaves nothing.
         */
        private void confirm(ZooKeeper zk, long sid, String path, long czxid, long version) {
            String previous;
            List<CompletableFuture<Void>> written = new ArrayList<>();
            boolean wasMissing;
            synchronized (this) {
                if (closed) {
                    deleteIfOurs(zk, sid, path, czxid);
                    return;
                }
                previous = currentPath;
                currentPath = path;
                confirmedSession = sid;
                confirmedCzxid = czxid;
                lostCreateSession = 0;
                createdSession = 0;
                writtenVersion = version;
                takeWritten(written);
                wasMissing = reportedMissing != null;
                missing = null;
                reportedMissing = null;
                reportedConflictOwner = 0;
            }
            recovery.host().writeCompleted(zk);
            firstConfirmation.complete(null);
            written.forEach(w -> w.complete(null));
            if (wasMissing) {
                log.info("{}: ephemeral {} exists again", recovery.session().label(), path);
                recovery.host().ephemeralRestored(requestedPath);
            }
            if (previous != null && !previous.equals(path)) {
                for (Consumer<String> l : pathListeners) {
                    listenerQueue.execute(() -> l.accept(path));
                }
            }
        }

        /** Completes (into {@code out}) the setData waiters whose data is on the server now. Guarded by this. */
        private void takeWritten(List<CompletableFuture<Void>> out) {
            dataWaiters.entrySet().removeIf(e -> {
                if (e.getKey() <= writtenVersion) {
                    out.add(e.getValue());
                    return true;
                }
                return false;
            });
        }

        synchronized boolean dataToWrite() {
            return writtenVersion < dataVersion;
        }

        /** Writes the latest data to the node confirmed in {@code sid} (a setData made while it could not be sent). */
        CompletableFuture<Outcome> writeData(ZooKeeper zk, long sid) {
            byte[] payload;
            long version;
            String path;
            synchronized (this) {
                payload = data;
                version = dataVersion;
                path = currentPath;
            }
            CompletableFuture<Outcome> f = new CompletableFuture<>();
            zk.setData(
                    path,
                    payload,
                    -1,
                    (rc, p, ctx, stat) -> {
                        if (rc == 0) {
                            List<CompletableFuture<Void>> written = new ArrayList<>();
                            synchronized (this) {
                                if (confirmedSession == sid && version > writtenVersion) {
                                    writtenVersion = version;
                                }
                                takeWritten(written);
                            }
                            recovery.host().writeCompleted(zk);
                            written.forEach(w -> w.complete(null));
                            f.complete(Outcome.CONFIRMED);
                        } else if (rc == Code.NONODE.intValue()) {
                            lost(sid, "its node was deleted by someone else");
                            f.complete(Outcome.waiting(ZkException.of(
                                    Code.NONODE,
                                    path,
                                    "ephemeral " + path + ": its node was " + "deleted by someone else; re-creating it",
                                    null)));
                        } else {
                            f.completeExceptionally(KeeperException.create(Code.get(rc), path));
                        }
                    },
                    null);
            return f.exceptionally(e -> {
                Throwable cause = ZkAsync.unwrap(e);
                if (isConnectionProblem(cause)) {
                    throw new CompletionException(cause);
                }
                return Outcome.failed(toZk(cause, requestedPath));
            });
        }

        /** The node we confirmed in {@code sid} is gone (someone deleted it): not present, re-created by a new pass. */
        private void lost(long sid, String why) {
            boolean was;
            synchronized (this) {
                was = confirmedSession == sid && sid != 0 && !closed;
                if (was) {
                    confirmedSession = 0;
                }
            }
            if (was) {
                log.warn(
                        "{}: owned ephemeral {}: {}; re-creating it",
                        recovery.session().label(),
                        currentPath,
                        why);
                recovery.schedule();
            }
        }

        /** A pass left this registration missing: remember why, and tell listeners once per cause. */
        void stillMissing(Outcome outcome) {
            ZkException cause = outcome.cause;
            missing = cause;
            if (!firstConfirmation.isDone() && outcome.kind != Outcome.Kind.WAITING) {
                // A first registration that meets a conflict or a failure fails at once; waiting goes on until its
                // timeout.
                firstConfirmation.completeExceptionally(cause);
                return;
            }
            if (!firstConfirmation.isDone()) {
                return;
            }
            if (outcome.kind == Outcome.Kind.CONFLICT && reportedConflictOwner != outcome.owner) {
                reportedConflictOwner = outcome.owner;
                recovery.host().ephemeralConflict(requestedPath, outcome.owner);
            }
            if (reportedMissing != cause.code()) {
                reportedMissing = cause.code();
                log.warn(
                        "{}: owned ephemeral {} is missing and could not be re-created: {}; retrying with backoff",
                        recovery.session().label(),
                        requestedPath,
                        cause.getMessage());
                recovery.host().ephemeralMissing(requestedPath, cause);
            }
        }

        /** Watches the node: deleted by someone else → re-created at once; any other change → checked again. */
        @Override
        public void process(WatchedEvent event) {
            if (closed || event.getType() == Event.EventType.None) {
                return;
            }
            long sid = confirmedSession;
            if (event.getType() == Event.EventType.NodeDeleted
                    && sid != 0
                    && event.getPath() != null
                    && event.getPath().equals(currentPath)) {
                lost(sid, "its node was deleted by someone else");
                return;
            }
            if (sid != 0 && recovery.session().isConnected()) {
                // Still ours: leave the watch again (one-shot watches end with each event).
                ZooKeeper zk = recovery.session().connectedHandle();
                String path = currentPath;
                if (zk != null && path != null && zk.getSessionId() == sid) {
                    zk.exists(
                            path,
                            this,
                            (rc, p, ctx, stat) -> {
                                if (rc == Code.NONODE.intValue() || (rc == 0 && stat.getEphemeralOwner() != sid)) {
                                    lost(sid, "its node was deleted by someone else");
                                }
                            },
                            null);
                    return;
                }
            }
            recovery.schedule();
        }

        /**
         * Deletes the node at {@code path} only if it is the one this registration made in {@code sid}. The delete names
         * the version just read; when a write of ours lands in between (a setData racing the close), it reads again.
         */
        private CompletableFuture<Boolean> deleteIfOurs(ZooKeeper zk, long sid, String path, long czxid) {
            CompletableFuture<Boolean> f = new CompletableFuture<>();
            deleteIfOurs(zk, sid, path, czxid, DELETE_ATTEMPTS, f);
            return f;
        }

        private void deleteIfOurs(
                ZooKeeper zk, long sid, String path, long czxid, int attemptsLeft, CompletableFuture<Boolean> f) {
            zk.exists(
                    path,
                    false,
                    (rc, p, ctx, stat) -> {
                        if (rc == 0 && stat.getEphemeralOwner() == sid && (czxid == 0 || stat.getCzxid() == czxid)) {
                            zk.delete(
                                    path,
                                    stat.getVersion(),
                                    (drc, dp, dctx) -> {
                                        if (drc == 0) {
                                            recovery.host().writeCompleted(zk);
                                            f.complete(true);
                                        } else if (drc == Code.BADVERSION.intValue() && attemptsLeft > 1) {
                                            deleteIfOurs(zk, sid, path, czxid, attemptsLeft - 1, f);
                                        } else if (drc == Code.NONODE.intValue()) {
                                            f.complete(false);
                                        } else {
                                            f.completeExceptionally(KeeperException.create(Code.get(drc), path));
                                        }
                                    },
                                    null);
                        } else if (rc == 0 || rc == Code.NONODE.intValue()) {
                            f.complete(false);
                        } else {
                            f.completeExceptionally(KeeperException.create(Code.get(rc), path));
                        }
                    },
                    null);
        }

        /** For a closed registration whose node is still there: the pass deletes it. */
        CompletableFuture<Boolean> deleteOwn(ZooKeeper zk, long sid) {
            return deleteIfOurs(zk, sid, currentPath, confirmedCzxid);
        }

        private void complete(CompletableFuture<Outcome> f, Outcome o, Throwable e) {
            if (e == null) {
                f.complete(o);
            } else {
                f.completeExceptionally(e);
            }
        }

        @Override
        public String path() {
            String p = currentPath;
            return p != null ? p : requestedPath;
        }

        @Override
        public synchronized byte[] data() {
            return data.clone();
        }

        /**
         * Sets the data the node has and will be re-created with, and waits until it is on the server (the operation
         * timeout at most). Concurrent calls: the last one wins, and every caller returns once data at least as new as
         * its own is written.
         *
         * @throws ZkConnectionLossException (outcome unknown) when no session could write it in time; the data is kept
         *     and written once one is connected
         */
        @Override
        public void setData(byte[] newData) {
            Validation.notNull("data", newData);
            Validation.data("data", newData, recovery.host().maxDataBytes());
            RequestSize.create(
                    "data",
                    requestedPath,
                    mode.isSequential(),
                    newData,
                    acl(requestedPath),
                    recovery.host().maxDataBytes());
            CompletableFuture<Void> written = new CompletableFuture<>();
            synchronized (this) {
                if (closed) {
                    throw new IllegalStateException("the ephemeral " + path() + " is closed");
                }
                data = newData.clone();
                dataVersion++;
                dataWaiters.put(dataVersion, written);
            }
            recovery.schedule();
            Duration timeout = recovery.host().policy().operationTimeout();
            try {
                written.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new ZkInterruptedException(
                        path(),
                        "interrupted while writing the data of ephemeral " + path()
                                + "; the new data is kept and written once a session is connected",
                        e);
            } catch (ExecutionException e) {
                Throwable cause = ZkAsync.unwrap(e);
                throw cause instanceof RuntimeException ? (RuntimeException) cause : new IllegalStateException(cause);
            } catch (TimeoutException e) {
                throw new ZkConnectionLossException(
                        Code.CONNECTIONLOSS,
                        path(),
                        "setData on ephemeral " + path()
                                + ": not written within the operation timeout of " + timeout.toMillis() + " ms"
                                + (missing != null
                                        ? " (" + missing.getMessage() + ")"
                                        : recovery.session().isConnected()
                                                ? " (no answer from the server)"
                                                : " (no connected session)")
                                + "; the new data is kept and written once a session is connected",
                        true,
                        e);
            }
        }

        @Override
        public boolean isPresent() {
            long sid = confirmedSession;
            return !closed
                    && !recovery.isSuspended()
                    && sid != 0
                    && sid == recovery.session().sessionId()
                    && recovery.session().isConnected();
        }

        @Override
        public void onPathChange(Consumer<String> listener) {
            pathListeners.add(Validation.notNull("listener", listener));
        }

        @Override
        public void close() {
            String path = currentPath;
            CompletableFuture<Void> deleted = closeAsync();
            if (ClientCnxn.isInEventThread()) {
                return; // called from a ZooKeeper callback: waiting here would hold up the answer itself
            }
            try {
                deleted.get(recovery.session().config().connectionTimeout().toMillis(), TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (ExecutionException | TimeoutException e) {
                log.info(
                        "{}: ephemeral {} could not be deleted now ({}); it is deleted once the session is connected, or "
                                + "goes when its session ends",
                        recovery.session().label(),
                        path,
                        e.toString());
            }
        }

        /**
         * Stops recovering the node and deletes it if the live session has it; completes when answered. A node that
         * cannot be deleted now (disconnected) is deleted by the session's next pass if the session survives, and goes
         * with the session otherwise: closing never leaves a registration behind.
         */
        CompletableFuture<Void> closeAsync() {
            long sid;
            String path;
            long czxid;
            List<CompletableFuture<Void>> waiters;
            synchronized (this) {
                if (closed) {
                    return CompletableFuture.completedFuture(null);
                }
                closed = true;
                sid = confirmedSession;
                path = currentPath;
                czxid = confirmedCzxid;
                waiters = new ArrayList<>(dataWaiters.values());
                dataWaiters.clear();
            }
            owned.remove(this);
            registry.registered.remove(requestedPath, this);
            IllegalStateException closedNow = new IllegalStateException("the ephemeral " + path() + " was closed");
            firstConfirmation.completeExceptionally(closedNow);
            waiters.forEach(w -> w.completeExceptionally(closedNow));
            if (path == null || sid == 0) {
                // Never confirmed: a create still in flight is undone when its answer comes (see confirm).
                return CompletableFuture.completedFuture(null);
            }
            ZooKeeper zk = recovery.session().connectedHandle();
            if (zk == null || zk.getSessionId() != sid) {
                pendDelete(sid);
                return CompletableFuture.completedFuture(null);
            }
            CompletableFuture<Void> f = new CompletableFuture<>();
            deleteIfOurs(zk, sid, path, czxid).whenComplete((deleted, e) -> {
                if (e != null) {
                    pendDelete(sid);
                }
                f.complete(null);
            });
            return f;
        }

        private void pendDelete(long sid) {
            if (recovery.isClosed() || recovery.session().sessionId() != sid) {
                return; // the session ends (or has ended): its node goes with it
            }
            closing.add(this);
            registry.closing.put(requestedPath, this);
        }

        /** The pool is closing: nothing more is done for this registration. */
        void abandon() {
            synchronized (this) {
                closed = true;
                dataWaiters
                        .values()
                        .forEach(w -> w.completeExceptionally(new IllegalStateException("the pool is closed")));
                dataWaiters.clear();
            }
            registry.registered.remove(requestedPath, this);
            firstConfirmation.completeExceptionally(new IllegalStateException("the pool is closed"));
        }

        @Override
        public String toString() {
            return "EphemeralNode{" + path() + (closed ? ", closed" : "") + "}";
        }
    }
}
