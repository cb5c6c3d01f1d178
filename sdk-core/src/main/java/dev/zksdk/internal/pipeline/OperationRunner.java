package dev.zksdk.internal.pipeline;

import dev.zksdk.EnsembleConfig;
import dev.zksdk.OperationPolicy;
import dev.zksdk.ZkConnectionLossException;
import dev.zksdk.ZkException;
import dev.zksdk.ZkInterruptedException;
import dev.zksdk.ZkSessionExpiredException;
import dev.zksdk.ZkUnavailableException;
import dev.zksdk.hosts.BudgetedZooKeeper;
import dev.zksdk.internal.Backoff;
import dev.zksdk.internal.ZkAsync;
import dev.zksdk.metrics.MetricNames;
import dev.zksdk.metrics.MetricsTracker;
import dev.zksdk.metrics.OperationObservation;
import dev.zksdk.metrics.PipelineStatus;
import io.github.resilience4j.bulkhead.Bulkhead;
import io.github.resilience4j.bulkhead.BulkheadConfig;
import io.github.resilience4j.bulkhead.BulkheadFullException;
import io.github.resilience4j.circuitbreaker.CallNotPermittedException;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;
import io.github.resilience4j.core.exception.AcquirePermissionCancelledException;
import io.github.resilience4j.core.functions.CheckedSupplier;
import io.github.resilience4j.retry.Retry;
import io.github.resilience4j.retry.RetryConfig;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BiConsumer;
import java.util.function.BooleanSupplier;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.KeeperException.Code;
import org.apache.zookeeper.ZooKeeper;
import org.slf4j.LoggerFactory;

/**
 * The operation pipeline of one ensemble: bulkhead (in-flight limit) → circuit breaker → retry (exponential backoff
 * with full jitter, bounded by the operation timeout) → one attempt on the session's live handle. All four are
 * resilience4j; this class decides what is retried and what an outcome means (see {@link dev.zksdk.ZkLease} for the
 * outcomes as a caller sees them).
 */
public final class OperationRunner {

    private final EnsembleConfig config;
    private final OperationPolicy policy;
    private final ScheduledExecutorService scheduler;
    private final CircuitBreaker breaker;
    private final Bulkhead bulkhead;
    private final Retry retry;
    private final Deadlines deadlines;
    /** True while some session of the ensemble is connected (set by the ensemble once its sessions exist). */
    private volatile BooleanSupplier ensembleConnected = () -> false;

    private volatile MetricsTracker metrics = MetricsTracker.NONE;
    private volatile String metricsEnsemble;
    private final AtomicLong completedWriteZxid = new AtomicLong();
    /**
     * Asynchronous calls waiting out a retry's backoff on the scheduler, which the closing pool stops: {@link #close()}
     * ends them. Only calls that retry are here, so the usual call does not touch it.
     */
    private final Set<AsyncCall<?>> awaitingRetry = ConcurrentHashMap.newKeySet();

    private volatile boolean closed;

    /** {@code tags} become the instance tags of the breaker, bulkhead and retry (their metrics carry them). */
    public OperationRunner(
            String name,
            Map<String, String> tags,
            EnsembleConfig config,
            OperationPolicy policy,
            ScheduledExecutorService scheduler) {
        this.config = config;
        this.policy = policy;
        this.scheduler = scheduler;
        this.deadlines = new Deadlines(scheduler);
        this.breaker = CircuitBreaker.of(
                name,
                CircuitBreakerConfig.custom()
                        .slidingWindowType(CircuitBreakerConfig.SlidingWindowType.COUNT_BASED)
                        .slidingWindowSize(policy.breakerSlidingWindow())
                        // Every call records its outcome here; the default window takes a lock per record, which parks
                        // callers
                        // when many threads share one ensemble (seen as the SDK's largest per-call cost at 16 threads).
                        .slidingWindowSynchronizationStrategy(
                                CircuitBreakerConfig.SlidingWindowSynchronizationStrategy.LOCK_FREE)
                        .minimumNumberOfCalls(policy.breakerMinimumCalls())
                        .failureRateThreshold(policy.breakerFailureRateThreshold())
                        .waitDurationInOpenState(policy.breakerOpenDuration())
                        .permittedNumberOfCallsInHalfOpenState(policy.breakerHalfOpenCalls())
                        .recordException(OperationRunner::isEnsembleFailure)
                        .build(),
                tags);
        this.bulkhead = Bulkhead.of(
                name,
                BulkheadConfig.custom()
                        .maxConcurrentCalls(policy.maxInFlight())
                        .maxWaitDuration(policy.maxInFlightWait())
                        .build(),
                tags);
        long initial = policy.retryInitialBackoff().toMillis();
        long max = policy.retryMaxBackoff().toMillis();
        this.retry = Retry.of(
                name,
                RetryConfig.custom()
                        .maxAttempts(Integer.MAX_VALUE) // the operation timeout bounds retries, not a count
                        .intervalFunction(Backoff.fullJitter(initial, max))
                        .retryOnException(e -> unwrap(e) instanceof RetryableFailure)
                        .failAfterMaxAttempts(false)
                        .build(),
                tags);
    }

    /** The breaker's state now ({@code CLOSED}, {@code OPEN}, ...). */
    public String breakerState() {
        return breaker.getState().name();
    }

    /** True while the breaker refuses calls. */
    public boolean breakerOpen() {
        return breaker.getState() == CircuitBreaker.State.OPEN;
    }

    /** A snapshot of the breaker, the bulkhead and the retries, for metrics. */
    public PipelineStatus status() {
        CircuitBreaker.Metrics b = breaker.getMetrics();
        Bulkhead.Metrics h = bulkhead.getMetrics();
        Retry.Metrics r = retry.getMetrics();
        return new PipelineStatus(
                breaker.getState().name(),
                b.getFailureRate(),
                b.getNumberOfBufferedCalls(),
                b.getNumberOfFailedCalls(),
                b.getNumberOfNotPermittedCalls(),
                h.getMaxAllowedConcurrentCalls(),
                h.getAvailableConcurrentCalls(),
                r.getNumberOfSuccessfulCallsWithoutRetryAttempt(),
                r.getNumberOfSuccessfulCallsWithRetryAttempt(),
                r.getNumberOfFailedCallsWithRetryAttempt(),
                r.getNumberOfFailedCallsWithoutRetryAttempt());
    }

