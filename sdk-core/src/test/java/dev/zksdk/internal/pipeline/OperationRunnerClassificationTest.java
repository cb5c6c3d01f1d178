package dev.zksdk.internal.pipeline;

import static org.apache.zookeeper.KeeperException.Code.BADVERSION;
import static org.apache.zookeeper.KeeperException.Code.CONNECTIONLOSS;
import static org.apache.zookeeper.KeeperException.Code.NOAUTH;
import static org.apache.zookeeper.KeeperException.Code.NODEEXISTS;
import static org.apache.zookeeper.KeeperException.Code.NONODE;
import static org.apache.zookeeper.KeeperException.Code.NOTEMPTY;
import static org.apache.zookeeper.KeeperException.Code.OPERATIONTIMEOUT;
import static org.apache.zookeeper.KeeperException.Code.SESSIONEXPIRED;
import static org.apache.zookeeper.KeeperException.Code.SESSIONMOVED;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.zksdk.EnsembleConfig;
import dev.zksdk.OperationPolicy;
import dev.zksdk.ZkAuthException;
import dev.zksdk.ZkBadVersionException;
import dev.zksdk.ZkConnectionLossException;
import dev.zksdk.ZkException;
import dev.zksdk.ZkInterruptedException;
import dev.zksdk.ZkNoNodeException;
import dev.zksdk.ZkNodeExistsException;
import dev.zksdk.ZkNotEmptyException;
import dev.zksdk.ZkSessionExpiredException;
import dev.zksdk.ZkUnavailableException;
import dev.zksdk.internal.pipeline.ZkCall.Kind;
import dev.zksdk.testing.OfflineZooKeeper;
import io.github.resilience4j.circuitbreaker.CallNotPermittedException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.KeeperException.Code;
import org.apache.zookeeper.ZooKeeper;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * How {@link OperationRunner} classifies a failed attempt, without a server: a fake {@link Connection} hands out an
 * {@link OfflineZooKeeper} (or never connects), and {@link ScriptedCall}s answer each send with a chosen
 * {@link KeeperException}. The cases run through both the synchronous ({@code executeSync}) and the asynchronous
 * ({@code execute}) entry point, which promise the same outcomes (README.md, "outcome" table), except those about a
 * caller blocked in the call, which only the synchronous one has.
 */
class OperationRunnerClassificationTest {

    private static final String PATH = "/app/node";
    private static final long SESSION = 0x51L;
    /** An operation timeout for the cases that run into it. */
    private static final Duration SHORT = Duration.ofMillis(150);
    /** An operation timeout no case should reach: a call that ends is ended by its classification. */
    private static final Duration LONG = Duration.ofSeconds(30);

    /** The runner's two entry points. */
    enum Api {
        SYNC,
        ASYNC
    }

    private ScheduledExecutorService scheduler;
    private OfflineZooKeeper zk;
    private FakeConnection connection;
    private OperationRunner runner;

    @BeforeEach
    void setUp() {
        scheduler = Executors.newScheduledThreadPool(2, r -> {
            Thread t = new Thread(r, "runner-test-scheduler");
            t.setDaemon(true);
            return t;
        });
        zk = OfflineZooKeeper.open(SESSION).state(ZooKeeper.States.CONNECTED);
        connection = new FakeConnection(zk);
    }

    @AfterEach
    void tearDown() throws InterruptedException {
        Thread.interrupted(); // never leave the test thread interrupted for the next test
        scheduler.shutdownNow();
        zk.close();
    }

    // ---------------------------------------------------------------- application results

    static Stream<Arguments> applicationResults() {
        List<Arguments> cases = new ArrayList<>();
        for (Api api : Api.values()) {
            for (Kind kind : Kind.values()) {
                cases.add(Arguments.of(api, kind, NONODE, ZkNoNodeException.class));
                cases.add(Arguments.of(api, kind, NODEEXISTS, ZkNodeExistsException.class));
                cases.add(Arguments.of(api, kind, BADVERSION, ZkBadVersionException.class));
                cases.add(Arguments.of(api, kind, NOTEMPTY, ZkNotEmptyException.class));
            }
        }
        return cases.stream();
    }

    @ParameterizedTest(name = "{0} {1}: {2}")
    @MethodSource("applicationResults")
    void applicationResultsAreThrownAtOnceAndNeverRetried(
            Api api, Kind kind, Code code, Class<? extends ZkException> type) {
        runner = runner(LONG);
        ScriptedCall call = new ScriptedCall(kind, false, fails(code), ok("sent again"));

        Throwable failure = failure(api, call);

        assertThat(failure).isExactlyInstanceOf(type);
        assertThat(((ZkException) failure).code()).isEqualTo(code);
        assertThat(((ZkException) failure).path()).isEqualTo(PATH);
        assertThat(call.sends).as("sends").hasValue(1);
        assertThat(call.lossChecks).as("reads of the server's state").hasValue(0);
    }

