package dev.zksdk.internal.pipeline;

import dev.zksdk.NodeData;
import dev.zksdk.ZkResponseTooLargeException;
import dev.zksdk.internal.Limits;
import dev.zksdk.internal.ZkAsync;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import org.apache.curator.framework.imps.ProtectedUtils;
import org.apache.curator.utils.ZKPaths;
import org.apache.jute.Record;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.KeeperException.Code;
import org.apache.zookeeper.Op;
import org.apache.zookeeper.OpResult;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.data.ACL;
import org.apache.zookeeper.data.Stat;
import org.apache.zookeeper.proto.CreateRequest;
import org.apache.zookeeper.proto.CreateTTLRequest;

/** The operations of a lease, each sent through ZooKeeper's asynchronous API (no thread per call). */
public final class Calls {

    private Calls() {}

    /**
     * A read of a node's data, giving {@link #result} of the data (never null: empty for a node without data) and its
     * stat. An answer ZooKeeper's client could not read fails clearly (see {@link #unreadable}).
     */
    private abstract static class DataRead<T> extends ZkCall<T> {
        DataRead(String path) {
            super("getData", path, Kind.READ, false);
        }

        abstract T result(byte[] data, Stat stat);

        @Override
        Op batchOp() {
            return Op.getData(path);
        }

        @Override
        T batchResult(OpResult r) {
            OpResult.GetDataResult d = (OpResult.GetDataResult) r;
            return result(d.getData() == null ? new byte[0] : d.getData(), d.getStat());
        }

        @Override
        protected CompletableFuture<Void> checkBeforeResend(ZooKeeper zk) {
            return probeData(zk, path);
        }

        @Override
        protected CompletableFuture<T> send(ZooKeeper zk) {
            CompletableFuture<T> f = new CompletableFuture<>();
            zk.getData(
                    path,
                    false,
                    (rc, p, ctx, data, stat) -> {
                        if (rc == 0 && unreadable(data, stat)) {
                            failUnreadable(zk, path, f);
                        } else if (rc == 0) {
                            f.complete(result(data == null ? new byte[0] : data, stat));
                        } else {
                            f.completeExceptionally(ZkCall.error(rc, path));
                        }
                    },
                    null);
            return f;
        }
    }

    public static final class GetData extends DataRead<byte[]> {
        public GetData(String path) {
            super(path);
        }

        @Override
        byte[] result(byte[] data, Stat stat) {
            return data;
        }

        @Override
        protected byte[] sendSync(ZooKeeper zk) throws KeeperException, InterruptedException {
            // No Stat asked for: ZooKeeper's synchronous getData fails with a NullPointerException copying the stat of
            // an answer it could not read.
            byte[] data = zk.getData(path, false, null);
            if (data != null) {
                return data;
            }
            // A node without data, or an answer ZooKeeper's client could not read (see unreadable): the node's size
            // tells, and names the answer's size as the asynchronous form does (failUnreadable).
            Stat stat = zk.exists(path, false);
            if (stat != null && stat.getDataLength() > MAX_BUFFER) {
                throw unreadableData(path, stat);
            }
            return new byte[0];
        }
    }

    /** getData with the node's stat: one request, so the version belongs to the data. */
    public static final class GetNode extends DataRead<NodeData> {
        public GetNode(String path) {
            super(path);
        }

        @Override
        NodeData result(byte[] data, Stat stat) {
            return new NodeData(data, stat);
        }

        /**
         * Through the asynchronous request, waited for here: ZooKeeper's synchronous getData with a Stat fails with a
         * NullPointerException on an answer it could not read, where the callback tells it apart.
         */
        @Override
        protected NodeData sendSync(ZooKeeper zk) throws KeeperException, InterruptedException {
            try {
                return send(zk).get();
            } catch (ExecutionException e) {
                Throwable cause = ZkAsync.unwrap(e);
                if (cause instanceof KeeperException) {
                    throw (KeeperException) cause;
                }
                if (cause instanceof RuntimeException) {
                    throw (RuntimeException) cause;
                }
                throw new IllegalStateException(cause);
            }
        }
    }