    /** Every finished operation is reported to {@code tracker}, tagged with {@code ensemble}. */
    public void recordTo(MetricsTracker tracker, String ensemble) {
        this.metricsEnsemble = ensemble;
        this.metrics = tracker;
    }

    /** A batch of {@code operations} operations ({@code kind} write or read) was sent as one request. */
    void batchSent(String kind, int operations) {
        MetricsTracker tracker = metrics;
        if (tracker == MetricsTracker.NONE) {
            return;
        }
        try {
            tracker.batchSent(metricsEnsemble, kind, operations);
        } catch (RuntimeException e) {
            // Metrics never fail an operation.
            LoggerFactory.getLogger(OperationRunner.class).warn("a metrics tracker threw", e);
        }
    }

    /** Starts the observation of one operation, on the calling thread (where a tracer finds the caller's span). */
    private OperationObservation observe(ZkCall<?> call) {
        MetricsTracker tracker = metrics;
        if (tracker == MetricsTracker.NONE) {
            return OperationObservation.NONE;
        }
        try {
            OperationObservation observation = tracker.operationStarted(metricsEnsemble, call.name, call.path);
            return observation == null ? OperationObservation.NONE : observation;
        } catch (RuntimeException e) {
            // Metrics never fail an operation.
            LoggerFactory.getLogger(OperationRunner.class).warn("a metrics tracker threw", e);
            return OperationObservation.NONE;
        }
    }

    private void record(
            ZkCall<?> call, CallState state, long startNanos, OperationObservation observation, Throwable error) {
        MetricsTracker tracker = metrics;
        if (tracker == MetricsTracker.NONE && observation == OperationObservation.NONE) {
            return;
        }
        String outcome = MetricNames.outcome(error);
        try {
            tracker.operationCompleted(
                    metricsEnsemble, call.name, outcome, System.nanoTime() - startNanos, state.attempts);
        } catch (RuntimeException e) {
            // Metrics never fail an operation.
            LoggerFactory.getLogger(OperationRunner.class).warn("a metrics tracker threw", e);
        }
        try {
            observation.stop(outcome, error);
        } catch (RuntimeException e) {
            LoggerFactory.getLogger(OperationRunner.class).warn("a metrics tracker's observation threw", e);
        }
    }

    /**
     * Runs {@code call} on {@code session} through the whole pipeline. The result is completed on the thread that
     * ends the call (ZooKeeper's event thread, the pool's scheduler at a deadline, or the caller's).
     */
    public <T> CompletableFuture<T> execute(Connection session, ZkCall<T> call) {
        return start(session, call, null, false);
    }

    /**
     * A caller's asynchronous call: {@link #execute}, with authentication failures explained ({@link AuthErrors}) and
     * the result completed on {@code completions}, so that what the caller chains to it without an executor never
     * runs on ZooKeeper's event thread or the pool's scheduler. When {@code completions} refuses (it is shut down) the
     * result completes on the thread that ended the call.
     */
    public <T> CompletableFuture<T> executeAsync(Connection session, ZkCall<T> call, Executor completions) {
        return start(session, call, completions, true);
    }

    /**
     * {@link #execute} or (with {@code completions}) {@link #executeAsync} for a call that must end by
     * {@code deadlineNanos} (a {@link System#nanoTime()} value) rather than one operation timeout from now: an operation
     * that waited in a batcher's queue keeps the deadline it got when its caller asked for it.
     */
    <T> CompletableFuture<T> executeBy(Connection session, ZkCall<T> call, Executor completions, long deadlineNanos) {
        return start(session, call, completions, completions != null, deadlineNanos);
    }

    /** The deadline of a call asked for now, as {@link System#nanoTime()}. */
    long deadlineFromNow() {
        return System.nanoTime() + policy.operationTimeout().toNanos();
    }

    Deadlines deadlines() {
        return deadlines;
    }

    /**
     * The failure of an operation whose deadline passed while it waited in a batcher's queue, behind the session's
     * earlier operations: nothing was sent, so a write is known not applied. The type and code are those of a call that
     * found no answer within the operation timeout without sending anything.
     */
    ZkConnectionLossException queuedPastDeadline(ZkCall<?> call) {
        return new ZkConnectionLossException(
                Code.OPERATIONTIMEOUT,
                call.path,
                call.name + " " + call.path + ": no answer within the operation timeout of "
                        + policy.operationTimeout().toMillis()
                        + " ms (0 attempts: it waited behind the session's earlier operations); nothing was sent",
                false,
                null);
    }

    private <T> CompletableFuture<T> start(Connection session, ZkCall<T> call, Executor completions, boolean explain) {
        return start(session, call, completions, explain, 0L);
    }

    /** {@code deadlineNanos}: 0 for one operation timeout from now. */
    private <T> CompletableFuture<T> start(
            Connection session, ZkCall<T> call, Executor completions, boolean explain, long deadlineNanos) {
        if (Thread.currentThread().isInterrupted()) {
            return CompletableFuture.failedFuture(interruptedBefore(call));
        }
        AsyncCall<T> c = new AsyncCall<>(this, session, call, completions, explain, deadlineNanos);
        c.start();
        return c.result;
    }

    /**
     * One asynchronous call through bulkhead → breaker → retry → attempts, as resilience4j's
     * {@code decorateCompletionStage} of each would run it (same permissions, the same calls on their records, in the
     * same order), fused into one object: one future and one completion stage per attempt instead of a future and a
     * stage per decorator, plus its deadline, which ends it when ZooKeeper holds it longer.
     */
    private static final class AsyncCall<T> extends Deadlines.Expiring implements BiConsumer<T, Throwable>, Runnable {

        private static final VarHandle DONE;