    // ---------------------------------------------------------------- connection loss on a read

    @ParameterizedTest
    @EnumSource(Api.class)
    void aReadCutByConnectionLossOrOperationTimeoutIsRetriedUntilItSucceeds(Api api) {
        runner = runner(LONG);
        ScriptedCall call = new ScriptedCall(
                Kind.READ, false, fails(CONNECTIONLOSS), fails(OPERATIONTIMEOUT), fails(CONNECTIONLOSS), ok("data"));

        assertThat(call(api, call)).isEqualTo("data");
        assertThat(call.sends).hasValue(4);
    }

    @ParameterizedTest
    @EnumSource(Api.class)
    void aReadThatKeepsLosingItsConnectionFailsByTheOperationTimeoutWithAKnownOutcome(Api api) {
        runner = runner(SHORT);
        ScriptedCall call = new ScriptedCall(Kind.READ, false, fails(CONNECTIONLOSS));

        long start = System.nanoTime();
        Throwable failure = failure(api, call);
        Duration took = Duration.ofNanos(System.nanoTime() - start);

        assertThat(failure).isExactlyInstanceOf(ZkConnectionLossException.class);
        assertThat(((ZkConnectionLossException) failure).outcomeUnknown()).isFalse();
        assertThat(((ZkException) failure).path()).isEqualTo(PATH);
        assertThat(call.sends.get()).as("sends").isGreaterThan(1);
        assertThat(took).isGreaterThanOrEqualTo(SHORT).isLessThan(SHORT.plusSeconds(5));
    }

    // ---------------------------------------------------------------- a write lost in flight

    static Stream<Arguments> lostWrites() {
        List<Arguments> cases = new ArrayList<>();
        for (Api api : Api.values()) {
            cases.add(Arguments.of(api, CONNECTIONLOSS));
            cases.add(Arguments.of(api, OPERATIONTIMEOUT));
        }
        return cases.stream();
    }

    @ParameterizedTest(name = "{0}: {1}")
    @MethodSource("lostWrites")
    void aWriteLostInFlightIsNotSentAgainAndIsOutcomeUnknownAtOnceWhenTheServerStateCannotTell(Api api, Code lost) {
        runner = runner(LONG);
        ScriptedCall call = new ScriptedCall(Kind.WRITE, false, fails(lost), ok("applied twice"))
                .onLossCheck(() -> CompletableFuture.completedFuture(LossVerdict.unknown("the test's verdict")));

        long start = System.nanoTime();
        Throwable failure = failure(api, call);
        Duration took = Duration.ofNanos(System.nanoTime() - start);

        assertThat(failure)
                .isExactlyInstanceOf(ZkConnectionLossException.class)
                .hasMessageContaining("the test's verdict");
        assertThat(((ZkConnectionLossException) failure).outcomeUnknown()).isTrue();
        assertThat(call.sends).as("sends").hasValue(1);
        assertThat(call.lossChecks).as("reads of the server's state").hasValue(1);
        assertThat(took).as("at once, not by the operation timeout").isLessThan(Duration.ofSeconds(5));
    }

    @ParameterizedTest(name = "{0}: {1}")
    @MethodSource("lostWrites")
    void aWriteLostInFlightIsSentAgainWhenTheServerStateProvesItWasNotApplied(Api api, Code lost) {
        runner = runner(LONG);
        ScriptedCall call = new ScriptedCall(Kind.WRITE, false, fails(lost), ok("second attempt"))
                .onLossCheck(() -> CompletableFuture.completedFuture(LossVerdict.notApplied()));

        assertThat(call(api, call)).isEqualTo("second attempt");
        assertThat(call.sends).hasValue(2);
        assertThat(call.lossChecks).hasValue(1);
    }

    @ParameterizedTest(name = "{0}: {1}")
    @MethodSource("lostWrites")
    void aWriteLostInFlightThatTheServerStateShowsAppliedSucceedsWithoutBeingSentAgain(Api api, Code lost) {
        runner = runner(LONG);
        ScriptedCall call = new ScriptedCall(Kind.WRITE, false, fails(lost), ok("applied twice"))
                .onLossCheck(() -> CompletableFuture.completedFuture(LossVerdict.applied("as the server has it")));

        assertThat(call(api, call)).isEqualTo("as the server has it");
        assertThat(call.sends).hasValue(1);
    }