    public static final class Exists extends ZkCall<Stat> {
        public Exists(String path) {
            super("exists", path, Kind.READ, false);
        }

        @Override
        protected Stat sendSync(ZooKeeper zk) throws KeeperException, InterruptedException {
            return zk.exists(path, false);
        }

        @Override
        protected CompletableFuture<Stat> send(ZooKeeper zk) {
            CompletableFuture<Stat> f = new CompletableFuture<>();
            zk.exists(path, false, ZkAsync.statOrNull(f, path), null);
            return f;
        }
    }

    public static final class GetChildren extends ZkCall<List<String>> {
        public GetChildren(String path) {
            super("getChildren", path, Kind.READ, false);
        }

        @Override
        Op batchOp() {
            return Op.getChildren(path);
        }

        @Override
        List<String> batchResult(OpResult r) {
            return checkSize(path, ((OpResult.GetChildrenResult) r).getChildren());
        }

        @Override
        protected List<String> sendSync(ZooKeeper zk) throws KeeperException, InterruptedException {
            return checkSize(path, zk.getChildren(path, false));
        }

        @Override
        protected CompletableFuture<Void> checkBeforeResend(ZooKeeper zk) {
            return probeChildren(zk, path);
        }

        @Override
        protected CompletableFuture<List<String>> send(ZooKeeper zk) {
            CompletableFuture<List<String>> f = new CompletableFuture<>();
            zk.getChildren(path, false, ZkAsync.children(f, path, false), null);
            return f.thenApply(children -> checkSize(path, children));
        }
    }

    public static final class Sync extends ZkCall<Void> {
        public Sync(String path) {
            super("sync", path, Kind.READ, false);
        }

        @Override
        protected CompletableFuture<Void> send(ZooKeeper zk) {
            CompletableFuture<Void> f = new CompletableFuture<>();
            zk.sync(path, ZkAsync.done(f, path), null);
            return f;
        }
    }

    /**
     * A create that never makes two nodes: after a loss in flight it is sent again only when the server's state proves
     * the lost attempt made nothing. A sequential create carries a protected name ({@code _c_<uuid>-}), so it finds its
     * own node.
     */
    public static final class Create extends ZkCall<String> {
        private final byte[] data;
        private final CreateMode mode;
        private final List<ACL> acl;
        private final String protectedId;
        private final String sendPath;

        public Create(String path, byte[] data, CreateMode mode, List<ACL> acl) {
            super("create", path, Kind.WRITE, mode.isEphemeral());
            this.data = data;
            this.mode = mode;
            this.acl = acl == null ? ZooDefs.Ids.OPEN_ACL_UNSAFE : acl;
            if (mode.isSequential()) {
                this.protectedId = UUID.randomUUID().toString();
                this.sendPath = protectedPath(path, protectedId);
            } else {
                this.protectedId = null;
                this.sendPath = path;
            }
        }

        /**
         * A persistent or ephemeral create is batched (an ephemeral one only with other session-bound writes, so the
         * batch is session-bound as it is); a sequential one finds its own node after a loss, alone; container and TTL
         * creates go alone.
         */
        @Override
        Op batchOp() {
            return mode == CreateMode.PERSISTENT || mode == CreateMode.EPHEMERAL
                    ? Op.create(path, data, acl, mode)
                    : null;
        }

        @Override
        String batchResult(OpResult r) {
            return ((OpResult.CreateResult) r).getPath();
        }

        @Override
        protected CompletableFuture<String> send(ZooKeeper zk) {
            CompletableFuture<String> f = new CompletableFuture<>();
            zk.create(sendPath, data, acl, mode, ZkAsync.name(f, path), null);
            return f;
        }

        @Override
        protected String sendSync(ZooKeeper zk) throws KeeperException, InterruptedException {
            try {
                return zk.create(sendPath, data, acl, mode);
            } catch (KeeperException e) {
                throw KeeperException.create(e.code(), path);
            }
        }