        static {
            try {
                DONE = MethodHandles.lookup().findVarHandle(AsyncCall.class, "done", boolean.class);
            } catch (ReflectiveOperationException e) {
                throw new ExceptionInInitializerError(e);
            }
        }

        final OperationRunner runner;
        final Connection session;
        final ZkCall<T> call;
        final CallState state;
        final long startNanos;
        /** Started here, on the caller's thread; stopped once, by whoever ends the call. */
        final OperationObservation observation;

        final Executor completions;
        final boolean explain;
        final CompletableFuture<T> result = new CompletableFuture<>();
        private Retry.AsyncContext<T> retryContext;
        private long breakerStart;
        /** Set once by whoever ends the call first: the pipeline or the deadline. */
        @SuppressWarnings("unused")
        private volatile boolean done;

        AsyncCall(
                OperationRunner runner,
                Connection session,
                ZkCall<T> call,
                Executor completions,
                boolean explain,
                long deadlineNanos) {
            this.runner = runner;
            this.session = session;
            this.call = call;
            this.completions = completions;
            this.explain = explain;
            this.startNanos = System.nanoTime();
            this.observation = runner.observe(call);
            this.state = new CallState(
                    deadlineNanos != 0
                            ? deadlineNanos
                            : startNanos + runner.policy.operationTimeout().toNanos());
        }

        void start() {
            if (!runner.bulkhead.tryAcquirePermission()) {
                end(null, BulkheadFullException.createBulkheadFullException(runner.bulkhead));
                return;
            }
            if (!runner.breaker.tryAcquirePermission()) {
                runner.bulkhead.onComplete();
                end(null, CallNotPermittedException.createCallNotPermittedException(runner.breaker));
                return;
            }
            breakerStart = runner.breaker.getCurrentTimestamp();
            retryContext = runner.retry.asyncContext();
            run();
            if (!done) {
                // Ends by the deadline even when ZooKeeper holds the request longer (a server that stopped answering).
                // A call that ends meanwhile is dropped by the sweep that would have placed it.
                runner.deadlines.watch(this);
            }
        }

        /** One attempt; also what a retry schedules. */
        @Override
        public void run() {
            CompletableFuture<T> attempt;
            try {
                attempt = runner.attempt(session, call, state);
            } catch (RuntimeException e) {
                pipelineEnded(null, e);
                return;
            }
            attempt.whenComplete(this);
        }

        /** An attempt ended: retry it or end the call (resilience4j's retry block). */
        @Override
        public void accept(T value, Throwable error) {
            try {
                if (error == null) {
                    long delay = retryContext.onResult(value);
                    if (delay >= 0) {
                        retryLater(delay);
                        return;
                    }
                    retryContext.onComplete();
                    pipelineEnded(value, null);
                } else if (error instanceof Exception) {
                    long delay = retryContext.onError(error);
                    if (delay < 0) {
                        pipelineEnded(null, error);
                    } else {
                        retryLater(delay);
                    }
                } else {
                    pipelineEnded(null, error);
                }
            } catch (RuntimeException e) {
                pipelineEnded(null, e);
            }
        }

        /**
         * The next attempt, after {@code delayMillis} on the pool's scheduler. A closing pool stops its scheduler: a call
         * waiting there is ended by {@link OperationRunner#close()}, or here when the pool closed first.
         */
        private void retryLater(long delayMillis) {
            runner.awaitingRetry.add(this);
            if (runner.closed) {
                if (runner.awaitingRetry.remove(this)) {
                    pipelineEnded(null, poolClosed());
                }
                return;
            }
            try {
                runner.scheduler.schedule(this::retryNow, delayMillis, TimeUnit.MILLISECONDS);
            } catch (RejectedExecutionException e) {
                if (runner.awaitingRetry.remove(this)) {
                    pipelineEnded(null, poolClosed());
                }
            }
        }

        private void retryNow() {
            if (runner.awaitingRetry.remove(this)) {
                run();
            }
        }

        /** The pool closed while this call waited for its next attempt. */
        void closedWhileWaiting() {
            if (runner.awaitingRetry.remove(this)) {
                pipelineEnded(null, poolClosed());
            }
        }

        /** The retry is done: the breaker and the bulkhead record it, as their decorators would. */
        private void pipelineEnded(T value, Throwable error) {
            CircuitBreaker breaker = runner.breaker;
            long duration = breaker.getCurrentTimestamp() - breakerStart;
            if (error == null) {
                breaker.onResult(duration, breaker.getTimestampUnit(), value);
            } else if (error instanceof Exception) {
                breaker.onError(duration, breaker.getTimestampUnit(), error);
            }
            runner.bulkhead.onComplete();
            end(value, error);
        }

        private void end(T value, Throwable error) {
            if (!DONE.compareAndSet(this, false, true)) {
                return; // the deadline ended it first
            }
            runner.deadlines.unwatch(this);
            // Recorded before completing, so a caller that got its result also finds it counted.
            Throwable failure =
                    error == null ? null : runner.cutByClose(runner.translate(error, call), call, state, session);
            runner.record(call, state, startNanos, observation, failure);
            deliver(value, failure);
        }

        @Override
        long deadlineNanos() {
            return state.deadlineNanos;
        }

        @Override
        boolean ended() {
            return done;
        }

        /** The deadline passed first (on the pool's scheduler). */
        @Override
        void expire() {
            if (done || !DONE.compareAndSet(this, false, true)) {
                return;
            }
            Throwable failure = runner.cutByClose(runner.deadlineFailure(call, state), call, state, session);
            runner.record(call, state, startNanos, observation, failure);
            deliver(null, failure);
        }

        private void deliver(T value, Throwable failure) {
            Throwable f = explain && failure instanceof RuntimeException
                    ? AuthErrors.explain((RuntimeException) failure, call, session)
                    : failure;
            if (completions == null) {
                complete(value, f);
                return;
            }
            try {
                completions.execute(() -> complete(value, f));
            } catch (RejectedExecutionException e) {
                complete(value, f);
            }
        }