    @ParameterizedTest
    @EnumSource(Api.class)
    void aWriteLostInFlightWhoseSessionWasReplacedIsOutcomeUnknownWithoutLookingOrSendingAgain(Api api) {
        runner = runner(LONG);
        ScriptedCall call = new ScriptedCall(
                        Kind.WRITE,
                        false,
                        then(() -> zk.sessionId(SESSION + 1), fails(CONNECTIONLOSS)),
                        ok("applied twice"))
                .onLossCheck(() -> CompletableFuture.completedFuture(LossVerdict.notApplied()));

        Throwable failure = failure(api, call);

        assertThat(failure).isExactlyInstanceOf(ZkConnectionLossException.class).hasMessageContaining("replaced");
        assertThat(((ZkConnectionLossException) failure).outcomeUnknown()).isTrue();
        assertThat(call.sends).hasValue(1);
        assertThat(call.lossChecks).hasValue(0);
    }

    @ParameterizedTest
    @EnumSource(Api.class)
    void aWriteLostInFlightWhoseStateCannotBeReadBeforeTheDeadlineIsOutcomeUnknownByTheOperationTimeout(Api api) {
        runner = runner(SHORT);
        ScriptedCall call = new ScriptedCall(Kind.WRITE, false, fails(CONNECTIONLOSS), ok("applied twice"))
                .onLossCheck(() -> CompletableFuture.failedFuture(KeeperException.create(CONNECTIONLOSS, "/")));

        long start = System.nanoTime();
        Throwable failure = failure(api, call);
        Duration took = Duration.ofNanos(System.nanoTime() - start);

        assertThat(failure).isExactlyInstanceOf(ZkConnectionLossException.class);
        assertThat(((ZkConnectionLossException) failure).outcomeUnknown()).isTrue();
        assertThat(call.sends).hasValue(1);
        assertThat(call.lossChecks.get()).isGreaterThanOrEqualTo(1);
        assertThat(took).isLessThan(SHORT.plusSeconds(5));
    }

    @ParameterizedTest
    @EnumSource(Api.class)
    void aWriteLostInFlightWhoseStateReadIsRefusedIsOutcomeUnknownNotTheRefusal(Api api) {
        runner = runner(LONG);
        ScriptedCall call = new ScriptedCall(Kind.WRITE, false, fails(CONNECTIONLOSS), ok("applied twice"))
                .onLossCheck(() -> CompletableFuture.failedFuture(KeeperException.create(NOAUTH, "/app")));

        Throwable failure = failure(api, call);

        assertThat(failure).isExactlyInstanceOf(ZkConnectionLossException.class).isNotInstanceOf(ZkAuthException.class);
        assertThat(((ZkConnectionLossException) failure).outcomeUnknown()).isTrue();
        assertThat(call.sends).hasValue(1);
    }

    @ParameterizedTest
    @EnumSource(Api.class)
    void aWriteLostInFlightWhenNoSessionConnectsAgainIsOutcomeUnknown(Api api) {
        runner = runner(LONG);
        ScriptedCall call = new ScriptedCall(
                Kind.WRITE,
                false,
                then(() -> connection.connected = false, fails(CONNECTIONLOSS)),
                ok("applied twice"));

        Throwable failure = failure(api, call);

        assertThat(failure).isExactlyInstanceOf(ZkConnectionLossException.class);
        assertThat(((ZkConnectionLossException) failure).outcomeUnknown()).isTrue();
        assertThat(call.sends).hasValue(1);
        assertThat(call.lossChecks).hasValue(0);
    }

    // ---------------------------------------------------------------- SESSIONMOVED, SESSIONEXPIRED

