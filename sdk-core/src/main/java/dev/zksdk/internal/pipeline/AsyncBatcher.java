package dev.zksdk.internal.pipeline;

import dev.zksdk.BatchingConfig;
import dev.zksdk.ZkConnectionLossException;
import dev.zksdk.ZkException;
import dev.zksdk.ZkInterruptedException;
import dev.zksdk.ZkResponseTooLargeException;
import dev.zksdk.ZkSessionExpiredException;
import dev.zksdk.ZkUnavailableException;
import dev.zksdk.internal.RequestSize;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.KeeperException.Code;
import org.apache.zookeeper.Op;
import org.apache.zookeeper.OpResult;
import org.apache.zookeeper.ZooKeeper;

/**
 * Natural batching of one pooled session's asynchronous operations. An operation is sent at once, as itself, through
 * the pipeline while nothing this batcher sent is in flight; while something is, operations queue in the order they
 * were asked for, and when the last unit in flight completes (or the queue holds {@code maxOps}), the queue's head goes
 * as one unit: consecutive writes as one {@code multi}, consecutive reads as one {@code multiRead} (servers of 3.6 or
 * later), and operations without a batched form each alone, all at once. No timer: a lone operation waits for nothing.
 *
 * <p>A unit goes through the same pipeline as a single call (bulkhead, breaker, retry, the loss verdict of a
 * {@code multi}), so after a connection loss it is sent again only when the server's state proves it was not applied,
 * and otherwise each write in it fails with {@link ZkConnectionLossException#outcomeUnknown()}. A {@code multi} that
 * fails because of one operation fails that operation's caller alone: the others were rolled back and are sent again
 * without it, until each has its own outcome.
 */
public final class AsyncBatcher {

    /** A multi's request header, its length prefix and its closing header; each operation adds {@link #OP_HEADER}. */
    private static final int MULTI_OVERHEAD = 8 + 4 + 9;

    private static final int OP_HEADER = 9;

    private final OperationRunner runner;
    private final Connection session;
    private final Executor completions;
    /** True when the session's servers answer {@code multiRead} (ZooKeeper 3.6 or later, known). */
    private final BooleanSupplier multiRead;

    private final String chroot;
    private final int maxOps;
    private final int maxBytes;

    /** Guarded by this. */
    private final ArrayDeque<Item<?>> queue = new ArrayDeque<>();
    /** Units sent and not yet ended; guarded by this. */
    private int inFlight;

    public AsyncBatcher(
            OperationRunner runner,
            Connection session,
            Executor completions,
            BooleanSupplier multiRead,
            BatchingConfig config) {
        this.runner = runner;
        this.session = session;
        this.completions = completions;
        this.multiRead = multiRead;
        String root = session.config().chroot();
        this.chroot = root == null || root.equals("/") ? null : root;
        this.maxOps = config.maxOps();
        this.maxBytes = config.maxBytes();
    }

    private static final int QUEUED = 0;
    private static final int TAKEN = 1;
    private static final int EXPIRED = 2;

    /**
     * One caller's operation, with the future its caller holds and the deadline it got when its caller asked for it:
     * one operation timeout, whether it waits in the queue or not. Watched by the pool's deadlines while queued.
     */
    private final class Item<T> extends Deadlines.Expiring {
        final ZkCall<T> call;
        /** Its batched form, or null: always alone. */
        final Op op;

        final long deadline;
        /**
         * A synchronous caller waits for it: its outcome is completed on the thread that ends it, never through the
         * completion executor, whose threads may be the ones waiting.
         */
        final boolean direct;

        final CompletableFuture<T> result = new CompletableFuture<>();
        /** Its size in a multi, computed once it is batched; 0 before. */
        long bytes;
        /** QUEUED, then TAKEN (into a unit) or EXPIRED (failed in the queue); written holding the batcher. */
        volatile int state;

        Item(ZkCall<T> call, boolean sync, long deadline) {
            this.call = call;
            this.op = sync ? null : call.batchOp();
            this.direct = sync;
            this.deadline = deadline;
        }

        boolean alone(boolean multiRead) {
            return op == null || (!call.isWrite() && !multiRead);
        }