        @Override
        CompletableFuture<LossVerdict<String>> resolveAfterLoss(ZooKeeper zk, long sentAfterZxid) {
            if (protectedId == null) {
                return super.resolveAfterLoss(zk, sentAfterZxid);
            }
            String parent = parentOf(sendPath);
            return LossEvidence.read(zk, List.of(parent), List.of(parent)).thenApply(evidence -> {
                String prefix = ProtectedUtils.getProtectedPrefix(protectedId);
                List<String> children = evidence.children(parent);
                List<String> mine = new ArrayList<>();
                for (String child : children == null ? List.<String>of() : children) {
                    if (child.startsWith(prefix)) {
                        mine.add(ZKPaths.makePath(parent, child));
                    }
                }
                if (mine.size() == 1) {
                    return LossVerdict.applied(mine.get(0)); // the name carries this call's own id: nobody else made it
                }
                if (mine.size() > 1) {
                    return LossVerdict.unknown("it was found " + mine.size() + " times (" + mine + ")");
                }
                Stat p = evidence.stat(parent);
                boolean nothingCreated =
                        p != null ? p.getPzxid() <= sentAfterZxid : evidence.absentSince(parent, sentAfterZxid);
                return nothingCreated
                        ? LossVerdict.notApplied()
                        : LossVerdict.unknown(
                                "its node is not there, but children of " + parent
                                        + " were created or deleted after it was sent: it may have been made and deleted since");
            });
        }

        @Override
        LossVerdict<String> verdict(LossEvidence evidence, long sentAfterZxid) {
            if (evidence.sameNodeSince(path, sentAfterZxid)) {
                return LossVerdict.notApplied();
            }
            Stat s = evidence.stat(path);
            return LossVerdict.unknown(
                    s != null
                            ? "a node was created at " + path + " after it was sent (czxid "
                                    + LossEvidence.hex(s.getCzxid()) + "), by this create or by another client"
                            : "there is no node at " + path
                                    + " now, but one may have been created and deleted since it was sent");
        }
    }

    public static final class SetData extends ZkCall<Stat> {
        private final byte[] data;
        private final int version;

        public SetData(String path, byte[] data, int version) {
            super("setData", path, Kind.WRITE, false);
            this.data = data;
            this.version = version;
        }

        @Override
        Op batchOp() {
            return Op.setData(path, data, version);
        }

        @Override
        Stat batchResult(OpResult r) {
            return ((OpResult.SetDataResult) r).getStat();
        }

        @Override
        protected Stat sendSync(ZooKeeper zk) throws KeeperException, InterruptedException {
            return zk.setData(path, data, version);
        }

        @Override
        protected CompletableFuture<Stat> send(ZooKeeper zk) {
            CompletableFuture<Stat> f = new CompletableFuture<>();
            zk.setData(path, data, version, ZkAsync.stat(f, path), null);
            return f;
        }

        @Override
        LossVerdict<Stat> verdict(LossEvidence evidence, long sentAfterZxid) {
            if (evidence.unchangedSince(path, sentAfterZxid)) {
                return LossVerdict.notApplied();
            }
            Stat s = evidence.stat(path);
            return LossVerdict.unknown(
                    s != null
                            ? "the node was written after it was sent (mzxid " + LossEvidence.hex(s.getMzxid())
                                    + "), by this call or by another client"
                            : "there is no node at " + path
                                    + " now, and it may have been written before it was deleted");
        }
    }

    public static final class Delete extends ZkCall<Void> {
        private final int version;

        public Delete(String path, int version) {
            super("delete", path, Kind.WRITE, false);
            this.version = version;
        }

        @Override
        Op batchOp() {
            return Op.delete(path, version);
        }

        @Override
        Void batchResult(OpResult r) {
            return null;
        }

        @Override
        protected Void sendSync(ZooKeeper zk) throws KeeperException, InterruptedException {
            zk.delete(path, version);
            return null;
        }

        @Override
        protected CompletableFuture<Void> send(ZooKeeper zk) {
            CompletableFuture<Void> f = new CompletableFuture<>();
            zk.delete(path, version, ZkAsync.done(f, path), null);
            return f;
        }