    static Stream<Arguments> apisAndKinds() {
        List<Arguments> cases = new ArrayList<>();
        for (Api api : Api.values()) {
            for (Kind kind : Kind.values()) {
                cases.add(Arguments.of(api, kind));
            }
        }
        return cases.stream();
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("apisAndKinds")
    void sessionMovedIsRetriedAsNotAppliedWithoutReadingTheServerState(Api api, Kind kind) {
        runner = runner(LONG);
        ScriptedCall call = new ScriptedCall(kind, false, fails(SESSIONMOVED), ok("moved and done"));

        assertThat(call(api, call)).isEqualTo("moved and done");
        assertThat(call.sends).hasValue(2);
        assertThat(call.lossChecks).hasValue(0);
    }

    static Stream<Arguments> apisAndReplacement() {
        List<Arguments> cases = new ArrayList<>();
        for (Api api : Api.values()) {
            cases.add(Arguments.of(api, true));
            cases.add(Arguments.of(api, false));
        }
        return cases.stream();
    }

    /**
     * {@code replaced}: the new session is connected by the time the call could try again (as after Curator replaced
     * the expired handle), or the answer alone is all the call has seen.
     */
    @ParameterizedTest(name = "{0}, new session connected: {1}")
    @MethodSource("apisAndReplacement")
    void sessionBoundWorkWhoseSessionExpiredFailsAtOnceAndIsNotRedone(Api api, boolean replaced) {
        runner = runner(LONG);
        ScriptedCall call = new ScriptedCall(
                Kind.WRITE,
                true,
                then(() -> zk.sessionId(replaced ? SESSION + 1 : SESSION), fails(SESSIONEXPIRED)),
                ok("redone on the new session"));

        Throwable failure = failure(api, call);

        assertThat(failure).isExactlyInstanceOf(ZkSessionExpiredException.class);
        assertThat(((ZkException) failure).code()).isEqualTo(SESSIONEXPIRED);
        assertThat(((ZkException) failure).path()).isEqualTo(PATH);
        assertThat(call.sends).hasValue(1);
    }

    @ParameterizedTest
    @EnumSource(Api.class)
    void sessionBoundWorkCutByALossIsNotRedoneWhenTheSessionWasReplacedMeanwhile(Api api) {
        runner = runner(LONG);
        ScriptedCall call = new ScriptedCall(
                        Kind.WRITE,
                        true,
                        then(() -> zk.sessionId(SESSION + 1), fails(CONNECTIONLOSS)),
                        ok("redone on the new session"))
                .onLossCheck(() -> CompletableFuture.completedFuture(LossVerdict.notApplied()));

        Throwable failure = failure(api, call);

        assertThat(failure).isExactlyInstanceOf(ZkSessionExpiredException.class);
        assertThat(call.sends).hasValue(1);
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("apisAndKinds")
    void readsAndPersistentWritesRunAgainOnTheNewSessionAfterAnExpiry(Api api, Kind kind) {
        runner = runner(LONG);
        ScriptedCall call = new ScriptedCall(
                kind, false, then(() -> zk.sessionId(SESSION + 1), fails(SESSIONEXPIRED)), ok("on the new session"));

        assertThat(call(api, call)).isEqualTo("on the new session");
        assertThat(call.sends).hasValue(2);
        assertThat(call.lossChecks).hasValue(0);
    }

    // ---------------------------------------------------------------- no connected session

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("apisAndKinds")
    void noConnectedSessionWithinTheConnectionTimeoutIsUnavailableAndMarksTheConnectionUnreachable(Api api, Kind kind) {
        runner = runner(OperationPolicy.builder().operationTimeout(Duration.ofSeconds(10)), Duration.ofSeconds(1));
        connection.connected = false;
        ScriptedCall call = new ScriptedCall(kind, false, ok("sent"));

        Throwable failure = failure(api, call);

        assertThat(failure).isExactlyInstanceOf(ZkUnavailableException.class);
        assertThat(((ZkException) failure).code()).isEqualTo(CONNECTIONLOSS);
        assertThat(connection.waits).as("one wait of the connection timeout").containsExactly(Duration.ofSeconds(1));
        assertThat(connection.markedUnreachable).hasValue(1);
        assertThat(call.sends).hasValue(0);
        assertThat(OperationRunner.isEnsembleFailure(failure))
                .as("counted by the breaker")
                .isTrue();
    }

    @ParameterizedTest
    @EnumSource(Api.class)
    void aWaitShorterThanTheConnectionTimeoutDoesNotMarkTheConnectionUnreachable(Api api) {
        // What is left of the operation timeout is shorter than the connection timeout: the call waits only that long.
        runner = runner(OperationPolicy.builder().operationTimeout(Duration.ofMillis(500)), Duration.ofSeconds(10));
        connection.connected = false;
        ScriptedCall call = new ScriptedCall(Kind.READ, false, ok("sent"));

        Throwable failure = failure(api, call);

        assertThat(failure).isExactlyInstanceOf(ZkUnavailableException.class);
        assertThat(connection.waits).hasSize(1);
        assertThat(connection.waits.get(0)).isLessThan(Duration.ofSeconds(10));
        assertThat(connection.markedUnreachable).hasValue(0);
        assertThat(call.sends).hasValue(0);
    }

    /**
     * {@code OperationRunner.isEnsembleFailure} and {@link OperationPolicy}: only "the ensemble is unreachable (no
     * session connected within the connection timeout)" counts against the breaker; README.md: a call waits at most
     * connectionTimeout, "after that the ensemble counts as unreachable". A call whose operation timeout leaves it a
     * shorter wait is not marked unreachable (see the test above), but its failure carries the Unreachable marker all
     * the same, so such calls open the breaker before any connection timeout has passed.
     */
    @ParameterizedTest
    @EnumSource(Api.class)
    void aWaitShorterThanTheConnectionTimeoutDoesNotCountAgainstTheBreaker(Api api) {
        runner = runner(
                breaker(OperationPolicy.builder().operationTimeout(Duration.ofMillis(500))), Duration.ofSeconds(10));
        connection.connected = false;

        List<Throwable> failures = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            failures.add(failure(api, new ScriptedCall(Kind.READ, false, ok("sent"))));
        }

        assertThat(failures).allSatisfy(f -> assertThat(f).isExactlyInstanceOf(ZkUnavailableException.class));
        assertThat(failures).noneMatch(OperationRunner::isEnsembleFailure);
        assertThat(runner.breakerOpen()).isFalse();
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("apisAndKinds")
    void aConnectionKnownUnreachableFailsFastWithoutWaitingOrSending(Api api, Kind kind) {
        runner = runner(LONG);
        connection.connected = false;
        connection.knownUnreachable = true;
        ScriptedCall call = new ScriptedCall(kind, false, ok("sent"));

        Throwable failure = failure(api, call);

        assertThat(failure).isExactlyInstanceOf(ZkUnavailableException.class).hasMessageContaining("unreachable");
        assertThat(connection.waits).as("waits for a connection").isEmpty();
        assertThat(call.sends).hasValue(0);
        assertThat(OperationRunner.isEnsembleFailure(failure)).isTrue();
    }

    // ---------------------------------------------------------------- no answer at all

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("apisAndKinds")
    void aCallWithoutAnAnswerEndsAtItsDeadlineAndAWriteThenHasAnUnknownOutcome(Api api, Kind kind) {
        runner = runner(SHORT);
        ScriptedCall call = new ScriptedCall(kind, false, hangs());

        long start = System.nanoTime();
        Throwable failure = failure(api, call);
        Duration took = Duration.ofNanos(System.nanoTime() - start);

        assertThat(failure).isExactlyInstanceOf(ZkConnectionLossException.class);
        assertThat(((ZkException) failure).code()).isEqualTo(OPERATIONTIMEOUT);
        assertThat(((ZkConnectionLossException) failure).outcomeUnknown()).isEqualTo(kind == Kind.WRITE);
        assertThat(took).isGreaterThanOrEqualTo(SHORT).isLessThan(SHORT.plusSeconds(5));
        assertThat(Thread.currentThread().isInterrupted())
                .as("the deadline's own interrupt is cleared")
                .isFalse();
    }

    // ---------------------------------------------------------------- interrupts

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("apisAndKinds")
    void anInterruptedCallerGetsZkInterruptedExceptionKeepsItsInterruptAndNothingIsSent(Api api, Kind kind) {
        runner = runner(LONG);
        ScriptedCall call = new ScriptedCall(kind, false, ok("sent"));

        Thread.currentThread().interrupt();
        Throwable failure;
        boolean interrupted;
        try {
            failure = catchThrowable(() -> {
                if (api == Api.SYNC) {
                    runner.executeSync(connection, call);
                } else {
                    runner.execute(connection, call).join();
                }
            });
        } finally {
            interrupted = Thread.interrupted();
        }

        assertThat(OperationRunner.unwrap(failure))
                .isExactlyInstanceOf(ZkInterruptedException.class)
                .hasMessageContaining("nothing was sent");
        assertThat(interrupted).as("the caller's interrupt flag").isTrue();
        assertThat(call.sends).hasValue(0);
        assertThat(connection.waits).isEmpty();
    }

    @Test
    void aCallerInterruptedWhileWaitingForAConnectionGetsZkInterruptedExceptionAndStaysInterrupted()
            throws InterruptedException {
        runner = runner(LONG);
        connection.connected = false;
        connection.hangs = true;
        ScriptedCall call = new ScriptedCall(Kind.READ, false, ok("sent"));

        CallerThread caller = CallerThread.start(() -> runner.executeSync(connection, call));
        assertThat(connection.waiting.await(5, TimeUnit.SECONDS))
                .as("the call waits for a connection")
                .isTrue();
        caller.interrupt();

        caller.awaitEnd();
        assertThat(caller.failure.get()).isExactlyInstanceOf(ZkInterruptedException.class);
        assertThat(caller.interruptedAfter.get())
                .as("the caller's interrupt flag")
                .isTrue();
        assertThat(call.sends).hasValue(0);
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void aCallerInterruptedWhileItsRequestIsInFlightGetsZkInterruptedExceptionAndStaysInterrupted(Kind kind)
            throws InterruptedException {
        runner = runner(LONG);
        CountDownLatch sent = new CountDownLatch(1);
        ScriptedCall call = new ScriptedCall(kind, false, then(sent::countDown, hangs()));

        CallerThread caller = CallerThread.start(() -> runner.executeSync(connection, call));
        assertThat(sent.await(5, TimeUnit.SECONDS))
                .as("the request is in flight")
                .isTrue();
        caller.interrupt();

        caller.awaitEnd();
        assertThat(caller.failure.get()).isExactlyInstanceOf(ZkInterruptedException.class);
        if (kind == Kind.WRITE) {
            assertThat(caller.failure.get()).hasMessageContaining("may or may not have been applied");
        }
        assertThat(caller.interruptedAfter.get())
                .as("the caller's interrupt flag")
                .isTrue();
        assertThat(call.sends).hasValue(1);
    }

    /**
     * README.md: "calling thread interrupted | ZkInterruptedException, the thread stays interrupted". The interrupt
     * here arrives as the first attempt's CONNECTIONLOSS does, so it is pending when the retry starts its backoff
     * wait, exactly as an interrupt that arrives during the wait. resilience4j's synchronous retry answers an
     * interrupted wait by re-interrupting the thread and rethrowing the attempt's failure, the internal
     * RetryableFailure, which {@code translate} turns into a ZkConnectionLossException (outcomeUnknown() false for a
     * read) instead of a ZkInterruptedException.
     */
    @Test
    void aCallerInterruptedBetweenRetriesGetsZkInterruptedExceptionAndStaysInterrupted() {
        runner = runner(LONG);
        ScriptedCall call = new ScriptedCall(
                Kind.READ, false, then(() -> Thread.currentThread().interrupt(), fails(CONNECTIONLOSS)), ok("retried"));

        Throwable failure;
        boolean interrupted;
        try {
            failure = catchThrowable(() -> runner.executeSync(connection, call));
        } finally {
            interrupted = Thread.interrupted();
        }

        assertThat(failure).isExactlyInstanceOf(ZkInterruptedException.class);
        assertThat(interrupted).as("the caller's interrupt flag").isTrue();
        assertThat(call.sends).hasValue(1);
    }

    // ---------------------------------------------------------------- the breaker

    @Test
    void onlyAnUnreachableEnsembleCountsAsAFailureForTheBreaker() {
        // A connection timeout below the operation timeout: a call without a session waits all of it.
        runner = runner(OperationPolicy.builder().operationTimeout(SHORT), Duration.ofMillis(100));
        Throwable application = failure(Api.SYNC, new ScriptedCall(Kind.READ, false, fails(NONODE)));
        Throwable lostConnection = failure(Api.SYNC, new ScriptedCall(Kind.READ, false, fails(CONNECTIONLOSS)));
        Throwable lostWrite = failure(
                Api.SYNC,
                new ScriptedCall(Kind.WRITE, false, fails(CONNECTIONLOSS))
                        .onLossCheck(() -> CompletableFuture.completedFuture(LossVerdict.unknown("cannot tell"))));
        Throwable expired = failure(Api.SYNC, new ScriptedCall(Kind.WRITE, true, fails(SESSIONEXPIRED)));
        Throwable noAnswer = failure(Api.SYNC, new ScriptedCall(Kind.READ, false, hangs()));
        connection.connected = false;
        Throwable unreachable = failure(Api.SYNC, new ScriptedCall(Kind.READ, false, ok("sent")));
        runner.ensembleConnected(() -> true); // another session of the ensemble is connected
        Throwable thisSessionOnly = failure(Api.SYNC, new ScriptedCall(Kind.READ, false, ok("sent")));
        connection.knownUnreachable = true;
        runner.ensembleConnected(() -> false);
        Throwable knownUnreachable = failure(Api.SYNC, new ScriptedCall(Kind.READ, false, ok("sent")));

        assertThat(OperationRunner.isEnsembleFailure(application)).as("NONODE").isFalse();
        assertThat(OperationRunner.isEnsembleFailure(lostConnection))
                .as("CONNECTIONLOSS until the deadline")
                .isFalse();
        assertThat(OperationRunner.isEnsembleFailure(lostWrite))
                .as("a lost write's unknown outcome")
                .isFalse();
        assertThat(OperationRunner.isEnsembleFailure(expired))
                .as("SESSIONEXPIRED")
                .isFalse();
        assertThat(OperationRunner.isEnsembleFailure(noAnswer))
                .as("a hung server")
                .isFalse();
        assertThat(OperationRunner.isEnsembleFailure(unreachable))
                .as("no session connected")
                .isTrue();
        assertThat(OperationRunner.isEnsembleFailure(thisSessionOnly))
                .as("this session unreachable, another connected")
                .isFalse();
        assertThat(OperationRunner.isEnsembleFailure(knownUnreachable))
                .as("known unreachable")
                .isTrue();
        assertThat(OperationRunner.isEnsembleFailure(new CompletionException(unreachable)))
                .as("as a future has it")
                .isTrue();
    }

    @ParameterizedTest
    @EnumSource(Api.class)
    void theBreakerOpensOnAnUnreachableEnsembleAndThenFailsFastWithoutWaiting(Api api) {
        runner = runner(breaker(OperationPolicy.builder().operationTimeout(LONG)), Duration.ofSeconds(1));
        connection.connected = false;

        for (int i = 0; i < 2; i++) {
            assertThat(failure(api, new ScriptedCall(Kind.READ, false, ok("sent"))))
                    .isExactlyInstanceOf(ZkUnavailableException.class);
        }
        assertThat(runner.breakerOpen()).isTrue();
        ScriptedCall refused = new ScriptedCall(Kind.READ, false, ok("sent"));
        Throwable failure = failure(api, refused);

        assertThat(failure)
                .isExactlyInstanceOf(ZkUnavailableException.class)
                .hasMessageContaining("circuit breaker")
                .hasCauseInstanceOf(CallNotPermittedException.class);
        assertThat(connection.waits)
                .as("waits: only the two calls before the breaker opened")
                .hasSize(2);
        assertThat(refused.sends).hasValue(0);
    }

    @ParameterizedTest
    @EnumSource(Api.class)
    void applicationResultsLostConnectionsAndOneSessionsLostLinkNeverOpenTheBreaker(Api api) {
        runner = runner(breaker(OperationPolicy.builder().operationTimeout(SHORT)), Duration.ofSeconds(1));

        for (int i = 0; i < 3; i++) {
            assertThat(failure(api, new ScriptedCall(Kind.WRITE, false, fails(NONODE))))
                    .isInstanceOf(ZkNoNodeException.class);
            assertThat(failure(api, new ScriptedCall(Kind.READ, false, fails(CONNECTIONLOSS))))
                    .isInstanceOf(ZkConnectionLossException.class);
        }
        connection.connected = false;
        runner.ensembleConnected(() -> true);
        for (int i = 0; i < 3; i++) {
            assertThat(failure(api, new ScriptedCall(Kind.READ, false, ok("sent"))))
                    .isInstanceOf(ZkUnavailableException.class);
        }

        assertThat(runner.breakerOpen()).isFalse();
        assertThat(runner.status().breakerFailedCalls()).isZero();
    }

    // ---------------------------------------------------------------- the in-flight limit

    @ParameterizedTest
    @EnumSource(Api.class)
    void aFullInFlightLimitFailsFastWithNothingSent(Api api) {
        runner = runner(OperationPolicy.builder().operationTimeout(LONG).maxInFlight(1), Duration.ofSeconds(1));
        ScriptedCall inFlight = new ScriptedCall(Kind.READ, false, hangs());
        CompletableFuture<String> first = runner.execute(connection, inFlight);
        assertThat(inFlight.sends).hasValue(1);

        ScriptedCall refused = new ScriptedCall(Kind.READ, false, ok("sent"));
        Throwable failure = failure(api, refused);

        assertThat(failure).isExactlyInstanceOf(ZkUnavailableException.class).hasMessageContaining("maxInFlight");
        assertThat(refused.sends).hasValue(0);
        assertThat(first).isNotDone();
    }

    // ---------------------------------------------------------------- fixtures

    private OperationRunner runner(Duration operationTimeout) {
        return runner(OperationPolicy.builder().operationTimeout(operationTimeout), Duration.ofSeconds(1));
    }

    /** A runner with fast retries; the connection timeout is the runner's and the connection's. */
    private OperationRunner runner(OperationPolicy.Builder policy, Duration connectionTimeout) {
        EnsembleConfig config = EnsembleConfig.builder()
                .connectString("127.0.0.1:2181")
                .connectionTimeout(connectionTimeout)
                .build();
        connection.config = config;
        return new OperationRunner(
                "unit",
                Map.of(),
                config,
                policy.retryInitialBackoff(Duration.ofMillis(1))
                        .retryMaxBackoff(Duration.ofMillis(5))
                        .build(),
                scheduler);
    }

    /** A breaker that decides after two calls. */
    private static OperationPolicy.Builder breaker(OperationPolicy.Builder policy) {
        return policy.breakerMinimumCalls(2)
                .breakerSlidingWindow(2)
                .breakerFailureRateThreshold(50f)
                .breakerOpenDuration(Duration.ofMinutes(1));
    }

    /** The call's result through {@code api}, or its failure thrown as the caller gets it. */
    private String call(Api api, ZkCall<String> call) {
        if (api == Api.SYNC) {
            return runner.executeSync(connection, call);
        }
        CompletableFuture<String> result = runner.execute(connection, call);
        try {
            return result.get(10, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            throw cause instanceof RuntimeException ? (RuntimeException) cause : new IllegalStateException(cause);
        } catch (InterruptedException | TimeoutException e) {
            throw new AssertionError("the asynchronous call did not end", e);
        }
    }

    /** The failure the caller gets; fails the test when the call succeeds. */
    private Throwable failure(Api api, ZkCall<String> call) {
        Throwable failure = catchThrowable(() -> call(api, call));
        assertThat(failure).as("the call's failure").isNotNull();
        return failure;
    }

    private static Supplier<CompletableFuture<String>> ok(String value) {
        return () -> CompletableFuture.completedFuture(value);
    }

    private static Supplier<CompletableFuture<String>> fails(Code code) {
        return () -> CompletableFuture.failedFuture(KeeperException.create(code, PATH));
    }

    /** No answer ever: a server that holds the request. */
    private static Supplier<CompletableFuture<String>> hangs() {
        return CompletableFuture::new;
    }

    /** {@code effect} as the request is sent (on the sending thread), then {@code answer}. */
    private static Supplier<CompletableFuture<String>> then(
            Runnable effect, Supplier<CompletableFuture<String>> answer) {
        return () -> {
            effect.run();
            return answer.get();
        };
    }

    /**
     * An operation answered from a script, one answer per send (the last one repeats). Counts its sends and the reads
     * of the server's state after a loss, whose verdict the test chooses.
     */
    static final class ScriptedCall extends ZkCall<String> {
        private final List<Supplier<CompletableFuture<String>>> script;
        final AtomicInteger sends = new AtomicInteger();
        final AtomicInteger lossChecks = new AtomicInteger();
        private volatile Supplier<CompletableFuture<LossVerdict<String>>> lossCheck =
                () -> CompletableFuture.failedFuture(
                        new AssertionError("the server's state was read; this case expects no read"));

        @SafeVarargs
        ScriptedCall(Kind kind, boolean sessionBound, Supplier<CompletableFuture<String>>... script) {
            super(kind == Kind.READ ? "getData" : "setData", PATH, kind, sessionBound);
            this.script = List.of(script);
        }

        ScriptedCall onLossCheck(Supplier<CompletableFuture<LossVerdict<String>>> verdict) {
            this.lossCheck = verdict;
            return this;
        }

        @Override
        protected CompletableFuture<String> send(ZooKeeper zk) {
            int n = sends.incrementAndGet();
            return script.get(Math.min(n, script.size()) - 1).get();
        }

        @Override
        CompletableFuture<LossVerdict<String>> resolveAfterLoss(ZooKeeper zk, long sentAfterZxid) {
            lossChecks.incrementAndGet();
            return lossCheck.get();
        }
    }

    /**
     * The session port: connected to one handle, or never connecting (each wait fails at once with
     * {@link TimeoutException}, as if it had run its course: the runner cannot tell), or waiting forever.
     */
    static final class FakeConnection implements Connection {
        private final ZooKeeper zk;
        volatile EnsembleConfig config;
        volatile boolean connected = true;
        volatile boolean hangs;
        volatile boolean knownUnreachable;
        final List<Duration> waits = new CopyOnWriteArrayList<>();
        final AtomicInteger markedUnreachable = new AtomicInteger();
        final CountDownLatch waiting = new CountDownLatch(1);

        FakeConnection(ZooKeeper zk) {
            this.zk = zk;
        }

        @Override
        public EnsembleConfig config() {
            return config;
        }

        @Override
        public ZooKeeper connectedHandle() {
            return connected ? zk : null;
        }

        @Override
        public CompletableFuture<ZooKeeper> awaitConnected(Duration timeout) {
            waits.add(timeout);
            waiting.countDown();
            if (connected) {
                return CompletableFuture.completedFuture(zk);
            }
            return hangs ? new CompletableFuture<>() : CompletableFuture.failedFuture(new TimeoutException());
        }

        @Override
        public boolean isKnownUnreachable() {
            return knownUnreachable;
        }

        @Override
        public void markUnreachable() {
            markedUnreachable.incrementAndGet();
        }

        @Override
        public long unreachableForMillis() {
            return 0;
        }

        @Override
        public Throwable lastHandleFailure() {
            return null;
        }

        @Override
        public long seenZxid(ZooKeeper zk) {
            return 0;
        }

        @Override
        public CompletableFuture<Void> catchUp(ZooKeeper zk, long zxid, LongSupplier target) {
            return CompletableFuture.completedFuture(null);
        }

        @Override
        public ZkAuthException authFailure() {
            return null;
        }

        @Override
        public String identities() {
            return "none";
        }
    }

    /** A synchronous call on a thread of its own, to be interrupted; what it threw and its interrupt flag then. */
    static final class CallerThread {
        final AtomicReference<Throwable> failure = new AtomicReference<>();
        final AtomicBoolean interruptedAfter = new AtomicBoolean();
        private final Thread thread;

        private CallerThread(Runnable call) {
            thread = new Thread(
                    () -> {
                        try {
                            call.run();
                        } catch (Throwable t) {
                            failure.set(t);
                        }
                        interruptedAfter.set(Thread.currentThread().isInterrupted());
                    },
                    "runner-test-caller");
            thread.setDaemon(true);
        }

        static CallerThread start(Runnable call) {
            CallerThread c = new CallerThread(call);
            c.thread.start();
            return c;
        }

        void interrupt() {
            thread.interrupt();
        }

        void awaitEnd() throws InterruptedException {
            thread.join(TimeUnit.SECONDS.toMillis(10));
            assertThat(thread.isAlive()).as("the call ended").isFalse();
        }
    }
}
