package dev.zksdk.internal.pipeline;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Op;
import org.apache.zookeeper.OpResult;
import org.apache.zookeeper.ZooKeeper;

/**
 * One operation as the pipeline sees it: how to send it on a handle, what kind of work it is, and, for a write whose
 * attempt was lost in flight, how to tell from the server's state whether that attempt was applied.
 */
public abstract class ZkCall<T> {

    /** What kind of work an operation is, for retry and outcome decisions. */
    public enum Kind {
        READ,
        /** A write: after a loss in flight it is sent again only once {@link #resolveAfterLoss} proves it was not applied. */
        WRITE
    }

    final String name;
    final String path;
    final Kind kind;
    final boolean sessionBound;
    /**
     * For reads: the newest write of the pool the read must see (read-your-writes across leases); a session whose
     * server may not have applied it syncs first. 0 when the read needs nothing.
     */
    public long readAfterZxid;

    /**
     * For session-bound work that was already sent once on a session (a batch rolled back for a neighbour's failure and
     * sent again): that session's id, so that the work fails as expired instead of being redone on a new session; 0
     * when the session of its first attempt decides.
     */
    volatile long boundSessionId;

    protected ZkCall(String name, String path, Kind kind, boolean sessionBound) {
        this.name = name;
        this.path = path;
        this.kind = kind;
        this.sessionBound = sessionBound;
    }

    boolean isWrite() {
        return kind != Kind.READ;
    }

    /** Sends the operation; the future fails with a {@link KeeperException} for a non-OK result. */
    protected abstract CompletableFuture<T> send(ZooKeeper zk);

    /**
     * Sends the operation and waits for its result on the calling thread. The default goes through {@link #send};
     * operations with a synchronous ZooKeeper call override it, which saves the hand-off through ZooKeeper's event
     * thread.
     */
    protected T sendSync(ZooKeeper zk) throws KeeperException, InterruptedException {
        return sendAndWait(zk);
    }

    /**
     * Sends the operation asynchronously and parks until its result: no monitor is held or waited in, so a virtual
     * thread never pins its carrier here ({@link VirtualCallers}).
     */
    final T sendAndWait(ZooKeeper zk) throws KeeperException, InterruptedException {
        try {
            return send(zk).get();
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof KeeperException) {
                throw (KeeperException) cause;
            }
            throw cause instanceof RuntimeException ? (RuntimeException) cause : new IllegalStateException(cause);
        }
    }

    /**
     * For a write whose attempt was lost in flight, sent after {@code sentAfterZxid} was committed: reads the
     * server's state (after a {@code sync}) and says whether that attempt was applied ({@link LossVerdict}). The default
     * reads the nodes {@link #touchedPaths()} names; a protected sequential create looks for its own node.
     */
    CompletableFuture<LossVerdict<T>> resolveAfterLoss(ZooKeeper zk, long sentAfterZxid) {
        return LossEvidence.read(zk, touchedPaths()).thenApply(evidence -> verdict(evidence, sentAfterZxid));
    }

    /**
     * For a read whose attempt was lost with the connection: a check made before it is sent again, or null for none.
     * An answer too large for the client drops the connection each time it arrives; the check fails the call instead.
     */
    protected CompletableFuture<Void> checkBeforeResend(ZooKeeper zk) {
        return null;
    }

    /** The nodes whose state tells whether a lost attempt of this write was applied. */
    List<String> touchedPaths() {
        return List.of(path);
    }

    /** Reads the verdict off the evidence; writes override it. */
    LossVerdict<T> verdict(LossEvidence evidence, long sentAfterZxid) {
        return LossVerdict.unknown("its outcome cannot be read from the server's state");
    }

    /**
     * This operation's form in a batch ({@link AsyncBatcher}): a write for a {@code multi}, a read for a
     * {@code multiRead}; null when it is always sent alone.
     */
    Op batchOp() {
        return null;
    }

    /** This operation's result, read off its successful result in a batch. */
    T batchResult(OpResult result) {
        throw new UnsupportedOperationException(name + " is not batched");
    }

    static KeeperException error(int rc, String path) {
        return KeeperException.create(KeeperException.Code.get(rc), path);
    }
}