        @Override
        LossVerdict<Void> verdict(LossEvidence evidence, long sentAfterZxid) {
            if (evidence.sameNodeSince(path, sentAfterZxid)) {
                return LossVerdict.notApplied();
            }
            Stat s = evidence.stat(path);
            return LossVerdict.unknown(
                    s != null
                            ? "the node now at " + path
                                    + " was created after it was sent: this delete may have removed the one before"
                            : "the node is gone, deleted by this call or by another client");
        }
    }

    public static final class Multi extends ZkCall<List<OpResult>> {
        private final List<Op> ops;
        private final String chroot;

        /** {@code chroot}: the session's, or null; ZooKeeper leaves it in the paths of a multi's creates, not create's. */
        public Multi(List<Op> ops, boolean sessionBound, String chroot) {
            super("multi", ops.isEmpty() ? null : ops.get(0).getPath(), Kind.WRITE, sessionBound);
            this.ops = new ArrayList<>(ops);
            this.chroot = chroot == null || chroot.equals("/") ? null : chroot;
        }

        /** The size of a multi's answer as ZooKeeper counts it, near enough: its header and each result's content. */
        static long answerBytes(List<OpResult> results) {
            long bytes = 16;
            for (OpResult r : results) {
                bytes += 9; // each result's header: type, done, error
                if (r instanceof OpResult.GetChildrenResult) {
                    List<String> children = ((OpResult.GetChildrenResult) r).getChildren();
                    bytes += 4;
                    for (String child : children) {
                        bytes += 4 + child.getBytes(StandardCharsets.UTF_8).length;
                    }
                } else if (r instanceof OpResult.GetDataResult) {
                    byte[] data = ((OpResult.GetDataResult) r).getData();
                    bytes += 4 + (data == null ? 0 : data.length) + 68;
                } else if (r instanceof OpResult.CreateResult) {
                    String p = ((OpResult.CreateResult) r).getPath();
                    bytes += 4 + (p == null ? 0 : p.length()) + 68;
                } else {
                    bytes += 68;
                }
            }
            return bytes;
        }

        /** The results with each created path as the caller names it (chroot removed), as {@code create} returns it. */
        List<OpResult> clientPaths(List<OpResult> results) {
            if (chroot == null) {
                return results;
            }
            List<OpResult> out = new ArrayList<>(results.size());
            for (OpResult r : results) {
                if (r instanceof OpResult.CreateResult) {
                    OpResult.CreateResult c = (OpResult.CreateResult) r;
                    String p = c.getPath();
                    if (p != null
                            && p.startsWith(chroot)
                            && (p.length() == chroot.length() || p.charAt(chroot.length()) == '/')) {
                        p = p.length() == chroot.length() ? "/" : p.substring(chroot.length());
                        r = c.getStat() == null
                                ? new OpResult.CreateResult(p)
                                : new OpResult.CreateResult(p, c.getStat());
                    }
                }
                out.add(r);
            }
            return out;
        }

        @Override
        List<String> touchedPaths() {
            List<String> paths = new ArrayList<>();
            for (Op op : ops) {
                paths.add(op.getPath());
                paths.add(parentOf(op.getPath()));
            }
            return paths;
        }

        /** A multi is atomic: one operation provably not applied means none was. */
        @Override
        LossVerdict<List<OpResult>> verdict(LossEvidence evidence, long sentAfterZxid) {
            boolean anyEffect = false;
            for (Op op : ops) {
                String p = op.getPath();
                switch (op.getType()) {
                    case ZooDefs.OpCode.create:
                    case ZooDefs.OpCode.create2:
                    case ZooDefs.OpCode.createContainer:
                    case ZooDefs.OpCode.createTTL:
                        anyEffect = true;
                        if (isSequentialCreate(op)) {
                            Stat parent = evidence.stat(parentOf(p));
                            if (parent != null
                                    ? parent.getPzxid() <= sentAfterZxid
                                    : evidence.absentSince(parentOf(p), sentAfterZxid)) {
                                return LossVerdict.notApplied();
                            }
                        } else if (evidence.sameNodeSince(p, sentAfterZxid)) {
                            return LossVerdict.notApplied();
                        }
                        break;
                    case ZooDefs.OpCode.delete:
                    case ZooDefs.OpCode.deleteContainer:
                        anyEffect = true;
                        if (evidence.sameNodeSince(p, sentAfterZxid)) {
                            return LossVerdict.notApplied();
                        }
                        break;
                    case ZooDefs.OpCode.setData:
                        anyEffect = true;
                        if (evidence.unchangedSince(p, sentAfterZxid)) {
                            return LossVerdict.notApplied();
                        }
                        break;
                    default:
                        break; // a check changes nothing
                }
            }
            return anyEffect
                    ? LossVerdict.unknown("every node it touches may have been changed by it or by another client "
                            + "after it was sent")
                    : LossVerdict.notApplied();
        }