        private void complete(T value, Throwable failure) {
            if (failure == null) {
                result.complete(value);
            } else {
                result.completeExceptionally(failure);
            }
        }
    }

    private <T> CompletableFuture<T> attempt(Connection session, ZkCall<T> call, CallState state) {
        CompletableFuture<T> out = new CompletableFuture<>();
        if (closed || session.isClosed()) {
            out.completeExceptionally(poolClosed());
            return out;
        }
        long remainingNanos = state.deadlineNanos - System.nanoTime();
        if (remainingNanos <= 0) {
            out.completeExceptionally(finalConnectionFailure(call, state));
            return out;
        }
        if (session.connectedHandle() == null && session.isKnownUnreachable()) {
            out.completeExceptionally(unreachable(call, state, session, null));
            return out;
        }
        Duration wait = Duration.ofNanos(
                Math.min(remainingNanos, config.connectionTimeout().toNanos()));
        CompletableFuture<ZooKeeper> connected = session.awaitConnected(wait);
        if (connected.isDone() && !connected.isCompletedExceptionally()) {
            // Connected now (the usual case): no stage to wait on.
            connectedAttempt(session, call, state, connected.join(), out);
            return out;
        }
        connected.whenComplete((zk, waitError) -> {
            if (waitError != null) {
                Throwable cause = unwrap(waitError);
                if (cause instanceof TimeoutException) {
                    state.lastWasNotConnected = true;
                    if (wait.compareTo(config.connectionTimeout()) >= 0) {
                        session.markUnreachable();
                    }
                    out.completeExceptionally(unreachable(call, state, session, wait));
                } else {
                    out.completeExceptionally(cause);
                }
                return;
            }
            connectedAttempt(session, call, state, zk, out);
        });
        return out;
    }

    private <T> void connectedAttempt(
            Connection session, ZkCall<T> call, CallState state, ZooKeeper zk, CompletableFuture<T> out) {
        state.lastWasNotConnected = false;
        state.everConnected = true;
        ZkSessionExpiredException expired = sessionChanged(call, state, zk);
        if (expired != null) {
            out.completeExceptionally(expired);
            return;
        }
        run(session, call, state, zk, out);
    }

    /**
     * One attempt on a connected handle. After a write was lost in flight, the server's state is read first, and the
     * write is sent again only when that proves the lost attempt was not applied (a lost attempt is never silently
     * applied twice, nor reported failed when it may have landed). A read that must see a newer write of the pool than
     * this session's server is known to have applied waits for a sync first.
     */
    private <T> void run(Connection session, ZkCall<T> call, CallState state, ZooKeeper zk, CompletableFuture<T> out) {
        if (state.lostInFlight) {
            if (zk.getSessionId() != state.sentSession) {
                // The lost attempt's session may still be alive on the server for a moment, with the attempt queued.
                out.completeExceptionally(outcomeUnknown(
                        call,
                        "its session 0x" + Long.toHexString(state.sentSession)
                                + " was replaced before its outcome could be read",
                        null));
                return;
            }
            CompletableFuture<LossVerdict<T>> verdict;
            try {
                verdict = call.resolveAfterLoss(zk, state.sentAfterZxid);
            } catch (RuntimeException e) {
                out.completeExceptionally(e);
                return;
            }
            verdict.whenComplete((v, error) -> {
                if (error != null) {
                    onFailure(out, call, state, unwrap(error), false);
                } else if (v.kind == LossVerdict.Kind.APPLIED) {
                    succeed(out, call, zk, v.value);
                } else if (v.kind == LossVerdict.Kind.NOT_APPLIED) {
                    state.lostInFlight = false;
                    send(call, state, zk, out);
                } else {
                    out.completeExceptionally(outcomeUnknown(call, v.reason, null));
                }
            });
            return;
        }
        if (state.readLost) {
            CompletableFuture<Void> check = call.checkBeforeResend(zk);
            state.readLost = false;
            if (check != null) {
                check.whenComplete((v, error) -> {
                    if (error != null) {
                        onFailure(out, call, state, unwrap(error), false);
                    } else {
                        run(session, call, state, zk, out);
                    }
                });
                return;
            }
        }
        if (!call.isWrite() && call.readAfterZxid > 0 && session.seenZxid(zk) < call.readAfterZxid) {
            session.catchUp(zk, call.readAfterZxid, this::completedWriteZxid).whenComplete((v, error) -> {
                if (error != null) {
                    onFailure(out, call, state, unwrap(error), false);
                } else {
                    send(call, state, zk, out);
                }
            });
            return;
        }
        send(call, state, zk, out);
    }

    private <T> void send(ZkCall<T> call, CallState state, ZooKeeper zk, CompletableFuture<T> out) {
        if (refusedReadOnly(call, zk)) {
            out.completeExceptionally(notReadOnly(call));
            return;
        }
        if (call.isWrite()) {
            state.sentAfterZxid = sentAfterZxid(zk);
            state.sentSession = zk.getSessionId();
            state.sent = true;
        }
        state.inFlight = true;
        if (System.nanoTime() - state.deadlineNanos >= 0) {
            // Past its deadline before it left (it waited for a connection, a catch-up, or in a batcher's queue): not
            // sent. Read after inFlight is set, so a deadline sweep that saw it unset (and reported a write not
            // applied) read the clock before this did and the call stops here, instead of being sent after all.
            state.inFlight = false;
            out.completeExceptionally(deadlineFailure(call, state));
            return;
        }
        CompletableFuture<T> sent;
        try {
            sent = call.send(zk);
        } catch (RuntimeException e) {
            state.inFlight = false;
            out.completeExceptionally(e);
            return;
        }
        sent.whenComplete((value, error) -> {
            if (error == null) {
                // inFlight stays set: a deadline that ends the call before this success is delivered must report the
                // write as maybe applied (it was), never as not applied.
                succeed(out, call, zk, value);
            } else {
                Throwable cause = unwrap(error);
                if (call.isWrite() && mayHaveBeenApplied(cause)) {
                    // Before inFlight is cleared: a deadline sweep between the two must still see the write as
                    // maybe applied, never as not applied.
                    state.lostInFlight = true;
                }
                state.inFlight = false;
                onFailure(out, call, state, cause, true);
            }
        });
    }