        @Override
        long deadlineNanos() {
            return deadline;
        }

        @Override
        boolean ended() {
            return state != QUEUED;
        }

        /** Its deadline passed (on the pool's scheduler): failed at once if it is still queued; nothing was sent. */
        @Override
        void expire() {
            synchronized (AsyncBatcher.this) {
                if (state != QUEUED) {
                    return;
                }
                state = EXPIRED; // left in the queue, dropped when it reaches the head
            }
            fail(this, runner.queuedPastDeadline(call));
        }
    }

    /**
     * Runs {@code call} for a caller: at once when nothing of this batcher is in flight, else queued behind what is.
     * The result completes on the pool's completion executor.
     */
    public <T> CompletableFuture<T> submit(ZkCall<T> call) {
        if (Thread.currentThread().isInterrupted()) {
            return runner.executeAsync(session, call, completions); // fails as an unbatched call does
        }
        long deadline = runner.deadlineFromNow();
        synchronized (this) {
            if (inFlight == 0 && queue.isEmpty()) {
                inFlight = 1;
                busy = true;
            } else {
                return enqueue(new Item<>(call, false, deadline)).result;
            }
        }
        // Nothing to batch with: the call as it is, through the pipeline. The next unit goes before the caller hears
        // (on the thread that ended the call, not the completion executor): a stage the caller chains may then make a
        // synchronous call of the lease, which waits for that unit, without waiting for itself.
        CompletableFuture<T> out = new CompletableFuture<>();
        runner.execute(session, call).whenComplete((v, e) -> {
            unitEnded();
            complete(out, call, false, v, e);
        });
        return out;
    }

    /** Queues an item behind the queue and the unit in flight; called holding this. */
    private <T> Item<T> enqueue(Item<T> item) {
        queue.add(item);
        busy = true;
        runner.deadlines().watch(item);
        return item;
    }

    /**
     * True while an operation of this batcher is queued or in flight: a synchronous call of the session's lease must
     * then go {@link #runInOrder in order} behind it. A plain read, without the lock: the caller's own earlier
     * asynchronous calls are visible to it (they were made on its thread), and no order is owed to other threads'.
     */
    public boolean busy() {
        return busy;
    }

    /** Mirrors {@code inFlight > 0 || !queue.isEmpty()}; written holding this. */
    private volatile boolean busy;