        @Override
        protected CompletableFuture<List<OpResult>> send(ZooKeeper zk) {
            CompletableFuture<List<OpResult>> f = new CompletableFuture<>();
            zk.multi(
                    ops,
                    (rc, p, ctx, results) -> {
                        if (rc == 0 && (results == null || results.size() != ops.size())) {
                            // ZooKeeper's client could not read the answer (a read in it is over jute.maxbuffer): it
                            // hands over what it
                            // read, then drops the connection.
                            f.completeExceptionally(
                                    tooLarge("multi", path, (long) MAX_BUFFER + 1, "the results of its reads", true));
                        } else if (rc == 0 && answerBytes(results) > MAX_BUFFER) {
                            // Read whole only because the pool's sockets take more (see SessionClientConfig): refused
                            // as a single
                            // getChildren of the same answer is.
                            f.completeExceptionally(
                                    tooLarge("multi", path, answerBytes(results), "the results of its reads", false));
                        } else if (rc == 0) {
                            f.complete(clientPaths(results));
                            return;
                        }
                        String failedPath = path;
                        int failedCode = rc;
                        if (results != null) {
                            for (int i = 0; i < results.size(); i++) {
                                OpResult r = results.get(i);
                                if (r instanceof OpResult.ErrorResult) {
                                    int err = ((OpResult.ErrorResult) r).getErr();
                                    if (err != 0 && err != Code.RUNTIMEINCONSISTENCY.intValue()) {
                                        failedCode = err;
                                        failedPath = i < ops.size() ? ops.get(i).getPath() : path;
                                        break;
                                    }
                                }
                            }
                        }
                        f.completeExceptionally(error(failedCode, failedPath));
                    },
                    null);
            return f;
        }
    }

    /** The client's {@code jute.maxbuffer}, read once. */
    static final int MAX_BUFFER = Limits.maxBuffer();

    /**
     * ZooKeeper's client hands over a getData answer it could not read (its data is larger than {@code jute.maxbuffer})
     * as a success with neither data nor stat, then drops the connection. Every answer it could read has a stat.
     */
    public static boolean unreadable(byte[] data, Stat stat) {
        return data == null && stat == null;
    }

    /**
     * Fails {@code f}, the call of a getData answer ZooKeeper's client could not read, alone and without a retry, with
     * the node's size: read with {@code exists} (sent once the connection the unreadable answer drops is back; a
     * connection loss meanwhile fails {@code f} with it, and the retry's {@link #probeData} reads the size). So every
     * form of the read, ZooKeeper's synchronous getData included, reports the same size and message.
     */
    public static void failUnreadable(ZooKeeper zk, String path, CompletableFuture<?> f) {
        zk.exists(
                path,
                false,
                (rc, p, ctx, stat) -> {
                    if (rc == 0 || rc == Code.NONODE.intValue()) {
                        f.completeExceptionally(unreadableData(path, stat));
                    } else {
                        f.completeExceptionally(ZkCall.error(rc, path));
                    }
                },
                null);
    }

    /**
     * A getData answer ZooKeeper's client could not read, given the node's stat read since (null: the node is gone):
     * its size when the node is still over the limit, else a lower bound (the node changed after the answer).
     */
    static ZkResponseTooLargeException unreadableData(String path, Stat now) {
        return now != null && now.getDataLength() > MAX_BUFFER
                ? tooLarge("getData", path, now.getDataLength(), "the node's data", false)
                : tooLarge("getData", path, (long) MAX_BUFFER + 1, "the node's data", true);
    }