    /** An answer that leaves a sent write's outcome open (onFailure's lost-in-flight codes). */
    private static boolean mayHaveBeenApplied(Throwable error) {
        if (!(error instanceof KeeperException)) {
            return false;
        }
        Code code = ((KeeperException) error).code();
        return code == Code.CONNECTIONLOSS || code == Code.OPERATIONTIMEOUT;
    }

    /**
     * A write on a session connected read-only: refused here, unsent, as the server would refuse it (NOTREADONLY). Not
     * only faster: ZooKeeper's read-only server answers a write at once, ahead of the reads still in its pipeline, and
     * ZooKeeper's client drops the connection on that out-of-order answer ("Xid out of order"), which loses the
     * read-only session (a local one). A handle that turns read-only between this check and the send gets the server's
     * own NOTREADONLY, as before.
     */
    private static boolean refusedReadOnly(ZkCall<?> call, ZooKeeper zk) {
        return call.isWrite() && zk.getState() == ZooKeeper.States.CONNECTEDREADONLY;
    }

    private static ZkException notReadOnly(ZkCall<?> call) {
        return ZkException.of(
                Code.NOTREADONLY,
                call.path,
                call.name + " " + call.path + ": " + Code.NOTREADONLY
                        + ": the session is connected to a read-only server; nothing was sent",
                KeeperException.create(Code.NOTREADONLY, call.path));
    }

    private <T> void succeed(CompletableFuture<T> out, ZkCall<T> call, ZooKeeper zk, T value) {
        if (call.isWrite()) {
            writeCompleted(zk);
        }
        out.complete(value);
    }

    /**
     * What a write about to be sent on {@code zk} is known to come after, read before the send: the larger of the
     * session's last seen zxid and the newest write the pool completed, on any of its sessions. Each is the zxid of a
     * transaction committed before this write leaves, so the write, if applied, gets a larger one (the leader numbers
     * proposals in the order it receives them, and a later epoch's zxids are larger still). Every verdict after a loss
     * in flight ({@link LossEvidence}, the creates' parent pzxid, a multi's, a batch's) concludes "not applied" only
     * from a zxid at most this bound, so any such bound keeps them true; the larger one also proves a write not applied
     * when the pool's own writes on other sessions changed its node or parent after this session last heard from the
     * server. Like read-your-writes, this takes the ensemble's history to go on (zxids are not reset under a live
     * pool, as they would be by rebuilding the ensemble from empty data dirs). One volatile read more per write; no
     * lock, no allocation.
     */
    private long sentAfterZxid(ZooKeeper zk) {
        return Math.max(lastZxid(zk), completedWriteZxid.get());
    }

    /** The last zxid {@code zk} has seen in a reply; 0 when it cannot tell (a handle not made by the pool). */
    public static long lastZxid(ZooKeeper zk) {
        return zk instanceof BudgetedZooKeeper ? ((BudgetedZooKeeper) zk).lastZxid() : 0;
    }

    /** Read-your-writes: a write completed on {@code zk}; leases taken from now on see it, whatever their session. */
    public void writeCompleted(ZooKeeper zk) {
        long zxid = lastZxid(zk);
        if (zxid > completedWriteZxid.get()) {
            completedWriteZxid.accumulateAndGet(zxid, Math::max);
        }
    }

    /** The newest write this ensemble's pipeline completed (a zxid, or 0): what a new lease's reads must see. */
    public long completedWriteZxid() {
        return completedWriteZxid.get();
    }

    /** For session-bound work: the session it started in, and an expiry when the live session is another one. */
    private static ZkSessionExpiredException sessionChanged(ZkCall<?> call, CallState state, ZooKeeper zk) {
        if (!call.sessionBound) {
            return null;
        }
        long sid = zk.getSessionId();
        if (state.sessionId == 0) {
            long bound = call.boundSessionId;
            state.sessionId = bound != 0 ? bound : sid;
            if (bound == 0 || bound == sid) {
                return null;
            }
        }
        if (sid == state.sessionId) {
            return null;
        }
        return new ZkSessionExpiredException(
                call.path,
                call.name + " " + call.path + ": session 0x"
                        + Long.toHexString(state.sessionId)
                        + " expired before the result was known; session-bound work is not "
                        + "redone on the new session 0x" + Long.toHexString(sid),
                null);
    }

    /**
     * Runs {@code call} through the same pipeline on the caller's thread, with ZooKeeper's synchronous API: the
     * result is handed over by the connection thread directly, without the extra hop through ZooKeeper's event
     * thread that an asynchronous callback takes. Outcomes, retries and exceptions are exactly those of
     * {@link #execute}.
     */
    public <T> T executeSync(Connection session, ZkCall<T> call) {
        if (Thread.currentThread().isInterrupted()) {
            throw interruptedBefore(call);
        }
        long startNanos = System.nanoTime();
        CallState state = new CallState(startNanos + policy.operationTimeout().toNanos());
        OperationObservation observation = observe(call);
        CheckedSupplier<T> decorated = Retry.decorateCheckedSupplier(retry, () -> attemptSync(session, call, state));
        decorated = CircuitBreaker.decorateCheckedSupplier(breaker, decorated);
        decorated = Bulkhead.decorateCheckedSupplier(bulkhead, decorated);
        T value;
        Deadlines.Caller watched = deadlines.begin(state.deadlineNanos);
        try {
            value = decorated.get();
        } catch (Throwable error) {
            // Past its deadline the call was interrupted wherever it waited (in ZooKeeper, in a retry's backoff): that,
            // not whatever the interrupt made of it, is its outcome.
            Throwable failure = cutByClose(
                    deadlines.end(watched) ? deadlineFailure(call, state) : translate(error, call),
                    call,
                    state,
                    session);
            record(call, state, startNanos, observation, failure);
            if (failure instanceof ZkInterruptedException) {
                Thread.currentThread().interrupt();
            }
            if (failure instanceof RuntimeException) {
                throw (RuntimeException) failure;
            }
            if (failure instanceof Error) {
                throw (Error) failure;
            }
            throw new IllegalStateException(failure);
        }
        deadlines.end(watched); // a success at the very deadline stands; a late interrupt is cleared
        record(call, state, startNanos, observation, null);
        return value;
    }

