package dev.zksdk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.awaitility.Awaitility.await;

import dev.zksdk.testing.ForcedExpiry;
import dev.zksdk.testing.InProcessEnsembles;
import dev.zksdk.testing.RawZooKeeper;
import dev.zksdk.testing.Recorder;
import dev.zksdk.testing.TxnLogOracle;
import dev.zksdk.testing.TxnLogOracle.OpType;
import dev.zksdk.testing.TxnLogOracle.Txn;
import dev.zksdk.testing.ZkProxy;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import org.apache.curator.test.KillSession;
import org.apache.curator.test.TestingServer;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.data.Stat;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Tries to break what {@link EphemeralNode} and {@link ZkLease#ephemeral} promise, through the public API only: one
 * live registration per path and pool, nothing adopted or deleted that the handle did not create, a closed
 * registration never stays behind, {@code isPresent()} never lies, data written once connected, one node per
 * sequential registration. The pool reaches the in-process server through a proxy (faults); the observer and every
 * fault made on the server's side go to the server directly.
 */
class EphemeralAdversarialIT {

    static final Duration SESSION_TIMEOUT = Duration.ofSeconds(6);
    static final Duration CONNECTION_TIMEOUT = Duration.ofSeconds(5);
    static final Duration GRACE = Duration.ofMillis(500);

    TestingServer server;
    ZkProxy proxy;
    RawZooKeeper observer;
    Recorder recorder;
    ZkSessionPool pool;
    final List<Throwable> crashes = new CopyOnWriteArrayList<>();

    @BeforeEach
    void start() throws Exception {
        server = InProcessEnsembles.startServer();
        proxy = ZkProxy.to(server.getConnectString());
        observer = RawZooKeeper.connect(server.getConnectString(), Duration.ofSeconds(30));
        observer.zk().create("/reg", new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        recorder = new Recorder();
        pool = newPool(1);
    }

    private ZkSessionPool newPool(int sessions) {
        return ZkSessionPool.builder()
                .name("adv-eph")
                .connectString(proxy.connectString())
                .sessionTimeout(SESSION_TIMEOUT)
                .connectionTimeout(CONNECTION_TIMEOUT)
                .sessionsPerEnsemble(sessions)
                .operationPolicy(OperationPolicy.builder()
                        .operationTimeout(Duration.ofSeconds(10))
                        .breakerFailureRateThreshold(100f)
                        .build())
                .listener(recorder)
                .build();
    }

    private void replacePool(int sessions) {
        pool.close();
        recorder.clear();
        pool = newPool(sessions);
    }

    @AfterEach
    void stop() throws Exception {
        if (pool != null) {
            pool.close();
        }
        observer.close();
        proxy.close();
        server.close();
    }

    /** A case of this class, run on an instance of its own. */
    @FunctionalInterface
    interface OwnFixtureCase {
        void run(EphemeralAdversarialIT own) throws Exception;
    }

    /**
     * Runs the named cases at once, each on a fresh instance with its own {@link #start()}/{@link #stop()} fixture
     * (server, proxy, observer and pool of its own: a case's cuts, expiries and external writes touch no other case).
     * A failure names the case and its failure.
     */
    static void atOnce(Map<String, OwnFixtureCase> cases) {
        Timings.allCasesAtOnce(List.copyOf(cases.keySet()), name -> {
            EphemeralAdversarialIT own = new EphemeralAdversarialIT();
            own.start();
            try {
                cases.get(name).run(own);
            } finally {
                own.stop();
            }
        });
    }

    // ------------------------------------------------------------------- the other cases, a few at once each

    @Test
    void anExternalClientARegistrationRacingAnExpiryOrClosedWhileDisconnectedLeaveOnlyWhatIsTheirs() {
        Map<String, OwnFixtureCase> cases = new LinkedHashMap<>();
        cases.put(
                "anExternalClientDeletingAndReCreatingOurPathIsNeverAdoptedNorDeleted",
                EphemeralAdversarialIT::anExternalClientDeletingAndReCreatingOurPathIsNeverAdoptedNorDeleted);
        cases.put(
                "closeWhileDisconnectedDeletesTheNodeOnceTheSameSessionReconnects",
                EphemeralAdversarialIT::closeWhileDisconnectedDeletesTheNodeOnceTheSameSessionReconnects);
        cases.put(
                "aSequentialRegistrationAfterAClientSideExpiryNeverHasTwoNodes",
                EphemeralAdversarialIT::aSequentialRegistrationAfterAClientSideExpiryNeverHasTwoNodes);
        cases.put(
                "registrationsRacingAnExpiryEachEndWithExactlyTheirNodeOrNothing",
                EphemeralAdversarialIT::registrationsRacingAnExpiryEachEndWithExactlyTheirNodeOrNothing);
        atOnce(cases);
    }

    @Test
    void theServersLogShowsNoForeignDeleteAndRegistrationsRaceOnlyToTheirOwnNode() {
        Map<String, OwnFixtureCase> cases = new LinkedHashMap<>();
        cases.put(
                "noNodeThePoolCannotProveItsOwnIsEverDeletedByThePool",
                EphemeralAdversarialIT::noNodeThePoolCannotProveItsOwnIsEverDeletedByThePool);
        cases.put(
                "closingAHandleWhileItsExpiredSessionsNodeIsStillThereNeverLeavesANodeOfTheLiveSession",
                EphemeralAdversarialIT
                        ::closingAHandleWhileItsExpiredSessionsNodeIsStillThereNeverLeavesANodeOfTheLiveSession);
        cases.put(
                "isPresentIsFalseWhileTheSessionIsSuspendedAndTrueAgainOnceReconnected",
                EphemeralAdversarialIT::isPresentIsFalseWhileTheSessionIsSuspendedAndTrueAgainOnceReconnected);
        cases.put(
                "manyThreadsRegisteringOnePathAtOnceAcrossThreeSessionsLetExactlyOneWin",
                EphemeralAdversarialIT::manyThreadsRegisteringOnePathAtOnceAcrossThreeSessionsLetExactlyOneWin);
        atOnce(cases);
    }

    @Test
    void registrationsAcrossExpiriesAndAParentRemovedEndRegisteredWithOneNode() {
        Map<String, OwnFixtureCase> cases = new LinkedHashMap<>();
        cases.put(
                "theRegistrationsParentRemovedAgainAndAgainEndsRegisteredAndReportedRestored",
                EphemeralAdversarialIT::theRegistrationsParentRemovedAgainAndAgainEndsRegisteredAndReportedRestored);
        cases.put(
                "aSequentialRegistrationHasExactlyOneNodeAfterEachOfSeveralExpiries",
                EphemeralAdversarialIT::aSequentialRegistrationHasExactlyOneNodeAfterEachOfSeveralExpiries);
        cases.put(
                "setDataWhileTheSessionIsDownAndThenExpiresIsWrittenByTheNewSession",
                EphemeralAdversarialIT::setDataWhileTheSessionIsDownAndThenExpiresIsWrittenByTheNewSession);
        atOnce(cases);
    }

    @Test
    void setDataAndClosesRacingEachOtherOrAnotherClientEndWithTheHandlesState() {
        Map<String, OwnFixtureCase> cases = new LinkedHashMap<>();
        cases.put(
                "setDataRacingCloseNeverBringsTheNodeBack",
                EphemeralAdversarialIT::setDataRacingCloseNeverBringsTheNodeBack);
        cases.put(
                "poolCloseWhileAnotherClientHoldsARegisteredPathLeavesTheirNodeAlone",
                EphemeralAdversarialIT::poolCloseWhileAnotherClientHoldsARegisteredPathLeavesTheirNodeAlone);
        cases.put(
                "closeEphemeralsRacingAFirstRegistrationEndsWithTheNodeMatchingTheHandle",
                EphemeralAdversarialIT::closeEphemeralsRacingAFirstRegistrationEndsWithTheNodeMatchingTheHandle);
        atOnce(cases);
    }

    @Test
    void concurrentSetDataAcrossAnExpiryAndClosesWhileAnotherClientHoldsThePathLeaveTheirNodeAlone() {
        Map<String, OwnFixtureCase> cases = new LinkedHashMap<>();
        cases.put(
                "concurrentSetDataAcrossAnExpiryEndsWithTheHandlesDataOnTheServerAndALaterSetDataIsNotOverwritten",
                EphemeralAdversarialIT
                        ::concurrentSetDataAcrossAnExpiryEndsWithTheHandlesDataOnTheServerAndALaterSetDataIsNotOverwritten);
        cases.put(
                "closeEphemeralsWhileAnotherClientHoldsARegisteredPathLeavesTheirNodeAlone",
                EphemeralAdversarialIT::closeEphemeralsWhileAnotherClientHoldsARegisteredPathLeavesTheirNodeAlone);
        atOnce(cases);
    }

    @Test
    void handlesClosedWhileDisconnectedOrWhileAnotherClientHoldsThePathAreNotReCreatedNorTakeTheirNode() {
        Map<String, OwnFixtureCase> cases = new LinkedHashMap<>();
        cases.put(
                "closingAHandleWhosePathAnotherClientHoldsLeavesTheirNodeAlone",
                EphemeralAdversarialIT::closingAHandleWhosePathAnotherClientHoldsLeavesTheirNodeAlone);
        cases.put(
                "aHandleClosedWhileDisconnectedIsNotReCreatedByTheNextSession",
                EphemeralAdversarialIT::aHandleClosedWhileDisconnectedIsNotReCreatedByTheNextSession);
        atOnce(cases);
    }

    // ----------------------------------------------------------------------------- searches under connection cuts

    /**
     * The four searches that cut connections under calls for a fixed time (registrations, sequential registrations,
     * setData, and register/close on three sessions) run at once, each on its own server, proxy, observer and pool (a
     * fixture of its own, as every other case here has): their time is spent waiting for ZooKeeper's reconnect pause
     * after each cut, not computing. A failure names the search and what it found.
     */
    @Test
    void registrationsAndSetDataCutMidFlightNeverLieNorLeaveANodeBehind() {
        Timings.allCasesAtOnce(
                List.of(
                        "registerAndCloseInATightLoopOnThreeSessionsWhileConnectionsAreCutNeverLeavesANodeBehind",
                        "aRegistrationCutMidFlightEitherOwnsItsNodeOrLeavesNothingBehind",
                        "aSequentialRegistrationCutMidFlightMakesOneNodeOrNone",
                        "setDataCutMidFlightNeverLetsAnOlderValueLandAfterANewerOneReturned"),
                search -> {
                    EphemeralAdversarialIT own = new EphemeralAdversarialIT();
                    own.start();
                    try {
                        switch (search) {
                            case "registerAndCloseInATightLoopOnThreeSessionsWhileConnectionsAreCutNeverLeavesANodeBehind" ->
                                own
                                        .registerAndCloseInATightLoopOnThreeSessionsWhileConnectionsAreCutNeverLeavesANodeBehind();
                            case "aRegistrationCutMidFlightEitherOwnsItsNodeOrLeavesNothingBehind" ->
                                own.aRegistrationCutMidFlightEitherOwnsItsNodeOrLeavesNothingBehind();
                            case "aSequentialRegistrationCutMidFlightMakesOneNodeOrNone" ->
                                own.aSequentialRegistrationCutMidFlightMakesOneNodeOrNone();
                            default -> own.setDataCutMidFlightNeverLetsAnOlderValueLandAfterANewerOneReturned();
                        }
                    } finally {
                        own.stop();
                    }
                });
    }

    // ------------------------------------------------------------------------------ one registration per path

    void manyThreadsRegisteringOnePathAtOnceAcrossThreeSessionsLetExactlyOneWin() throws Exception {
        replacePool(3);
        ExecutorService threads = Executors.newFixedThreadPool(12);
        try {
            for (int round = 0; round < 8; round++) {
                String path = "/reg/race-" + round;
                CountDownLatch go = new CountDownLatch(1);
                List<Future<EphemeralNode>> calls = new ArrayList<>();
                List<ZkLease> leases = new ArrayList<>();
                for (int t = 0; t < 12; t++) {
                    ZkLease lease = pool.lease();
                    leases.add(lease);
                    byte[] data = bytes("t" + t);
                    calls.add(threads.submit(() -> {
                        go.await();
                        return lease.ephemeral(path, data);
                    }));
                }
                go.countDown();
                List<Integer> winners = new ArrayList<>();
                List<String> others = new ArrayList<>();
                EphemeralNode winner = null;
                for (int t = 0; t < calls.size(); t++) {
                    try {
                        winner = calls.get(t).get(30, TimeUnit.SECONDS);
                        winners.add(t);
                    } catch (ExecutionException e) {
                        if (!(e.getCause() instanceof ZkNodeExistsException)) {
                            others.add("t" + t + ": " + e.getCause());
                        }
                    }
                }
                assertThat(others)
                        .as("round %d: failures other than ZkNodeExistsException", round)
                        .isEmpty();
                assertThat(winners)
                        .as("round %d: registrations of %s that succeeded", round, path)
                        .hasSize(1);
                int w = winners.get(0);
                Stat stat = observed(path);
                assertThat(stat).as("round %d: %s on the server", round, path).isNotNull();
                assertThat(stat.getEphemeralOwner())
                        .as("owner of %s", path)
                        .isEqualTo(leases.get(w).sessionId());
                assertThat(str(observer.zk().getData(path, false, null)))
                        .as("data of %s", path)
                        .isEqualTo("t" + w);
                assertThat(winner.isPresent()).isTrue();
                winner.close();
                assertThat(observed(path))
                        .as("%s after the winner closed", path)
                        .isNull();
                leases.forEach(ZkLease::close);
            }
        } finally {
            threads.shutdownNow();
        }
    }

    void registerAndCloseInATightLoopOnThreeSessionsWhileConnectionsAreCutNeverLeavesANodeBehind() throws Exception {
        replacePool(3);
        String path = "/reg/churn";
        AtomicBoolean cutting = new AtomicBoolean(true);
        AtomicInteger cuts = new AtomicInteger();
        Thread cutter = daemon("cutter", () -> {
            while (cutting.get()) {
                sleepMs(ThreadLocalRandom.current().nextInt(100, 400));
                proxy.closeAllConnections();
                cuts.incrementAndGet();
            }
        });
        cutter.start();
        Map<String, Integer> outcomes = new TreeMap<>();
        List<String> lies = new ArrayList<>();
        List<String> history = new ArrayList<>();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(12);
        int i = 0;
        while (System.nanoTime() < deadline) {
            i++;
            try (ZkLease lease = pool.lease()) {
                String data = "d" + i;
                EphemeralNode node;
                try {
                    node = lease.ephemeral(path, bytes(data));
                } catch (ZkException e) {
                    outcomes.merge("ephemeral threw " + e.getClass().getSimpleName(), 1, Integer::sum);
                    history.add(i + " " + data + ": threw " + e.getMessage());
                    continue;
                }
                history.add(i + " " + data + ": registered");
                outcomes.merge("registered", 1, Integer::sum);
                Stat stat = observed(path);
                if (stat == null) {
                    lies.add(i + ": ephemeral() returned but " + path + " is absent on the server");
                } else if (!str(observer.zk().getData(path, false, null)).equals(data)) {
                    lies.add(i + ": ephemeral(" + data + ") returned but the server has "
                            + str(observer.zk().getData(path, false, null)));
                }
                try {
                    node.close();
                } catch (RuntimeException e) {
                    outcomes.merge("close threw " + e.getClass().getSimpleName(), 1, Integer::sum);
                }
            } catch (ZkException e) {
                outcomes.merge("lease threw " + e.getClass().getSimpleName(), 1, Integer::sum);
            }
        }
        cutting.set(false);
        cutter.join();
        System.out.println("churn: " + i + " iterations, " + cuts + " cuts, outcomes " + outcomes);
        assertThat(lies).as("registrations that reported success").isEmpty();
        assertThat(outcomes.getOrDefault("registered", 0))
                .as("successful registrations (the test must exercise it)")
                .isGreaterThanOrEqualTo(5);
        // Every handle is closed: the node must go (at once if connected; once reconnected otherwise) and stay away.
        await().atMost(Duration.ofSeconds(10))
                .untilAsserted(() -> assertThat(observed(path))
                        .as(
                                "%s after every registration was closed (%s; owned ephemerals %d; the " + "calls: %s)",
                                path,
                                describeNode(path),
                                pool.ensembles().get(0).ownedEphemerals(),
                                history.stream()
                                        .filter(h -> !h.endsWith("registered"))
                                        .findFirst()
                                        .map(first -> history.subList(
                                                Math.max(0, history.indexOf(first) - 2),
                                                Math.min(history.size(), history.indexOf(first) + 3)))
                                        .orElse(history))
                        .isNull());
        assertStaysAbsent(path, Duration.ofSeconds(2));
        assertThat(pool.ensembles().get(0).ownedEphemerals())
                .as("owned ephemerals after every handle closed")
                .isZero();
    }

    // ---------------------------------------------------------------------- close never leaves a node behind

    void closeWhileDisconnectedDeletesTheNodeOnceTheSameSessionReconnects() throws Exception {
        try (ZkLease lease = pool.lease()) {
            EphemeralNode node = lease.ephemeral("/reg/closing", bytes("x"));
            long session = lease.sessionId();
            proxy.freeze();
            proxy.closeAllConnections();
            await().atMost(Duration.ofSeconds(5)).until(() -> recorder.saw(SessionState.SUSPENDED));
            long started = System.nanoTime();
            Throwable closeFailure = catchThrowable(node::close);
            long closeMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
            assertThat(closeMs)
                    .as("close() while disconnected waits at most the connection timeout")
                    .isLessThan(CONNECTION_TIMEOUT.toMillis() + 1500);
            assertThat(closeFailure)
                    .as("close() while disconnected (it promises the node goes once reconnected)")
                    .isNull();
            // Unfreeze before the session times out on the server (6 s): same session.
            proxy.unfreeze();
            await().atMost(Duration.ofSeconds(10))
                    .until(() -> recorder.saw(e -> e.state() == SessionState.RECONNECTED && e.sameSession()));
            assertThat(lease.sessionId())
                    .as("reconnected within the same session")
                    .isEqualTo(session);
            await().atMost(Duration.ofSeconds(5))
                    .untilAsserted(() -> assertThat(observed("/reg/closing"))
                            .as(
                                    "/reg/closing, closed while disconnected, after the same session reconnected (%s)",
                                    describeNode("/reg/closing"))
                            .isNull());
            assertStaysAbsent("/reg/closing", Duration.ofSeconds(2));
            assertThat(node.isPresent()).isFalse();
        }
    }

    void isPresentIsFalseWhileTheSessionIsSuspendedAndTrueAgainOnceReconnected() throws Exception {
        try (ZkLease lease = pool.lease()) {
            EphemeralNode node = lease.ephemeral("/reg/suspended", bytes("x"));
            assertThat(node.isPresent()).isTrue();
            proxy.freeze();
            proxy.closeAllConnections();
            await().atMost(Duration.ofSeconds(5)).until(() -> recorder.saw(SessionState.SUSPENDED));
            assertThat(node.isPresent())
                    .as("isPresent() while the session is SUSPENDED (\"true only while the node is "
                            + "known to exist ... under the live, connected session\")")
                    .isFalse();
            proxy.unfreeze();
            await().atMost(Duration.ofSeconds(10)).until(node::isPresent);
            assertThat(observed("/reg/suspended").getEphemeralOwner()).isEqualTo(lease.sessionId());
        }
    }

    void registrationsRacingAnExpiryEachEndWithExactlyTheirNodeOrNothing() throws Exception {
        replacePool(2);
        ExecutorService threads = Executors.newFixedThreadPool(8);
        List<String> problems = new ArrayList<>();
        try (ZkLease l1 = pool.lease();
                ZkLease l2 = pool.lease()) {
            List<Future<EphemeralNode>> calls = new ArrayList<>();
            CountDownLatch go = new CountDownLatch(1);
            for (int i = 0; i < 40; i++) {
                ZkLease lease = i % 2 == 0 ? l1 : l2;
                String path = "/reg/racing-expiry-" + i;
                calls.add(threads.submit(() -> {
                    go.await();
                    return lease.ephemeral(path, bytes(path));
                }));
            }
            long session = l1.sessionId();
            byte[] password = password(l1);
            go.countDown();
            sleepMs(ThreadLocalRandom.current().nextInt(0, 20));
            ForcedExpiry.expireSession(server.getConnectString(), session, password);
            Map<String, Integer> outcomes = new TreeMap<>();
            List<EphemeralNode> nodes = new ArrayList<>();
            for (int i = 0; i < calls.size(); i++) {
                String path = "/reg/racing-expiry-" + i;
                try {
                    nodes.add(calls.get(i).get(60, TimeUnit.SECONDS));
                    outcomes.merge("registered", 1, Integer::sum);
                } catch (ExecutionException e) {
                    outcomes.merge(e.getCause().getClass().getSimpleName(), 1, Integer::sum);
                    awaitQuietly(Duration.ofSeconds(3), () -> observed(path) == null);
                    if (observed(path) != null) {
                        problems.add(path + ": registration threw " + e.getCause() + " but left " + describeNode(path));
                    }
                }
            }
            System.out.println("registrations racing an expiry: " + outcomes);
            await().atMost(Duration.ofSeconds(20))
                    .until(() -> !recorder.recoveries().isEmpty());
            for (EphemeralNode node : nodes) {
                awaitQuietly(Duration.ofSeconds(10), node::isPresent);
                Stat stat = observed(node.path());
                if (!node.isPresent()
                        || stat == null
                        || (stat.getEphemeralOwner() != l1.sessionId() && stat.getEphemeralOwner() != l2.sessionId())) {
                    problems.add(node.path() + ": handle returned, isPresent=" + node.isPresent() + ", server: "
                            + describeNode(node.path()));
                }
            }
            List<String> children = observer.zk().getChildren("/reg", false);
            assertThat(children).as("nodes under /reg").hasSize(nodes.size());
        } finally {
            threads.shutdownNow();
        }
        assertThat(problems).isEmpty();
    }

    void aHandleClosedWhileDisconnectedIsNotReCreatedByTheNextSession() throws Exception {
        try (ZkLease lease = pool.lease()) {
            EphemeralNode node = lease.ephemeral("/reg/closed-then-expired", bytes("x"));
            long session = lease.sessionId();
            byte[] password = password(lease);
            proxy.freeze();
            proxy.closeAllConnections();
            await().atMost(Duration.ofSeconds(5)).until(() -> recorder.saw(SessionState.SUSPENDED));
            catchThrowable(node::close);
            ForcedExpiry.expireSession(server.getConnectString(), session, password);
            proxy.unfreeze();
            await().atMost(Duration.ofSeconds(20))
                    .until(() -> !recorder.recoveries().isEmpty());
            assertStaysAbsent("/reg/closed-then-expired", Duration.ofSeconds(3));
            assertThat(node.isPresent()).isFalse();
            assertThat(pool.ensembles().get(0).ownedEphemerals()).isZero();
        }
    }

    void aRegistrationCutMidFlightEitherOwnsItsNodeOrLeavesNothingBehind() throws Exception {
        Map<String, Integer> outcomes = new TreeMap<>();
        List<String> problems = new ArrayList<>();
        ExecutorService cutter = Executors.newSingleThreadExecutor();
        try (ZkLease lease = pool.lease()) {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(18);
            for (int i = 0; i < 40 && System.nanoTime() < deadline; i++) {
                String path = "/reg/cut-" + i;
                long delayMicros = ThreadLocalRandom.current().nextLong(0, 8_000);
                Future<?> cut = cutter.submit(() -> {
                    LockSupport.parkNanos(TimeUnit.MICROSECONDS.toNanos(delayMicros));
                    proxy.closeAllConnections();
                });
                EphemeralNode node = null;
                Throwable failure = null;
                try {
                    node = lease.ephemeral(path, bytes("x" + i));
                } catch (RuntimeException e) {
                    failure = e;
                }
                cut.get();
                if (node != null) {
                    outcomes.merge("registered", 1, Integer::sum);
                    Stat stat = observed(path);
                    if (stat == null
                            || !str(observer.zk().getData(path, false, null)).equals("x" + i)) {
                        problems.add(path + ": ephemeral() returned but the server has " + describeNode(path));
                    }
                    node.close();
                    if (observed(path) != null) {
                        awaitQuietly(Duration.ofSeconds(5), () -> observed(path) == null);
                        if (observed(path) != null) {
                            problems.add(path + ": still there 5 s after close(): " + describeNode(path));
                        }
                    }
                } else {
                    outcomes.merge("threw " + failure.getClass().getSimpleName(), 1, Integer::sum);
                    // "nothing is left behind": whatever the failure, no node of ours may stay at a fresh path.
                    awaitQuietly(Duration.ofSeconds(SESSION_TIMEOUT.toSeconds()), () -> observed(path) == null);
                    int owned = pool.ensembles().get(0).ownedEphemerals();
                    if (observed(path) != null) {
                        // And the user's natural reaction, registering again, must not be refused forever.
                        Throwable retry = catchThrowable(
                                () -> lease.ephemeral(path, bytes("retry")).close());
                        String left = describeNode(path);
                        // Is a registration still alive inside the pool, though the call failed? Take the node away and
                        // see.
                        observer.zk().delete(path, -1);
                        awaitQuietly(Duration.ofSeconds(3), () -> observed(path) != null);
                        String after = describeNode(path);
                        problems.add(path + ": ephemeral() threw " + failure + " but left " + left
                                + "; registering it again "
                                + (retry == null
                                        ? "worked"
                                        : "threw " + retry.getClass().getSimpleName()) + "; owned ephemerals "
                                + owned + "; 3 s after an external delete of the leftover: " + after);
                        if (observed(path) != null) {
                            observer.zk().delete(path, -1);
                        }
                    } else if (owned != 0) {
                        problems.add(path + ": ephemeral() threw " + failure
                                + " and left no node, but the pool still counts " + owned + " owned ephemeral(s)");
                    }
                }
            }
        } finally {
            cutter.shutdownNow();
        }
        System.out.println("cut mid-flight: " + outcomes);
        assertThat(problems)
                .as("registrations cut mid-flight (outcomes %s)", outcomes)
                .isEmpty();
    }

    void aSequentialRegistrationCutMidFlightMakesOneNodeOrNone() throws Exception {
        observer.zk().create("/reg/seqcut", new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        Map<String, Integer> outcomes = new TreeMap<>();
        List<String> problems = new ArrayList<>();
        ExecutorService cutter = Executors.newSingleThreadExecutor();
        try (ZkLease lease = pool.lease()) {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
            for (int i = 0; i < 30 && System.nanoTime() < deadline; i++) {
                long delayMicros = ThreadLocalRandom.current().nextLong(0, 8_000);
                Future<?> cut = cutter.submit(() -> {
                    LockSupport.parkNanos(TimeUnit.MICROSECONDS.toNanos(delayMicros));
                    proxy.closeAllConnections();
                });
                EphemeralNode node = null;
                Throwable failure = null;
                try {
                    node = lease.ephemeral("/reg/seqcut/m-", bytes("x" + i), CreateMode.EPHEMERAL_SEQUENTIAL);
                } catch (RuntimeException e) {
                    failure = e;
                }
                cut.get();
                EphemeralNode made = node;
                awaitQuietly(
                        Duration.ofSeconds(node == null ? SESSION_TIMEOUT.toSeconds() : 1),
                        () -> observer.zk().getChildren("/reg/seqcut", false).size() == (made == null ? 0 : 1));
                List<String> children = observer.zk().getChildren("/reg/seqcut", false);
                if (node != null) {
                    outcomes.merge("registered", 1, Integer::sum);
                    if (children.size() != 1 || !node.path().equals("/reg/seqcut/" + children.get(0))) {
                        problems.add(i + ": registered as " + node.path() + " but the parent holds " + children);
                    }
                    node.close();
                } else {
                    outcomes.merge("threw " + failure.getClass().getSimpleName(), 1, Integer::sum);
                    if (!children.isEmpty()) {
                        problems.add(i + ": registration threw " + failure + " but the parent holds " + children);
                    }
                }
                awaitQuietly(
                        Duration.ofSeconds(3),
                        () -> observer.zk().getChildren("/reg/seqcut", false).isEmpty());
                for (String c : observer.zk().getChildren("/reg/seqcut", false)) {
                    observer.zk().delete("/reg/seqcut/" + c, -1); // clean up a leftover so the next round starts empty
                }
            }
        } finally {
            cutter.shutdownNow();
        }
        System.out.println("sequential registrations cut mid-flight: " + outcomes);
        assertThat(problems)
                .as("sequential registrations cut mid-flight (outcomes %s)", outcomes)
                .isEmpty();
    }

    void setDataCutMidFlightNeverLetsAnOlderValueLandAfterANewerOneReturned() throws Exception {
        ExecutorService cutter = Executors.newSingleThreadExecutor();
        List<String> problems = new ArrayList<>();
        Map<String, Integer> outcomes = new TreeMap<>();
        try (ZkLease lease = pool.lease()) {
            EphemeralNode node = lease.ephemeral("/reg/setcut", bytes("v0"));
            String lastOk = "v0";
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(12);
            for (int i = 1; System.nanoTime() < deadline; i++) {
                String value = "v" + i;
                if (i % 3 == 0) {
                    long delayMicros = ThreadLocalRandom.current().nextLong(0, 6_000);
                    cutter.submit(() -> {
                        LockSupport.parkNanos(TimeUnit.MICROSECONDS.toNanos(delayMicros));
                        proxy.closeAllConnections();
                    });
                }
                try {
                    node.setData(bytes(value));
                    outcomes.merge("ok", 1, Integer::sum);
                    lastOk = value;
                    String server = str(observer.zk().getData("/reg/setcut", false, null));
                    int got = Integer.parseInt(server.substring(1));
                    if (got < i) {
                        problems.add("setData(" + value + ") returned but the server has " + server);
                    }
                } catch (ZkConnectionLossException e) {
                    outcomes.merge("ZkConnectionLossException", 1, Integer::sum);
                }
            }
            String last = "v"
                    + (outcomes.values().stream().mapToInt(Integer::intValue).sum());
            // Quiet now: the server must end with the handle's data, the latest value given to setData.
            await().atMost(Duration.ofSeconds(10))
                    .untilAsserted(() -> assertThat(str(observer.zk().getData("/reg/setcut", false, null)))
                            .isEqualTo(str(node.data())));
            assertThat(str(node.data()))
                    .as("data() after the last setData(%s) (last OK %s)", last, lastOk)
                    .isEqualTo(last);
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
            while (System.nanoTime() < until) {
                assertThat(str(observer.zk().getData("/reg/setcut", false, null)))
                        .isEqualTo(last);
                sleepMs(25);
            }
        } finally {
            cutter.shutdownNow();
        }
        System.out.println("EphemeralNode.setData cut mid-flight: " + outcomes);
        assertThat(problems).isEmpty();
    }

    void closeEphemeralsRacingAFirstRegistrationEndsWithTheNodeMatchingTheHandle() throws Exception {
        proxy.latency(Duration.ofMillis(30));
        List<String> problems = new ArrayList<>();
        ExecutorService threads = Executors.newFixedThreadPool(2);
        try (ZkLease lease = pool.lease()) {
            for (int i = 0; i < 12; i++) {
                String path = "/reg/racing-close-" + i;
                long delay = ThreadLocalRandom.current().nextLong(0, 150);
                Future<EphemeralNode> registration = threads.submit(() -> lease.ephemeral(path, bytes("r")));
                Future<?> closer = threads.submit(() -> {
                    sleepMs(delay);
                    pool.closeEphemerals();
                });
                closer.get(30, TimeUnit.SECONDS);
                EphemeralNode node;
                try {
                    node = registration.get(30, TimeUnit.SECONDS);
                } catch (ExecutionException e) {
                    awaitQuietly(Duration.ofSeconds(3), () -> observed(path) == null);
                    if (observed(path) != null) {
                        problems.add(path + ": registration threw " + e.getCause() + " but left " + describeNode(path));
                    }
                    continue;
                }
                Throwable set = catchThrowable(() -> node.setData(bytes("after")));
                if (set instanceof IllegalStateException) {
                    // Closed by closeEphemerals: the node must go and stay away.
                    awaitQuietly(Duration.ofSeconds(3), () -> observed(path) == null);
                    if (observed(path) != null) {
                        problems.add(path + ": handle closed by closeEphemerals, but the server still has "
                                + describeNode(path));
                    }
                } else if (set == null) {
                    Stat stat = observed(path);
                    if (stat == null) {
                        problems.add(path + ": handle open (setData succeeded) but the node is absent");
                    }
                    node.close();
                } else {
                    problems.add(path + ": setData on the returned handle threw " + set);
                }
            }
        } finally {
            threads.shutdownNow();
        }
        assertThat(problems).isEmpty();
    }

    void setDataRacingCloseNeverBringsTheNodeBack() throws Exception {
        List<String> problems = new ArrayList<>();
        ExecutorService threads = Executors.newFixedThreadPool(5);
        try (ZkLease lease = pool.lease()) {
            for (int round = 0; round < 10; round++) {
                String path = "/reg/set-vs-close-" + round;
                EphemeralNode node = lease.ephemeral(path, bytes("0"));
                CountDownLatch go = new CountDownLatch(1);
                List<Future<?>> setters = new ArrayList<>();
                Map<String, Integer> outcomes = new ConcurrentHashMap<>();
                for (int t = 0; t < 4; t++) {
                    int thread = t;
                    setters.add(threads.submit(() -> {
                        go.await();
                        for (int n = 0; n < 20; n++) {
                            try {
                                node.setData(bytes("t" + thread + "-" + n));
                                outcomes.merge("ok", 1, Integer::sum);
                            } catch (IllegalStateException e) {
                                outcomes.merge("closed", 1, Integer::sum);
                            } catch (RuntimeException e) {
                                outcomes.merge(e.getClass().getSimpleName(), 1, Integer::sum);
                            }
                        }
                        return null;
                    }));
                }
                go.countDown();
                sleepMs(ThreadLocalRandom.current().nextInt(0, 10));
                node.close();
                for (Future<?> f : setters) {
                    f.get(30, TimeUnit.SECONDS);
                }
                awaitQuietly(Duration.ofSeconds(2), () -> observed(path) == null);
                if (observed(path) != null) {
                    awaitQuietly(Duration.ofSeconds(8), () -> observed(path) == null);
                    problems.add(path + ": after close() and setData races " + outcomes + " the server has "
                            + describeNode(path) + " 10 s after close() returned (session 0x"
                            + Long.toHexString(lease.sessionId())
                            + ")");
                    continue;
                }
                // And it does not come back later (a setData "kept for later" must not re-create a closed node).
                long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(500);
                while (System.nanoTime() < until) {
                    if (observed(path) != null) {
                        problems.add(path + ": came back after close(): " + describeNode(path));
                        break;
                    }
                    sleepMs(20);
                }
                assertThat(catchThrowable(() -> node.setData(bytes("late")))).isInstanceOf(IllegalStateException.class);
            }
        } finally {
            threads.shutdownNow();
        }
        assertThat(problems).isEmpty();
    }

    // ------------------------------------------------------------------------------------------ setData

    void concurrentSetDataAcrossAnExpiryEndsWithTheHandlesDataOnTheServerAndALaterSetDataIsNotOverwritten()
            throws Exception {
        try (ZkLease lease = pool.lease()) {
            EphemeralNode node = lease.ephemeral("/reg/data", bytes("init"));
            long session = lease.sessionId();
            byte[] password = password(lease);
            ExecutorService threads = Executors.newFixedThreadPool(6);
            Map<String, Integer> outcomes = new ConcurrentHashMap<>();
            Set<String> written = ConcurrentHashMap.newKeySet();
            AtomicBoolean run = new AtomicBoolean(true);
            List<Future<?>> writers = new ArrayList<>();
            for (int t = 0; t < 6; t++) {
                int thread = t;
                writers.add(threads.submit(() -> {
                    for (int n = 0; run.get(); n++) {
                        String value = "t" + thread + "-" + n;
                        written.add(value);
                        try {
                            node.setData(bytes(value));
                            outcomes.merge("ok", 1, Integer::sum);
                        } catch (RuntimeException e) {
                            outcomes.merge(e.getClass().getSimpleName(), 1, Integer::sum);
                        }
                    }
                    return null;
                }));
            }
            sleepMs(500);
            ForcedExpiry.expireSession(server.getConnectString(), session, password);
            await().atMost(Duration.ofSeconds(20))
                    .until(() -> !recorder.recoveries().isEmpty());
            sleepMs(500);
            run.set(false);
            for (Future<?> f : writers) {
                f.get(30, TimeUnit.SECONDS);
            }
            threads.shutdownNow();
            System.out.println("setData across expiry: " + outcomes);
            await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
                Stat stat = observed("/reg/data");
                assertThat(stat).as("/reg/data after the storm").isNotNull();
                assertThat(stat.getEphemeralOwner()).isEqualTo(lease.sessionId());
                assertThat(str(observer.zk().getData("/reg/data", false, null)))
                        .as("data on the server vs the handle's data() after concurrent setData across an expiry")
                        .isEqualTo(str(node.data()));
            });
            assertThat(written).contains(str(node.data()));

            node.setData(bytes("final"));
            assertThat(str(observer.zk().getData("/reg/data", false, null))).isEqualTo("final");
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(3);
            while (System.nanoTime() < until) {
                assertThat(str(observer.zk().getData("/reg/data", false, null)))
                        .as("data on the server after setData(final) returned: no older write may land after it")
                        .isEqualTo("final");
                sleepMs(25);
            }
            assertThat(str(node.data())).isEqualTo("final");
        }
    }

    void setDataWhileTheSessionIsDownAndThenExpiresIsWrittenByTheNewSession() throws Exception {
        try (ZkLease lease = pool.lease()) {
            EphemeralNode node = lease.ephemeral("/reg/data-expiry", bytes("old"));
            long session = lease.sessionId();
            byte[] password = password(lease);
            proxy.freeze();
            proxy.closeAllConnections();
            await().atMost(Duration.ofSeconds(5)).until(() -> recorder.saw(SessionState.SUSPENDED));
            CompletableFuture<Void> set = CompletableFuture.runAsync(() -> node.setData(bytes("new")));
            awaitQuietly(Duration.ofSeconds(1), set::isDone);
            ForcedExpiry.expireSession(server.getConnectString(), session, password);
            proxy.unfreeze();
            await().atMost(Duration.ofSeconds(20)).until(() -> lease.sessionId() != session);
            Throwable outcome = catchThrowable(() -> set.get(30, TimeUnit.SECONDS));
            if (outcome != null) {
                assertThat(outcome.getCause())
                        .as("setData while the session was down")
                        .isInstanceOf(ZkConnectionLossException.class);
            }
            await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
                assertThat(observed("/reg/data-expiry")).isNotNull();
                assertThat(str(observer.zk().getData("/reg/data-expiry", false, null)))
                        .as(
                                "data after the new session re-created the node; setData %s",
                                outcome == null ? "returned" : "threw " + outcome.getCause())
                        .isEqualTo("new");
            });
        }
    }

    // ---------------------------------------------------------------------------------------- sequential

    void aSequentialRegistrationHasExactlyOneNodeAfterEachOfSeveralExpiries() throws Exception {
        observer.zk().create("/reg/seq", new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        try (ZkLease lease = pool.lease()) {
            EphemeralNode node = lease.ephemeral("/reg/seq/m-", bytes("s"), CreateMode.EPHEMERAL_SEQUENTIAL);
            List<String> paths = new CopyOnWriteArrayList<>();
            node.onPathChange(paths::add);
            for (int round = 0; round < 3; round++) {
                long session = lease.sessionId();
                String before = node.path();
                if (round == 1) {
                    proxy.freeze();
                }
                ForcedExpiry.expireSession(server.getConnectString(), session, password(lease));
                if (round == 1) {
                    proxy.unfreeze();
                }
                await().atMost(Duration.ofSeconds(20)).until(() -> lease.sessionId() != session);
                await().atMost(Duration.ofSeconds(10)).until(node::isPresent);
                int r = round;
                await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
                    List<String> children = observer.zk().getChildren("/reg/seq", false);
                    assertThat(children).as("round %d: children of /reg/seq", r).hasSize(1);
                    assertThat("/reg/seq/" + children.get(0)).isEqualTo(node.path());
                });
                assertThat(node.path()).isNotEqualTo(before);
                assertThat(observed(node.path()).getEphemeralOwner()).isEqualTo(lease.sessionId());
                await().atMost(Duration.ofSeconds(5))
                        .untilAsserted(() -> assertThat(paths)
                                .as("paths told to onPathChange")
                                .endsWith(node.path()));
            }
            assertThat(paths).doesNotHaveDuplicates().hasSize(3);
            node.close();
            assertThat(observer.zk().getChildren("/reg/seq", false)).isEmpty();
        }
    }

    void aSequentialRegistrationAfterAClientSideExpiryNeverHasTwoNodes() throws Exception {
        observer.zk().create("/reg/seq2", new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        try (ZkLease lease = pool.lease()) {
            EphemeralNode node = lease.ephemeral("/reg/seq2/m-", bytes("s"), CreateMode.EPHEMERAL_SEQUENTIAL);
            ZooKeeper zk = lease.curator().getZookeeperClient().getZooKeeper();
            long oldSession = zk.getSessionId();
            String first = node.path();
            KillSession.kill(zk);
            // The old session lives on at the server until its timeout; the registration must not get a second node.
            long deadline = System.nanoTime() + SESSION_TIMEOUT.plusSeconds(8).toNanos();
            List<String> seenTwo = new ArrayList<>();
            boolean owned = false;
            while (System.nanoTime() < deadline) {
                List<String> children = observer.zk().getChildren("/reg/seq2", false);
                if (children.size() > 1 && seenTwo.isEmpty()) {
                    seenTwo.add(children + " (owners " + owners("/reg/seq2", children) + ", old session 0x"
                            + Long.toHexString(oldSession) + ")");
                }
                // The child listed may be gone by the time it is read (the old session's node, as it expires).
                Stat only = children.size() == 1 ? observed("/reg/seq2/" + children.get(0)) : null;
                if (only != null
                        && only.getEphemeralOwner() != oldSession
                        && !"/reg/seq2/".concat(children.get(0)).equals(first)) {
                    owned = true;
                    break;
                }
                sleepMs(20);
            }
            assertThat(seenTwo)
                    .as("moments with two nodes for one sequential registration")
                    .isEmpty();
            assertThat(owned)
                    .as("one node, owned by the new session, once the old session expired")
                    .isTrue();
            await().atMost(Duration.ofSeconds(5)).until(node::isPresent);
            assertThat(observer.zk().getChildren("/reg/seq2", false)).hasSize(1);
        }
    }

    // ------------------------------------------------------------------------- external clients on our path

    void anExternalClientDeletingAndReCreatingOurPathIsNeverAdoptedNorDeleted() throws Exception {
        try (ZkLease lease = pool.lease()) {
            EphemeralNode node = lease.ephemeral("/reg/contested", bytes("ours"));
            List<String> problems = new ArrayList<>();
            int held = 0;
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(8);
            while (System.nanoTime() < deadline) {
                // Take the path: delete whatever is there (ours), create our own.
                try {
                    observer.zk().delete("/reg/contested", -1);
                } catch (KeeperException.NoNodeException e) {
                    // fine
                }
                try {
                    observer.zk()
                            .create(
                                    "/reg/contested",
                                    bytes("theirs"),
                                    ZooDefs.Ids.OPEN_ACL_UNSAFE,
                                    CreateMode.EPHEMERAL);
                } catch (KeeperException.NodeExistsException e) {
                    continue; // the pool re-created it first
                }
                held++;
                long holdUntil = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(held % 3 == 0 ? 2_000 : 300);
                long graceEnd = System.nanoTime() + GRACE.toNanos();
                while (System.nanoTime() < holdUntil) {
                    Stat stat = observed("/reg/contested");
                    if (stat == null || stat.getEphemeralOwner() != observer.sessionId()) {
                        problems.add("the observer's node was removed or replaced while it held it: "
                                + describeNode("/reg/contested"));
                        break;
                    }
                    if (System.nanoTime() > graceEnd && node.isPresent()) {
                        problems.add("isPresent() true while the node is the observer's");
                        break;
                    }
                    if (System.nanoTime() > graceEnd + TimeUnit.SECONDS.toNanos(1)
                            && pool.ensembles().get(0).missingEphemerals() != 1) {
                        problems.add("missingEphemerals() "
                                + pool.ensembles().get(0).missingEphemerals() + " while the observer holds the path");
                        break;
                    }
                    sleepMs(10);
                }
                if (!problems.isEmpty()) {
                    break;
                }
                observer.zk().delete("/reg/contested", -1);
                sleepMs(ThreadLocalRandom.current().nextInt(0, 100));
            }
            assertThat(held).as("times the observer held the path").isGreaterThan(3);
            assertThat(problems).isEmpty();
            await().atMost(Duration.ofSeconds(15)).untilAsserted(() -> {
                Stat stat = observed("/reg/contested");
                assertThat(stat).isNotNull();
                assertThat(stat.getEphemeralOwner()).isEqualTo(lease.sessionId());
                assertThat(str(observer.zk().getData("/reg/contested", false, null)))
                        .isEqualTo("ours");
                assertThat(node.isPresent()).isTrue();
            });
            assertThat(str(node.data())).isEqualTo("ours");
            assertThat(recorder.conflictPaths()).contains("/reg/contested");
        }
    }

    void theRegistrationsParentRemovedAgainAndAgainEndsRegisteredAndReportedRestored() throws Exception {
        try (ZkLease lease = pool.lease()) {
            EphemeralNode node = lease.ephemeral("/reg/p/q/member", bytes("m"));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(6);
            int parentsRemoved = 0;
            while (System.nanoTime() < deadline) {
                for (String p : List.of("/reg/p/q/member", "/reg/p/q", "/reg/p")) {
                    try {
                        observer.zk().delete(p, -1);
                        if (!p.endsWith("member")) {
                            parentsRemoved++;
                        }
                    } catch (KeeperException.NoNodeException | KeeperException.NotEmptyException e) {
                        // racing the pool's re-creation
                    }
                }
                sleepMs(ThreadLocalRandom.current().nextInt(0, 30));
            }
            assertThat(parentsRemoved).isPositive();
            await().atMost(Duration.ofSeconds(15)).untilAsserted(() -> {
                Stat stat = observed("/reg/p/q/member");
                assertThat(stat)
                        .as("/reg/p/q/member after the parents stopped disappearing")
                        .isNotNull();
                assertThat(stat.getEphemeralOwner()).isEqualTo(lease.sessionId());
                assertThat(node.isPresent()).isTrue();
                assertThat(pool.ensembles().get(0).missingEphemerals())
                        .as("missing ephemerals")
                        .isZero();
            });
            // Every cause told as missing must have been followed by a restore.
            if (!recorder.missingPaths().isEmpty()) {
                assertThat(recorder.restoredPaths())
                        .as("restored after missing %s", recorder.missing())
                        .contains("/reg/p/q/member");
            }
        }
    }

    /** A handle in conflict (another client's node at its path) is closed: the other client's node must stay. */
    void closingAHandleWhosePathAnotherClientHoldsLeavesTheirNodeAlone() throws Exception {
        conflictThen("/reg/held-by-other", EphemeralNode::close);
    }

    void closeEphemeralsWhileAnotherClientHoldsARegisteredPathLeavesTheirNodeAlone() throws Exception {
        conflictThen("/reg/held-by-other-2", node -> pool.closeEphemerals());
    }

    void poolCloseWhileAnotherClientHoldsARegisteredPathLeavesTheirNodeAlone() throws Exception {
        conflictThen("/reg/held-by-other-3", node -> {
            pool.close();
            pool = null;
        });
    }

    interface HandleAction {
        void run(EphemeralNode node) throws Exception;
    }

    private void conflictThen(String path, HandleAction action) throws Exception {
        ZkLease lease = pool.lease();
        EphemeralNode node = lease.ephemeral(path, bytes("ours"));
        long session = lease.sessionId();
        proxy.freeze();
        ForcedExpiry.expireSession(server.getConnectString(), session, password(lease));
        await().atMost(Duration.ofSeconds(5)).until(() -> observed(path) == null);
        observer.zk().create(path, bytes("theirs"), ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.EPHEMERAL);
        proxy.unfreeze();
        await().atMost(Duration.ofSeconds(20))
                .until(() -> recorder.conflictPaths().contains(path));
        action.run(node);
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(3);
        while (System.nanoTime() < until) {
            Stat stat = observed(path);
            assertThat(stat)
                    .as("the other client's node at %s after the pool let go of the path", path)
                    .isNotNull();
            assertThat(stat.getEphemeralOwner()).isEqualTo(observer.sessionId());
            sleepMs(25);
        }
    }

    /** Client-side expiry: the old session's node is still on the server when the handle is closed. */
    void closingAHandleWhileItsExpiredSessionsNodeIsStillThereNeverLeavesANodeOfTheLiveSession() throws Exception {
        replacePool(1);
        try (ZkLease lease = pool.lease()) {
            EphemeralNode node = lease.ephemeral("/reg/old-node", bytes("x"));
            ZooKeeper zk = lease.curator().getZookeeperClient().getZooKeeper();
            long old = zk.getSessionId();
            KillSession.kill(zk);
            await().atMost(Duration.ofSeconds(20)).until(() -> lease.sessionId() != old);
            node.close();
            // Whatever happens to the old session's node, no node may come back for the closed handle.
            await().atMost(SESSION_TIMEOUT.plusSeconds(5)).until(() -> observed("/reg/old-node") == null);
            assertStaysAbsent("/reg/old-node", Duration.ofSeconds(2));
        }
    }

    // ------------------------------------------------------------------------------------ pool close

    @Test
    void poolCloseWhileARecoveryRunsLeavesNoNodeAndNoThread() throws Exception {
        int before = poolThreads().size();
        List<EphemeralNode> nodes = new ArrayList<>();
        ZkLease lease = pool.lease();
        observer.zk().create("/reg/many", new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        for (int i = 0; i < 60; i++) {
            nodes.add(lease.ephemeral("/reg/many/n" + i, bytes("n")));
        }
        for (int i = 0; i < 10; i++) {
            lease.watch("/reg/many/n" + i, e -> {});
        }
        proxy.latency(Duration.ofMillis(5));
        long session = lease.sessionId();
        ForcedExpiry.expireSession(server.getConnectString(), session, password(lease));
        await().atMost(Duration.ofSeconds(20))
                .until(() -> recorder.saw(e -> e.state() == SessionState.RECONNECTED && e.newSession()));
        long started = System.nanoTime();
        pool.close();
        long closeMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
        pool = null;
        assertThat(closeMs).as("pool.close() during a recovery").isLessThan(CONNECTION_TIMEOUT.toMillis() + 5_000);
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(3);
        while (System.nanoTime() < until) {
            assertThat(observer.zk().getChildren("/reg/many", false))
                    .as("nodes after pool.close()")
                    .isEmpty();
            sleepMs(50);
        }
        for (EphemeralNode n : nodes) {
            assertThat(n.isPresent()).isFalse();
            assertThat(catchThrowable(() -> n.setData(bytes("x")))).isInstanceOf(IllegalStateException.class);
        }
        assertThat(catchThrowable(() -> lease.getData("/reg"))).isInstanceOf(IllegalStateException.class);
        await().atMost(Duration.ofSeconds(5))
                .untilAsserted(() -> assertThat(poolThreads())
                        .as("threads of the closed pool (there were %d before)", before)
                        .isEmpty());
    }

    // ------------------------------------------------------------------------- ownership, by the server's log

    /**
     * The server's transaction log is the oracle: over a run with expiries (server side and client side), external
     * deletes and re-creates, no node created by a session that is not the pool's may be deleted by a pool session,
     * and no node of the pool's old sessions may be deleted by its new ones.
     */
    void noNodeThePoolCannotProveItsOwnIsEverDeletedByThePool() throws Exception {
        replacePool(2);
        ZkLease l1 = pool.lease();
        ZkLease l2 = pool.lease();
        Set<Long> poolSessions = new HashSet<>();
        poolSessions.add(l1.sessionId());
        poolSessions.add(l2.sessionId());
        EphemeralNode a = l1.ephemeral("/reg/own-a", bytes("a"));
        EphemeralNode b = l2.ephemeral("/reg/own-b", bytes("b"));
        // 1: client-side expiry of l1's session: its old node stays on the server until the server expires it.
        ZooKeeper zk1 = l1.curator().getZookeeperClient().getZooKeeper();
        long old1 = zk1.getSessionId();
        KillSession.kill(zk1);
        await().atMost(Duration.ofSeconds(20)).until(() -> l1.sessionId() != old1);
        poolSessions.add(l1.sessionId());
        // 2: while the old node is still there, an external client replaces node b (ABA at version 0).
        for (int i = 0; i < 5; i++) {
            try {
                observer.zk().delete("/reg/own-b", -1);
                observer.zk().create("/reg/own-b", bytes("theirs"), ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.EPHEMERAL);
                sleepMs(300);
                observer.zk().delete("/reg/own-b", -1);
            } catch (KeeperException.NodeExistsException | KeeperException.NoNodeException e) {
                // racing the pool's re-creation
            }
            sleepMs(100);
        }
        // 3: server-side expiry of l2's session while disconnected, then the observer takes node b's path.
        long old2 = l2.sessionId();
        proxy.freeze();
        ForcedExpiry.expireSession(server.getConnectString(), old2, password(l2));
        await().atMost(Duration.ofSeconds(5)).until(() -> observed("/reg/own-b") == null);
        observer.zk().create("/reg/own-b", bytes("theirs"), ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.EPHEMERAL);
        proxy.unfreeze();
        await().atMost(Duration.ofSeconds(20)).until(() -> l2.sessionId() != old2);
        poolSessions.add(l2.sessionId());
        await().atMost(Duration.ofSeconds(10))
                .until(() -> recorder.conflictPaths().contains("/reg/own-b"));
        observer.zk().delete("/reg/own-b", -1);
        await().atMost(SESSION_TIMEOUT.plusSeconds(15)).until(() -> a.isPresent() && b.isPresent());
        assertThat(observed("/reg/own-a").getEphemeralOwner()).isEqualTo(l1.sessionId());
        assertThat(observed("/reg/own-b").getEphemeralOwner()).isEqualTo(l2.sessionId());
        for (ZkLease l : List.of(l1, l2)) {
            poolSessions.add(l.sessionId());
        }
        pool.close();
        pool = null;
        long observerSession = observer.sessionId();
        observer.close();
        server.stop();

        TxnLogOracle log = TxnLogOracle.read(server.getTempDirectory());
        Map<Long, Long> creatorOfZxid = new HashMap<>();
        for (Txn txn : log.txns()) {
            if (txn.applied()) {
                txn.ops().stream()
                        .filter(op -> op.type() == OpType.CREATE)
                        .forEach(op -> creatorOfZxid.put(txn.zxid(), txn.sessionId()));
            }
        }
        List<String> bad = new ArrayList<>();
        for (Txn txn : log.txns()) {
            if (!txn.applied() || txn.sessionId() == observerSession) {
                continue;
            }
            for (TxnLogOracle.Op op : txn.ops()) {
                if (op.type() != OpType.DELETE || op.deleted() == null) {
                    continue;
                }
                long creator = creatorOfZxid.getOrDefault(op.deleted().createZxid(), -1L);
                if (creator != txn.sessionId()) {
                    bad.add(txn + " by session 0x" + Long.toHexString(txn.sessionId()) + " deleted a node created by 0x"
                            + Long.toHexString(creator));
                }
            }
        }
        assertThat(bad)
                .as(
                        "deletes by the pool's sessions of nodes another session created (pool sessions seen %s)",
                        hex(poolSessions))
                .isEmpty();
    }

    // ------------------------------------------------------------------------------------------------ helpers

    private Stat observed(String path) throws Exception {
        return observer.zk().exists(path, false);
    }

    private String describeNode(String path) {
        try {
            Stat stat = new Stat();
            byte[] data = observer.zk().getData(path, false, stat);
            return path + " \"" + str(data) + "\" owner 0x" + Long.toHexString(stat.getEphemeralOwner()) + " v"
                    + stat.getVersion();
        } catch (KeeperException.NoNodeException e) {
            return path + " absent";
        } catch (Exception e) {
            return path + " unreadable: " + e;
        }
    }

    private Map<String, String> owners(String parent, List<String> children) throws Exception {
        Map<String, String> owners = new TreeMap<>();
        for (String c : children) {
            Stat s = observed(parent + "/" + c);
            owners.put(c, s == null ? "gone" : "0x" + Long.toHexString(s.getEphemeralOwner()));
        }
        return owners;
    }

    private void assertStaysAbsent(String path, Duration during) throws Exception {
        long until = System.nanoTime() + during.toNanos();
        while (System.nanoTime() < until) {
            assertThat(observed(path))
                    .as("%s must stay absent (%s)", path, describeNode(path))
                    .isNull();
            sleepMs(25);
        }
    }

    private static List<String> poolThreads() {
        List<String> names = new ArrayList<>();
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.isAlive() && t.getName().contains("adv-eph")) {
                names.add(t.getName());
            }
        }
        return names;
    }

    private static byte[] password(ZkLease lease) throws Exception {
        return lease.curator().getZookeeperClient().getZooKeeper().getSessionPasswd();
    }

    private static Set<String> hex(Set<Long> ids) {
        Set<String> out = new TreeSet<>();
        ids.forEach(id -> out.add("0x" + Long.toHexString(id)));
        return out;
    }

    static Thread daemon(String name, Runnable body) {
        Thread t = new Thread(body, name);
        t.setDaemon(true);
        return t;
    }

    static void sleepMs(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    interface Condition {
        boolean holds() throws Exception;
    }

    /** Waits up to {@code timeout} for {@code condition}, going on either way. */
    static void awaitQuietly(Duration timeout, Condition condition) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.holds() && System.nanoTime() - deadline < 0) {
            sleepMs(20);
        }
    }

    static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static String str(byte[] b) {
        return b == null ? "null" : new String(b, StandardCharsets.UTF_8);
    }
}