    /**
     * A list of children whose answer was over {@code jute.maxbuffer} (it arrived only because the pool's sockets take
     * more, see {@link SessionClientConfig}) fails its call alone, clearly, and is not retried.
     */
    static List<String> checkSize(String path, List<String> children) {
        long bytes = 16 + 4; // as ZooKeeper counts the packet: the reply header, the list's length, then each name
        for (String child : children) {
            bytes += 4 + child.getBytes(StandardCharsets.UTF_8).length;
        }
        if (bytes > MAX_BUFFER) {
            throw tooLarge("getChildren", path, bytes, "its " + children.size() + " children", false);
        }
        return children;
    }

    static ZkResponseTooLargeException tooLarge(String op, String path, long bytes, String what, boolean lowerBound) {
        return new ZkResponseTooLargeException(
                path,
                op + " " + path + ": the answer (" + what + ", "
                        + (lowerBound ? "at least " : "") + bytes
                        + " bytes) is larger than the client's jute.maxbuffer of "
                        + MAX_BUFFER
                        + " bytes; not retried. Raise the jute.maxbuffer system property, or read less per call",
                bytes,
                MAX_BUFFER);
    }

    /**
     * Before a read of a node's data is sent again after its connection dropped: an answer over the client's limit
     * drops the connection every time, for every lease on it, so a node whose data is that large fails the call here.
     */
    public static CompletableFuture<Void> probeData(ZooKeeper zk, String path) {
        CompletableFuture<Void> f = new CompletableFuture<>();
        zk.exists(
                path,
                false,
                (rc, p, ctx, stat) -> {
                    if (rc == 0 && stat.getDataLength() > MAX_BUFFER) {
                        f.completeExceptionally(unreadableData(path, stat));
                    } else if (rc == 0 || rc == Code.NONODE.intValue()) {
                        f.complete(null);
                    } else {
                        f.completeExceptionally(ZkCall.error(rc, path));
                    }
                },
                null);
        return f;
    }

    /** As {@link #probeData}, for the list of children: each name takes at least 5 bytes of the answer. */
    static CompletableFuture<Void> probeChildren(ZooKeeper zk, String path) {
        CompletableFuture<Void> f = new CompletableFuture<>();
        zk.exists(
                path,
                false,
                (rc, p, ctx, stat) -> {
                    long atLeast = rc == 0 ? 16 + 4 + 5L * stat.getNumChildren() : 0;
                    if (rc == 0 && atLeast > Limits.receiveLimit()) {
                        f.completeExceptionally(tooLarge(
                                "getChildren", path, atLeast, "its " + stat.getNumChildren() + " children", true));
                    } else if (rc == 0 || rc == Code.NONODE.intValue()) {
                        f.complete(null);
                    } else {
                        f.completeExceptionally(ZkCall.error(rc, path));
                    }
                },
                null);
        return f;
    }

    /**
     * Whether {@code op} creates a sequential node.
     *
     * @param op the op
     * @return true for a create with a sequential mode
     */
    public static boolean isSequentialCreate(Op op) {
        Record r = op.toRequestRecord();
        int flags = r instanceof CreateRequest
                ? ((CreateRequest) r).getFlags()
                : r instanceof CreateTTLRequest ? ((CreateTTLRequest) r).getFlags() : 0;
        try {
            return CreateMode.fromFlag(flags).isSequential();
        } catch (KeeperException e) {
            return false;
        }
    }

    /**
     * Curator's protected name for a sequential create: {@code /parent/_c_<uuid>-<name>}. Unlike Curator's helper it
     * accepts a path ending in '/' (a sequential node named by its counter alone).
     */
    public static String protectedPath(String path, String protectedId) {
        int slash = path.lastIndexOf('/');
        return path.substring(0, slash) + "/" + ProtectedUtils.toProtectedZNode(path.substring(slash + 1), protectedId);
    }

    /** The parent of a path, "/" for top-level nodes. */
    public static String parentOf(String path) {
        int slash = path.lastIndexOf('/');
        return slash <= 0 ? "/" : path.substring(0, slash);
    }

    static Code codeOf(Throwable t) {
        return t instanceof KeeperException ? ((KeeperException) t).code() : null;
    }
}