    private <T> T attemptSync(Connection session, ZkCall<T> call, CallState state) {
        if (closed || session.isClosed()) {
            throw poolClosed();
        }
        long remainingNanos = state.deadlineNanos - System.nanoTime();
        if (remainingNanos <= 0) {
            throw finalConnectionFailure(call, state);
        }
        ZooKeeper zk = session.connectedHandle();
        if (zk == null) {
            if (session.isKnownUnreachable()) {
                throw unreachable(call, state, session, null);
            }
            Duration wait = Duration.ofNanos(
                    Math.min(remainingNanos, config.connectionTimeout().toNanos()));
            try {
                zk = session.awaitConnected(wait).get();
            } catch (InterruptedException e) {
                throw interrupted(call, e);
            } catch (ExecutionException e) {
                Throwable cause = unwrap(e);
                if (cause instanceof TimeoutException) {
                    state.lastWasNotConnected = true;
                    if (wait.compareTo(config.connectionTimeout()) >= 0) {
                        session.markUnreachable();
                    }
                    throw unreachable(call, state, session, wait);
                }
                throw cause instanceof RuntimeException ? (RuntimeException) cause : new IllegalStateException(cause);
            }
        }
        state.lastWasNotConnected = false;
        state.everConnected = true;
        ZkSessionExpiredException expired = sessionChanged(call, state, zk);
        if (expired != null) {
            throw expired;
        }
        if (state.lostInFlight
                || state.readLost
                || (!call.isWrite() && call.readAfterZxid > 0 && session.seenZxid(zk) < call.readAfterZxid)) {
            // Rare: a lost write is checked, or a read waits for a sync; both asynchronous.
            CompletableFuture<T> out = new CompletableFuture<>();
            run(session, call, state, zk, out);
            return joinAttempt(out, call);
        }
        if (refusedReadOnly(call, zk)) {
            throw notReadOnly(call);
        }
        if (call.isWrite()) {
            state.sentAfterZxid = sentAfterZxid(zk);
            state.sentSession = zk.getSessionId();
            state.sent = true;
        }
        state.inFlight = true;
        try {
            // A virtual thread parks on a future instead of waiting in ZooKeeper's synchronous API, inside a monitor
            // that pins its carrier up to JDK 23 (VirtualCallers).
            T value = VirtualCallers.current() ? call.sendAndWait(zk) : call.sendSync(zk);
            state.inFlight = false;
            if (call.isWrite()) {
                writeCompleted(zk);
            }
            return value;
        } catch (KeeperException e) {
            if (call.isWrite() && mayHaveBeenApplied(e)) {
                state.lostInFlight = true; // before inFlight is cleared, as on the asynchronous path
            }
            state.inFlight = false;
            // The same classification as the asynchronous path.
            CompletableFuture<T> out = new CompletableFuture<>();
            onFailure(out, call, state, e, true);
            return joinAttempt(out, call);
        } catch (InterruptedException e) {
            throw interrupted(call, e);
        }
    }

    /** Waits for one attempt's outcome, rethrowing its failure as is (a retryable one included). */
    private static <T> T joinAttempt(CompletableFuture<T> attempt, ZkCall<?> call) {
        try {
            return attempt.get();
        } catch (InterruptedException e) {
            throw interrupted(call, e);
        } catch (ExecutionException e) {
            Throwable cause = unwrap(e);
            throw cause instanceof RuntimeException ? (RuntimeException) cause : new IllegalStateException(cause);
        }
    }

    /** The calling thread was interrupted before the call: nothing is sent, and the thread stays interrupted. */
    private static ZkInterruptedException interruptedBefore(ZkCall<?> call) {
        return new ZkInterruptedException(
                call.path,
                call.name + " " + call.path + ": the calling thread is interrupted; " + "nothing was sent",
                null);
    }

    private static ZkInterruptedException interrupted(ZkCall<?> call, InterruptedException e) {
        return new ZkInterruptedException(
                call.path,
                call.name + " " + call.path + ": interrupted while waiting"
                        + (call.isWrite() ? "; the write may or may not have been applied" : ""),
                e);
    }

    /**
     * Classifies a failed attempt. {@code sent}: the failure is the answer to the operation itself (not to the reads
     * that check a lost write, nor to a read-your-writes sync), so an application result is the operation's outcome.
     */
    private <T> void onFailure(CompletableFuture<T> out, ZkCall<T> call, CallState state, Throwable e, boolean sent) {
        if (!(e instanceof KeeperException)) {
            out.completeExceptionally(e);
            return;
        }
        KeeperException ke = (KeeperException) e;
        Code code = ke.code();
        switch (code) {
            case CONNECTIONLOSS:
            case OPERATIONTIMEOUT:
                if (call.isWrite() && sent) {
                    state.lostInFlight = true; // it may have been applied: the next attempt reads the server first
                } else if (sent) {
                    state.readLost = true; // the next attempt checks the answer fits before asking again
                }
                state.lastCode = code;
                retryOrFail(out, call, state, code);
                return;
            case SESSIONMOVED:
                // The session is alive on another server and this request was refused, not applied: try again once the
                // session is connected there.
                state.lastCode = Code.CONNECTIONLOSS;
                retryOrFail(out, call, state, Code.CONNECTIONLOSS);
                return;
            case SESSIONEXPIRED:
                if (call.sessionBound) {
                    out.completeExceptionally(new ZkSessionExpiredException(
                            call.path,
                            call.name + " " + call.path
                                    + ": the session expired; session-bound work is not redone on a new session",
                            ke));
                    return;
                }
                // Nothing was applied by an expired session: a read or persistent write may run on the new one.
                state.lastCode = code;
                retryOrFail(out, call, state, code);
                return;
            default:
                if (!sent && call.isWrite() && state.lostInFlight) {
                    out.completeExceptionally(
                            outcomeUnknown(call, "the server's state could not be read (" + code + ")", ke));
                    return;
                }
                out.completeExceptionally(applicationError(call, code, ke.getPath(), ke));
        }
    }