    /**
     * Runs a synchronous call of the session's lease after everything queued or in flight (the lease's order is the
     * order its operations were asked for), as a unit of its own, and waits for its outcome: the outcome, retries and
     * deadline of an unbatched call, the deadline counted from now. Called when {@link #busy()}.
     */
    public <T> T runInOrder(ZkCall<T> call) {
        if (Thread.currentThread().isInterrupted()) {
            return runner.executeSync(session, call); // fails as an unbatched call does
        }
        long deadline = runner.deadlineFromNow();
        Item<T> item;
        List<Item<?>> unit = null;
        synchronized (this) {
            item = enqueue(new Item<>(call, true, deadline));
            if (inFlight == 0) {
                unit = takeUnit(); // the batcher went idle meanwhile: nothing waits for the queue's head but this
                sending = unit != null;
            }
        }
        if (unit != null) {
            sendUnits(unit);
        }
        try {
            return item.result.get();
        } catch (InterruptedException e) {
            boolean sent;
            synchronized (this) {
                sent = item.state != QUEUED;
                if (!sent) {
                    item.state = EXPIRED;
                }
            }
            Thread.currentThread().interrupt();
            throw new ZkInterruptedException(
                    call.path,
                    call.name + " " + call.path + ": interrupted while waiting"
                            + (!sent
                                    ? " behind the session's earlier operations; nothing was sent"
                                    : call.isWrite() ? "; the write may or may not have been applied" : ""),
                    e);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof RuntimeException) {
                throw (RuntimeException) cause;
            }
            if (cause instanceof Error) {
                throw (Error) cause;
            }
            throw new IllegalStateException(cause);
        }
    }

    /**
     * The queue's head unit, or null when nothing is left to send; called holding this. Sets {@code inFlight} to 1 when
     * it returns a unit (it is only called with none in flight: one unit at a time keeps the session's order, a unit
     * sent again after a neighbour's failure included). Operations whose deadline passed in the queue are failed here.
     */
    private List<Item<?>> takeUnit() {
        List<Item<?>> unit = null;
        while (unit == null && !queue.isEmpty()) {
            unit = takeUnitOnce();
        }
        inFlight = unit == null ? 0 : 1;
        busy = unit != null || !queue.isEmpty();
        return unit;
    }

    /** The head unit; empty (null) when its head had expired. */
    private List<Item<?>> takeUnitOnce() {
        Item<?> first = queue.peek();
        if (!take(first)) {
            queue.poll();
            return null;
        }
        boolean reads = multiRead.getAsBoolean();
        Item<?> head = queue.peek();
        List<Item<?>> unit = new ArrayList<>(Math.min(queue.size(), maxOps));
        if (head.alone(reads)) {
            while (!queue.isEmpty() && unit.size() < maxOps && queue.peek().alone(reads)) {
                Item<?> next = queue.poll();
                if (next == head || take(next)) {
                    unit.add(next);
                }
            }
            return unit;
        }
        boolean write = head.call.isWrite();
        long bytes = MULTI_OVERHEAD;
        while (!queue.isEmpty() && unit.size() < maxOps) {
            Item<?> next = queue.peek();
            if (next != head && next.state != QUEUED) {
                queue.poll(); // failed in the queue
                continue;
            }
            if (next.alone(reads) || next.call.isWrite() != write || next.call.sessionBound != head.call.sessionBound) {
                break; // session-bound writes (ephemeral creates) batch only with each other: see WriteBatch
            }
            if (next.bytes == 0) {
                next.bytes = OP_HEADER + RequestSize.serializedSize(next.op.toRequestRecord());
            }
            if (!unit.isEmpty() && bytes + next.bytes > maxBytes) {
                break; // split: the request would be over jute.maxbuffer
            }
            if (next != head && !take(next)) {
                queue.poll();
                continue;
            }
            bytes += next.bytes;
            unit.add(queue.poll());
        }
        return unit;
    }

    /**
     * Takes a queued item into a unit, unless it failed in the queue or its deadline passed (then it fails now, before
     * the sweep gets to it; nothing is sent). Called holding this.
     */
    private boolean take(Item<?> item) {
        if (item.state != QUEUED) {
            return false;
        }
        if (System.nanoTime() - item.deadline >= 0) {
            item.state = EXPIRED;
            fail(item, runner.queuedPastDeadline(item.call)); // delivered on the completion executor
            return false;
        }
        item.state = TAKEN;
        runner.deadlines().unwatch(item);
        return true;
    }

    /**
     * A unit ended: the queue's head goes. When a thread is sending units ({@link #sendUnits}), that thread sends it
     * once its send returns: a unit that ends inside its own send (a closed pool, an open breaker, a full bulkhead fail
     * it on the sending thread) does not send the next one from within, so a long queue is a loop, not a recursion as
     * deep as the queue is long (a stack overflow would be swallowed by the future that ran the callback, leaving the
     * rest of the queue unsent, with no deadline sweep once a closing pool stopped its scheduler).
     */
    private void unitEnded() {
        List<Item<?>> unit;
        synchronized (this) {
            if (sending) {
                endedWhileSending = true;
                return;
            }
            unit = takeUnit();
            if (unit == null) {
                return;
            }
            sending = true;
        }
        sendUnits(unit);
    }

    /** True while a thread is in {@link #sendUnits}; guarded by this. Implies {@code inFlight == 1}. */
    private boolean sending;
    /** The unit in flight ended while {@link #sending}; guarded by this. */
    private boolean endedWhileSending;

    /** Sends {@code unit}, then each next one whose predecessor ended meanwhile; entered with {@link #sending} set. */
    private void sendUnits(List<Item<?>> unit) {
        List<Item<?>> next = unit;
        while (next != null) {
            send(next);
            synchronized (this) {
                next = null;
                if (endedWhileSending) {
                    endedWhileSending = false;
                    next = takeUnit();
                }
                if (next == null) {
                    sending = false;
                }
            }
        }
    }

    private void send(List<Item<?>> unit) {
        Item<?> head = unit.get(0);
        // Batched only when every operation has a batched form of the head's kind (reads: while the servers still
        // answer multiRead); the unit was taken under the lock, and what the servers are known to do may change.
        boolean batch = unit.size() > 1 && (head.call.isWrite() || multiRead.getAsBoolean());
        for (int i = 0; batch && i < unit.size(); i++) {
            batch = unit.get(i).op != null
                    && unit.get(i).call.isWrite() == head.call.isWrite()
                    && unit.get(i).call.sessionBound == head.call.sessionBound;
        }
        if (!batch) {
            sendAlone(unit);
        } else if (head.call.isWrite()) {
            runner.batchSent("write", unit.size());
            sendWrites(unit, false);
        } else {
            runner.batchSent("read", unit.size());
            sendReads(unit);
        }
    }

    /** Each operation of the unit as itself, all at once (ZooKeeper keeps their order on the session). */
    private void sendAlone(List<Item<?>> unit) {
        AtomicInteger left = new AtomicInteger(unit.size());
        for (Item<?> item : unit) {
            sendAlone(item, () -> {
                if (left.decrementAndGet() == 0) {
                    unitEnded();
                }
            });
        }
    }

    private <T> void sendAlone(Item<T> item, Runnable ended) {
        runner.executeBy(session, item.call, null, item.deadline).whenComplete((v, e) -> {
            ended.run();
            complete(item.result, item.call, item.direct, v, e);
        });
    }

    /**
     * Writes as one {@code multi}; a failure of one of them fails its caller, and the others are sent again: once more
     * as one {@code multi} ({@code resent} false), and after a second rollback each alone, all at once. A {@code multi}
     * names only its first failure, so resending the rest as a {@code multi} each time would cost a round trip per
     * failing operation (a registry re-registering mostly existing nodes: one per duplicate), and the others would wait
     * for all of them, up to their deadline; alone, each gets its own outcome in one more round trip.
     */
    private void sendWrites(List<Item<?>> items, boolean resent) {
        List<Op> ops = new ArrayList<>(items.size());
        for (Item<?> item : items) {
            ops.add(item.op);
        }
        Item<?> first = items.get(0);
        WriteBatch batch = new WriteBatch(ops, chroot, first.call.sessionBound);
        batch.boundSessionId = first.call.boundSessionId;
        runner.executeBy(session, batch, null, earliestDeadline(items)).whenComplete((results, error) -> {
            if (error != null) {
                Throwable e = OperationRunner.unwrap(error);
                for (Item<?> item : items) {
                    fail(item, perOperation(e, item.call, items.size()));
                }
                unitEnded();
                return;
            }
            int failed = firstFailure(results);
            if (failed < 0) {
                List<OpResult> named = batch.multi.clientPaths(results);
                for (int i = 0; i < items.size(); i++) {
                    succeed(items.get(i), named.get(i));
                }
                unitEnded();
                return;
            }
            Item<?> culprit = items.get(failed);
            Code code = Code.get(((OpResult.ErrorResult) results.get(failed)).getErr());
            fail(culprit, applicationError(culprit.call, code));
            List<Item<?>> rest = new ArrayList<>(items);
            rest.remove(failed);
            if (batch.sessionBound) {
                // Sent again on the session the server rolled them back in, or failed as expired: never redone on a new
                // session, as none of them would be alone.
                for (Item<?> item : rest) {
                    item.call.boundSessionId = batch.answeredBySession;
                }
            }
            if (rest.isEmpty()) {
                unitEnded();
            } else if (rest.size() == 1 || resent) {
                sendAlone(rest);
            } else {
                // Rolled back for a neighbour's failure: sent again without it, as their own unit.
                sendWrites(rest, true);
            }
        });
    }

    /** A unit goes with the earliest deadline of its operations: none of them waits past its own. */
    private static long earliestDeadline(List<Item<?>> items) {
        long earliest = items.get(0).deadline;
        for (Item<?> item : items) {
            if (item.deadline - earliest < 0) {
                earliest = item.deadline;
            }
        }
        return earliest;
    }

    /** The first operation of a failed multi that failed on its own (the others report RUNTIMEINCONSISTENCY). */
    private static int firstFailure(List<OpResult> results) {
        for (int i = 0; i < results.size(); i++) {
            OpResult r = results.get(i);
            if (r instanceof OpResult.ErrorResult) {
                int err = ((OpResult.ErrorResult) r).getErr();
                if (err != 0 && err != Code.RUNTIMEINCONSISTENCY.intValue()) {
                    return i;
                }
            }
        }
        for (int i = 0; i < results.size(); i++) {
            if (results.get(i) instanceof OpResult.ErrorResult
                    && ((OpResult.ErrorResult) results.get(i)).getErr() != 0) {
                return i; // no operation named its own failure: the first one failed carries it
            }
        }
        return -1;
    }

    /**
     * Reads as one {@code multiRead}: each gets its own result or error (a {@code multiRead} is not atomic). A batch
     * whose answer the client could not take, or that the server refused, is sent again as single reads.
     */
    private void sendReads(List<Item<?>> items) {
        List<Op> ops = new ArrayList<>(items.size());
        long readAfter = 0;
        for (Item<?> item : items) {
            ops.add(item.op);
            readAfter = Math.max(readAfter, item.call.readAfterZxid);
        }
        ReadBatch batch = new ReadBatch(ops);
        batch.readAfterZxid = readAfter;
        runner.executeBy(session, batch, null, earliestDeadline(items)).whenComplete((results, error) -> {
            if (error != null) {
                Throwable e = OperationRunner.unwrap(error);
                if (e instanceof ZkResponseTooLargeException
                        || (e instanceof ZkException && ((ZkException) e).code() == Code.UNIMPLEMENTED)) {
                    sendAlone(items); // each read alone: a too-large answer fails its own read only
                    return;
                }
                for (Item<?> item : items) {
                    fail(item, perOperation(e, item.call, items.size()));
                }
                unitEnded();
                return;
            }
            for (int i = 0; i < items.size(); i++) {
                OpResult r = results.get(i);
                Item<?> item = items.get(i);
                if (r instanceof OpResult.ErrorResult) {
                    fail(item, applicationError(item.call, Code.get(((OpResult.ErrorResult) r).getErr())));
                } else {
                    succeed(item, r);
                }
            }
            unitEnded();
        });
    }

    private <T> void succeed(Item<T> item, OpResult r) {
        T value;
        try {
            value = item.call.batchResult(r);
        } catch (RuntimeException e) {
            fail(item, e); // an answer over the client's limit (checkSize)
            return;
        }
        deliver(item.direct, () -> item.result.complete(value));
    }

    /** Fails one caller, its authentication failure explained as an unbatched call's is ({@link AuthErrors}). */
    private void fail(Item<?> item, Throwable e) {
        complete(item.result, item.call, item.direct, null, e);
    }

    /** A caller's outcome, its authentication failure explained as an unbatched call's is ({@link AuthErrors}). */
    private <T> void complete(CompletableFuture<T> out, ZkCall<?> call, boolean direct, T value, Throwable error) {
        if (error == null) {
            deliver(direct, () -> out.complete(value));
            return;
        }
        Throwable e = OperationRunner.unwrap(error);
        Throwable f = e instanceof RuntimeException ? AuthErrors.explain((RuntimeException) e, call, session) : e;
        deliver(direct, () -> out.completeExceptionally(f));
    }

    /** On the pool's completion executor, as an unbatched call's result; on this thread when it refuses. */
    private void deliver(boolean direct, Runnable r) {
        if (direct) {
            r.run();
            return;
        }
        try {
            completions.execute(r);
        } catch (RejectedExecutionException e) {
            r.run();
        }
    }

    /** The exception an operation's own error code gives, as the pipeline gives it for the operation alone. */
    private static ZkException applicationError(ZkCall<?> call, Code code) {
        KeeperException cause = KeeperException.create(code, call.path);
        return ZkException.of(code, call.path, call.name + " " + call.path + ": " + code, cause);
    }

    /**
     * A failure of the whole batch, for one of its operations: the same kind of exception, naming the operation. A
     * write of a batch whose outcome is unknown has an unknown outcome itself.
     */
    static Throwable perOperation(Throwable e, ZkCall<?> call, int size) {
        String what = call.name + " " + call.path + ": sent in a batch of " + size + " operations: ";
        if (e instanceof ZkConnectionLossException) {
            ZkConnectionLossException loss = (ZkConnectionLossException) e;
            return new ZkConnectionLossException(
                    loss.code(), call.path, what + loss.getMessage(), call.isWrite() && loss.outcomeUnknown(), loss);
        }
        if (e instanceof ZkUnavailableException) {
            return new ZkUnavailableException(call.path, what + e.getMessage(), e);
        }
        if (e instanceof ZkSessionExpiredException) {
            return new ZkSessionExpiredException(call.path, what + e.getMessage(), e);
        }
        return e; // the pool closed, an interrupt, ...: as it is
    }

    /**
     * The writes of a batch as one {@code multi}: completes with the results when the server answered them (all
     * applied, or all rolled back with the failed one named), and fails only for a failure of the request itself, so
     * the pipeline retries and judges a lost batch as it does a caller's {@code multi}.
     */
    static final class WriteBatch extends ZkCall<List<OpResult>> {
        final Calls.Multi multi;
        private final List<Op> ops;

        /** The session whose server answered this batch (set before its result is handed on). */
        volatile long answeredBySession;

        /**
         * {@code sessionBound}: ephemeral creates; then the batch is not redone on a new session after an expiry, each
         * of its callers fails as expired, as each would alone.
         */
        WriteBatch(List<Op> ops, String chroot, boolean sessionBound) {
            super("multi", ops.get(0).getPath(), Kind.WRITE, sessionBound);
            this.ops = ops;
            this.multi = new Calls.Multi(ops, sessionBound, chroot);
        }

        @Override
        List<String> touchedPaths() {
            return multi.touchedPaths();
        }

        @Override
        LossVerdict<List<OpResult>> verdict(LossEvidence evidence, long sentAfterZxid) {
            return multi.verdict(evidence, sentAfterZxid);
        }

        @Override
        protected CompletableFuture<List<OpResult>> send(ZooKeeper zk) {
            CompletableFuture<List<OpResult>> f = new CompletableFuture<>();
            long sid = zk.getSessionId();
            zk.multi(
                    ops,
                    (rc, p, ctx, results) -> {
                        if (results != null && results.size() == ops.size()) {
                            answeredBySession = sid;
                            f.complete(results);
                        } else {
                            f.completeExceptionally(error(rc == 0 ? Code.SYSTEMERROR.intValue() : rc, path));
                        }
                    },
                    null);
            return f;
        }
    }

    /** The reads of a batch as one {@code multiRead}: each result its own. */
    static final class ReadBatch extends ZkCall<List<OpResult>> {
        private final List<Op> ops;

        ReadBatch(List<Op> ops) {
            super("multiRead", ops.get(0).getPath(), Kind.READ, false);
            this.ops = ops;
        }

        @Override
        protected CompletableFuture<List<OpResult>> send(ZooKeeper zk) {
            CompletableFuture<List<OpResult>> f = new CompletableFuture<>();
            zk.multi(
                    ops,
                    (rc, p, ctx, results) -> {
                        if (results != null && results.size() == ops.size()) {
                            if (Calls.Multi.answerBytes(results) > Calls.MAX_BUFFER) {
                                f.completeExceptionally(Calls.tooLarge(
                                        "multiRead",
                                        path,
                                        Calls.Multi.answerBytes(results),
                                        "the results of its reads",
                                        false));
                            } else {
                                f.complete(results);
                            }
                        } else if (rc == 0) {
                            f.completeExceptionally(Calls.tooLarge(
                                    "multiRead", path, (long) Calls.MAX_BUFFER + 1, "the results of its reads", true));
                        } else {
                            f.completeExceptionally(error(rc, path));
                        }
                    },
                    null);
            return f;
        }
    }
}
