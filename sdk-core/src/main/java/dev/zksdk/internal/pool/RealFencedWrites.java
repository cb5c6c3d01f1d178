package dev.zksdk.internal.pool;

import dev.zksdk.FencedWrites;
import dev.zksdk.FencingToken;
import dev.zksdk.ZkException;
import dev.zksdk.ZkFencedException;
import dev.zksdk.internal.Validation;
import dev.zksdk.internal.ZkAsync;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Op;
import org.apache.zookeeper.OpResult;
import org.apache.zookeeper.data.Stat;

/**
 * A lease's writes, each sent as one {@code multi} after {@code check(epoch, token version)} and
 * {@code check(holder node, -1)}. Goes through the lease's
 * own {@code multi}, so validation, retries and the outcome-unknown rules are the lease's; a failed check (the failure
 * names the epoch node) becomes {@link ZkFencedException}, which is an application result and so never retried.
 */
final class RealFencedWrites implements FencedWrites {

    private final RealLease lease;
    private final FencingToken token;
    /** The checks every write starts with: the epoch version, then the holder's node. */
    private final List<Op> checks;

    RealFencedWrites(RealLease lease, FencingToken token) {
        this.lease = lease;
        this.token = token;
        Op epoch = Op.check(token.epochPath(), token.epochVersion());
        this.checks = List.of(epoch, Op.check(token.holderNode(), -1));
    }

    @Override
    public FencingToken token() {
        return token;
    }

    private String target(String path, boolean sequential) {
        Validation.path("path", path, sequential);
        if (coordinationNode(path)) {
            throw new IllegalArgumentException("path must not be the epoch node or holder node of the token it is"
                    + " fenced by, nor an epoch node (a path ending in -epoch), was " + path);
        }
        return path;
    }

    /**
     * Whether a write to {@code path} would move a fence: the token's holder node, or an epoch node (a path ending in
     * {@code -epoch}, which elections and locks refuse as their own path): a fenced write there would bump or delete
     * the epoch of this or another election or lock, of this pool or another.
     */
    private boolean coordinationNode(String path) {
        return path.endsWith(RealLease.EPOCH_SUFFIX) || path.equals(token.holderNode());
    }

    private List<Op> fenced(Op op) {
        return List.of(checks.get(0), checks.get(1), op);
    }

    /** The index of the caller's first operation in a fenced multi's results. */
    private int first() {
        return checks.size();
    }

    private List<Op> fenced(List<Op> ops) {
        Validation.notNull("ops", ops);
        if (ops.isEmpty()) {
            throw new IllegalArgumentException("ops must not be empty");
        }
        List<Op> all = new ArrayList<>(ops.size() + checks.size());
        all.addAll(checks);
        for (int i = 0; i < ops.size(); i++) {
            Op op = Validation.notNull("ops[" + i + "]", ops.get(i));
            if (coordinationNode(op.getPath())) {
                throw new IllegalArgumentException("ops[" + i + "] path must not be the epoch node or holder node of "
                        + "the token it is fenced by, nor an epoch node (a path ending in -epoch), was "
                        + op.getPath());
            }
            all.add(op);
        }
        return all;
    }

    private static Op create(String path, byte[] data, CreateMode mode, List<org.apache.zookeeper.data.ACL> acl) {
        return Op.create(path, data, acl, mode);
    }

    /** The lease's failure, or {@link ZkFencedException} when it is the epoch check's or the holder check's. */
    private RuntimeException translate(Throwable t, String path) {
        Throwable cause = ZkAsync.unwrap(t);
        if (cause instanceof ZkException) {
            ZkException e = (ZkException) cause;
            if ((token.epochPath().equals(e.path())
                            && (e.code() == KeeperException.Code.BADVERSION || e.code() == KeeperException.Code.NONODE))
                    || (e.path() != null
                            && e.path().equals(token.holderNode())
                            && e.code() == KeeperException.Code.NONODE)) {
                return new ZkFencedException(e.code(), path, token, e);
            }
        }
        return cause instanceof RuntimeException ? (RuntimeException) cause : new CompletionException(cause);
    }

    private List<OpResult> run(List<Op> ops, String path) {
        try {
            return lease.multi(ops);
        } catch (RuntimeException e) {
            throw translate(e, path);
        }
    }

    private CompletableFuture<List<OpResult>> runAsync(List<Op> ops, String path) {
        CompletableFuture<List<OpResult>> sent;
        try {
            sent = lease.multiAsync(ops);
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
        CompletableFuture<List<OpResult>> out = new CompletableFuture<>();
        sent.whenComplete((r, e) -> {
            if (e == null) {
                out.complete(r);
            } else {
                out.completeExceptionally(translate(e, path));
            }
        });
        return out;
    }

    private static Op setDataOp(String path, byte[] data, int version) {
        Validation.notNull("data", data);
        Validation.version("version", version);
        return Op.setData(path, data, version);
    }

    private Op createOp(String path, byte[] data, CreateMode mode) {
        Validation.notNull("mode", mode);
        Validation.notNull("data", data);
        target(path, mode.isSequential());
        return create(path, data, mode, lease.aclForFenced(path));
    }

    @Override
    public String create(String path, byte[] data, CreateMode mode) {
        return ((OpResult.CreateResult)
                        run(fenced(createOp(path, data, mode)), path).get(first()))
                .getPath();
    }

    @Override
    public Stat setData(String path, byte[] data, int version) {
        return ((OpResult.SetDataResult) run(fenced(setDataOp(target(path, false), data, version)), path)
                        .get(first()))
                .getStat();
    }

    @Override
    public void delete(String path, int version) {
        run(fenced(Op.delete(target(path, false), Validation.version("version", version))), path);
    }

    @Override
    public List<OpResult> multi(List<Op> ops) {
        List<Op> all = fenced(ops);
        List<OpResult> r = run(all, ops.get(0).getPath());
        return r.subList(first(), r.size());
    }

    @Override
    public CompletableFuture<String> createAsync(String path, byte[] data, CreateMode mode) {
        List<Op> ops;
        try {
            ops = fenced(createOp(path, data, mode));
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
        return runAsync(ops, path).thenApply(r -> ((OpResult.CreateResult) r.get(first())).getPath());
    }

    @Override
    public CompletableFuture<Stat> setDataAsync(String path, byte[] data, int version) {
        List<Op> ops;
        try {
            ops = fenced(setDataOp(target(path, false), data, version));
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
        return runAsync(ops, path).thenApply(r -> ((OpResult.SetDataResult) r.get(first())).getStat());
    }

    @Override
    public CompletableFuture<Void> deleteAsync(String path, int version) {
        List<Op> ops;
        try {
            ops = fenced(Op.delete(target(path, false), Validation.version("version", version)));
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
        return runAsync(ops, path).thenApply(r -> null);
    }

    @Override
    public CompletableFuture<List<OpResult>> multiAsync(List<Op> ops) {
        List<Op> all;
        try {
            all = fenced(ops);
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
        return runAsync(all, ops.get(0).getPath()).thenApply(r -> r.subList(first(), r.size()));
    }

    @Override
    public String toString() {
        return "FencedWrites{" + token + ", " + lease + "}";
    }
}