    private static ZkConnectionLossException outcomeUnknown(ZkCall<?> call, String reason, Throwable cause) {
        return new ZkConnectionLossException(
                Code.CONNECTIONLOSS,
                call.path,
                call.name + " " + call.path
                        + ": outcome unknown: the connection was lost while it was in flight, and " + reason
                        + "; it was not sent again",
                true,
                cause);
    }

    private static ZkException applicationError(ZkCall<?> call, Code code, String path, KeeperException cause) {
        String p = path != null ? path : call.path;
        return ZkException.of(code, p, call.name + " " + p + ": " + code, cause);
    }

    private <T> void retryOrFail(CompletableFuture<T> out, ZkCall<T> call, CallState state, Code code) {
        if (System.nanoTime() - state.deadlineNanos >= 0) {
            out.completeExceptionally(finalConnectionFailure(call, state));
        } else {
            state.attempts++;
            out.completeExceptionally(new RetryableFailure(code));
        }
    }

    /**
     * No session connected within the connection timeout (or the session is known to be unreachable): fail now rather
     * than wait again. Counted by the breaker as the ensemble being unreachable.
     */
    /** {@code waited}: how long the call waited for a connection; null when the ensemble was known unreachable. */
    private ZkException unreachable(ZkCall<?> call, CallState state, Connection session, Duration waited) {
        boolean known = waited == null;
        // The breaker counts it only when the whole ensemble is unreachable: while another session of the ensemble is
        // connected, one session's lost link must not make every lease fail fast.
        // A shorter wait (what was left of the operation timeout) says nothing about the ensemble.
        boolean fullWait = known || waited.compareTo(config.connectionTimeout()) >= 0;
        Exception marker = ensembleConnected.getAsBoolean() || !fullWait ? new SessionUnreachable() : new Unreachable();
        if (call.isWrite() && state.lostInFlight) {
            return outcomeUnknown(
                    call,
                    "no session to " + config.connectString() + " connected again within the "
                            + "connection timeout to read the server's state",
                    marker);
        }
        Throwable why = session.lastHandleFailure();
        return new ZkUnavailableException(
                call.path,
                call.name + " " + call.path + ": "
                        + (known
                                ? "the ensemble " + config.connectString()
                                        + " is unreachable (no session connected for " + session.unreachableForMillis()
                                        + " ms); failing fast until a session connects"
                                : "no connected session to " + config.connectString() + " within " + waited.toMillis()
                                        + " ms ("
                                        + (waited.compareTo(config.connectionTimeout()) >= 0
                                                ? "the connection timeout"
                                                : "what was left of the operation timeout of "
                                                        + policy.operationTimeout()
                                                                .toMillis() + " ms")
                                        + ")")
                        + (why == null ? "" : " (" + why.getMessage() + ")") + "; nothing was sent",
                marker);
    }

    /** The deadline passed with the call still waiting (for an answer, a connection or a retry). */
    private ZkException deadlineFailure(ZkCall<?> call, CallState state) {
        boolean unknown = call.isWrite() && (state.lostInFlight || state.inFlight);
        if (!state.everConnected && !unknown) {
            return new ZkUnavailableException(
                    call.path,
                    call.name + " " + call.path + ": no connected session to "
                            + config.connectString() + " within the operation timeout of "
                            + policy.operationTimeout().toMillis()
                            + " ms; nothing was sent",
                    new Unreachable());
        }
        return new ZkConnectionLossException(
                Code.OPERATIONTIMEOUT,
                call.path,
                call.name + " " + call.path
                        + ": no answer within the operation timeout of "
                        + policy.operationTimeout().toMillis() + " ms ("
                        + (state.attempts + 1) + " attempts)"
                        + (unknown ? "; the write may or may not have been applied" : ""),
                unknown,
                null);
    }

    /** Marks a failure as "this session cannot connect, but another session of the ensemble is connected". */
    static final class SessionUnreachable extends Exception {
        private static final long serialVersionUID = 1L;

        SessionUnreachable() {
            super("this session cannot connect; another session of the ensemble is connected", null, false, false);
        }
    }

    /** Marks a failure as "the ensemble is unreachable", the only kind the breaker counts. */
    static final class Unreachable extends Exception {
        private static final long serialVersionUID = 1L;

        Unreachable() {
            super("the ensemble is unreachable", null, false, false);
        }
    }

    private ZkException finalConnectionFailure(ZkCall<?> call, CallState state) {
        boolean unknown = call.isWrite() && state.lostInFlight;
        if (state.lastWasNotConnected && !unknown) {
            return new ZkUnavailableException(
                    call.path,
                    call.name + " " + call.path + ": no connected session to "
                            + config.connectString() + " within the operation timeout of "
                            + policy.operationTimeout().toMillis()
                            + " ms (connection timeout "
                            + config.connectionTimeout().toMillis() + " ms); nothing was sent",
                    null);
        }
        Code code = state.lastCode == null ? Code.CONNECTIONLOSS : state.lastCode;
        return new ZkConnectionLossException(
                code,
                call.path,
                call.name + " " + call.path + ": " + code
                        + " persisted for the operation timeout of "
                        + policy.operationTimeout().toMillis() + " ms ("
                        + (state.attempts + 1) + " attempts)"
                        + (unknown ? "; the write may or may not have been applied" : ""),
                unknown,
                null);
    }

    /**
     * Ends every asynchronous call waiting for a retry's backoff: the pool is closing and stops the scheduler those
     * waits run on. Calls in flight end with their handles' close; calls waiting for a connection, with the session's.
     * Called once the ensemble's sessions are closed.
     */
    public void close() {
        closed = true;
        for (AsyncCall<?> c : awaitingRetry) {
            c.closedWhileWaiting();
        }
    }

    /** What an attempt finds when the pool has closed; {@link #cutByClose} says what it means for the call. */
    private static IllegalStateException poolClosed() {
        return new IllegalStateException("the pool is closed");
    }

    /**
     * A call cut by the pool's close: not by an answer of the server, but by the close dropping its connection, its
     * retry or its wait. A write of which an attempt was sent may have been applied: its outcome is unknown, as after a
     * connection loss. A read, and a write never sent, fail with {@link IllegalStateException}: the pool is closed.
     * Any other failure (an application result, an interrupt) is returned as it is.
     */
    private Throwable cutByClose(Throwable failure, ZkCall<?> call, CallState state, Connection session) {
        if (!(closed || session.isClosed()) || !isCloseCut(failure)) {
            return failure;
        }
        if (call.isWrite() && state.sent) {
            return new ZkConnectionLossException(
                    Code.CONNECTIONLOSS,
                    call.path,
                    call.name + " " + call.path
                            + ": outcome unknown: the pool was closed while it was in flight; it may or may not have"
                            + " been applied",
                    true,
                    failure);
        }
        return new IllegalStateException(
                call.name + " " + call.path + ": the pool is closed" + (call.isWrite() ? "; nothing was sent" : ""),
                failure);
    }

    /** A failure a closing pool makes: a lost connection or session, a refused wait or retry. */
    private static boolean isCloseCut(Throwable failure) {
        if (failure instanceof IllegalStateException
                || failure instanceof RejectedExecutionException
                || failure instanceof RetryableFailure) {
            return true;
        }
        if (!(failure instanceof ZkException) || failure instanceof ZkInterruptedException) {
            return false;
        }
        Code code = ((ZkException) failure).code();
        return code == Code.CONNECTIONLOSS || code == Code.OPERATIONTIMEOUT || code == Code.SESSIONEXPIRED;
    }

    private Throwable translate(Throwable error, ZkCall<?> call) {
        Throwable e = unwrap(error);
        if (e instanceof CallNotPermittedException) {
            return new ZkUnavailableException(
                    call.path,
                    call.name + " " + call.path + ": the circuit breaker for "
                            + config.connectString()
                            + " is open after repeated connection failures; failing fast (it lets trial "
                            + "calls through after "
                            + policy.breakerOpenDuration().toMillis() + " ms)",
                    e);
        }
        if (e instanceof AcquirePermissionCancelledException) {
            return new ZkInterruptedException(
                    call.path,
                    call.name + " " + call.path + ": interrupted while waiting for one " + "of the "
                            + policy.maxInFlight() + " in-flight permits (maxInFlight); nothing was sent",
                    e);
        }
        if (e instanceof BulkheadFullException) {
            return new ZkUnavailableException(
                    call.path,
                    call.name + " " + call.path + ": " + policy.maxInFlight() + " operations already in flight to "
                            + config.connectString() + " (maxInFlight); nothing was sent",
                    e);
        }
        if (e instanceof RetryableFailure && Thread.currentThread().isInterrupted()) {
            // Interrupted in a retry's backoff: resilience4j gives up with the last failure and the thread interrupted.
            return new ZkInterruptedException(
                    call.path,
                    call.name + " " + call.path + ": interrupted while waiting to "
                            + "try again after " + ((RetryableFailure) e).code
                            + (call.isWrite() ? "; the write may or may not have been applied" : ""),
                    null);
        }
        if (e instanceof RetryableFailure) {
            // Retry gave up without a deadline verdict (it cannot here, but never leak the internal type).
            return new ZkConnectionLossException(
                    ((RetryableFailure) e).code,
                    call.path,
                    call.name + " " + call.path + ": " + ((RetryableFailure) e).code,
                    call.isWrite(),
                    null);
        }
        return e;
    }

    /**
     * What opens the breaker: the ensemble unreachable (no session connected within the connection timeout). Calls cut
     * by a connection change or a hung server, after which the pool reconnects elsewhere, do not: the pool has already
     * routed around them.
     */
    static boolean isEnsembleFailure(Throwable t) {
        Throwable e = unwrap(t);
        return e instanceof ZkException && e.getCause() instanceof Unreachable;
    }

    public void ensembleConnected(BooleanSupplier connected) {
        this.ensembleConnected = connected;
    }

    /** A session of this ensemble connected: the ensemble is reachable, so a breaker opened meanwhile closes now. */
    public void connected() {
        CircuitBreaker.State s = breaker.getState();
        if (s == CircuitBreaker.State.OPEN || s == CircuitBreaker.State.HALF_OPEN) {
            breaker.transitionToClosedState();
        }
    }

    public static Throwable unwrap(Throwable t) {
        return ZkAsync.unwrap(t);
    }

    /** Per-call retry state. Touched by one attempt at a time. */
    private static final class CallState {
        final long deadlineNanos;
        /** A write attempt was lost in flight: {@link #sentAfterZxid} and {@link #sentSession} describe it. */
        volatile boolean lostInFlight;

        volatile long sentAfterZxid;
        volatile long sentSession;
        /** An attempt was sent and has no answer yet. */
        volatile boolean inFlight;
        /** A write: some attempt was sent (and may have been applied, unless its answer said otherwise). */
        volatile boolean sent;

        volatile boolean everConnected;
        /** A read's attempt was lost with the connection: the next one checks its answer fits first. */
        volatile boolean readLost;

        volatile boolean lastWasNotConnected;
        volatile long sessionId;
        volatile Code lastCode;
        volatile int attempts;

        CallState(long deadlineNanos) {
            this.deadlineNanos = deadlineNanos;
        }
    }

    /** Marks an attempt's failure as retryable for resilience4j's retry; never leaves the pipeline. */
    static final class RetryableFailure extends RuntimeException {
        private static final long serialVersionUID = 1L;
        final Code code;

        RetryableFailure(Code code) {
            super(code.toString(), null, false, false);
            this.code = code;
        }
    }
}
