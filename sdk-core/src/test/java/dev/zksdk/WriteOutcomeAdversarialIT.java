package dev.zksdk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import dev.zksdk.testing.ForcedExpiry;
import dev.zksdk.testing.InProcessEnsembles;
import dev.zksdk.testing.ProcessEnsemble;
import dev.zksdk.testing.RawZooKeeper;
import dev.zksdk.testing.ServerProcess;
import dev.zksdk.testing.SessionLeases;
import dev.zksdk.testing.TxnLogOracle;
import dev.zksdk.testing.TxnLogOracle.OpType;
import dev.zksdk.testing.TxnLogOracle.Txn;
import dev.zksdk.testing.ZkProxy;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
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
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Collectors;
import org.apache.curator.test.TestingServer;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Op;
import org.apache.zookeeper.OpResult;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.data.Stat;
import org.junit.jupiter.api.Test;

/**
 * Tries to break the write promise of {@link ZkLease} ("success only when applied exactly once by this call, a
 * definite failure only when provably not applied, otherwise outcome unknown") where {@code WriteHistoryIT} does not
 * look: the {@code ...Async} forms, sessions expiring mid-flight, a server frozen (SIGSTOP) or killed (SIGKILL) and
 * restarted, multis with check ops and sequential creates, creates whose parent a rival keeps deleting, and a chroot.
 *
 * <p>Oracle: the server's transaction log ({@link TxnLogOracle}); every write carries a payload unique in the run.
 * Creates, setData and multis are matched by payload. Each worker deletes only its own path {@code /w/d<worker>}
 * (a rival also deletes and re-creates it at version 0); the delete transactions of a worker's sessions on that path
 * are matched to its delete calls, in order, within each call's time window, by a search that reports a
 * contradiction only when no assignment explains the log.
 */
class WriteOutcomeAdversarialIT {

    static final int WORKERS = 3;
    static final Duration RUN = Duration.ofSeconds(14);

    enum Type {
        CREATE,
        CREATE_SEQ,
        CREATE_EPHEMERAL,
        CREATE_UNDER_CHURNED_PARENT,
        SET,
        SET_VERSIONED,
        DELETE,
        DELETE_VERSIONED,
        MULTI_CHECK_SET,
        MULTI_SEQ_SET,
        MULTI_REPLACE;

        boolean isDelete() {
            return this == DELETE || this == DELETE_VERSIONED;
        }
    }

    enum Outcome {
        OK,
        FAILED,
        UNKNOWN,
        EXPIRED,
        UNEXPECTED
    }

    static final class Call {
        final int worker;
        final String id;
        final Type type;
        final String path;
        final int version;
        final boolean async;
        final List<String> payloads = new ArrayList<>();
        long sessionBefore;
        long sessionAfter;
        long startMs;
        long endMs;
        Outcome outcome;
        String reported;
        List<String> returned = List.of();
        int faultsDuring;

        Call(int worker, int n, Type type, String path, int version, boolean async) {
            this.worker = worker;
            this.id = "w" + worker + "-" + n;
            this.type = type;
            this.path = path;
            this.version = version;
            this.async = async;
            if (type == Type.MULTI_CHECK_SET || type == Type.MULTI_REPLACE) {
                payloads.add(id + ".0");
            } else if (type == Type.MULTI_SEQ_SET) {
                payloads.add(id + ".0");
                payloads.add(id + ".1");
            } else if (!type.isDelete()) {
                payloads.add(id);
            }
        }

        @Override
        public String toString() {
            return id + (async ? " async " : " ") + type + "(" + path + (version != -1 ? ", v" + version : "") + ") "
                    + payloads + " reported " + reported + (returned.isEmpty() ? "" : " -> " + returned)
                    + (faultsDuring > 0 ? " [" + faultsDuring + " fault(s) during]" : "") + " session 0x"
                    + Long.toHexString(sessionBefore)
                    + (sessionAfter != sessionBefore ? "->0x" + Long.toHexString(sessionAfter) : "");
        }
    }

    /** Where the run happens and what faults it suffers. */
    interface Setup extends AutoCloseable {
        String poolConnectString();

        String direct();

        /** Called once per ~fault interval by the fault thread; returns a description, or null for none. */
        String fault(ZkSessionPool pool, List<ZkLease> leases) throws Exception;

        /** Called right after a worker sent a write, from the worker, at most every few hundred ms. */
        default void afterSend() {}

        /** Stops the server so that its log is complete; returns its data directory. */
        File stopAndGetDataDir() throws Exception;

        default Duration faultInterval() {
            return Duration.ofMillis(700);
        }

        default Duration run() {
            return RUN;
        }

        default int minCallsHit() {
            return 20;
        }

        /** The pool's policy: by default the circuit breaker is kept out of it (cuts are the test, not an outage). */
        default OperationPolicy policy() {
            return OperationPolicy.builder()
                    .operationTimeout(Duration.ofSeconds(8))
                    .breakerFailureRateThreshold(100f)
                    .build();
        }

        /** Faults made outside the fault thread so far (connection cuts). */
        default int epoch() {
            return 0;
        }
    }

    // ------------------------------------------------------------------------------------------------ tests

    /** A case of this class that runs on a fixture of its own (its own server, proxy, pool and rival). */
    @FunctionalInterface
    interface OwnFixtureCase {
        void run() throws Exception;
    }

    /**
     * Runs the named cases at once, each on its own thread and its own fixture: a case's faults (cuts of its own proxy,
     * expiries of its own sessions, SIGSTOP/SIGKILL of its own server process) touch no other case's server or pool,
     * and each case is checked against its own server's log. A failure names the case.
     */
    static void atOnce(Map<String, OwnFixtureCase> cases) {
        Timings.allCasesAtOnce(
                List.copyOf(cases.keySet()), name -> cases.get(name).run());
    }

    /**
     * Cuts mid-flight on an in-process server, three cases at once: async writes against a rival, sessions expiring
     * mid-flight, and the default circuit breaker.
     */
    @Test
    void writesCutMidFlightAsyncExpiringOrMeetingTheBreakerAreReportedAsApplied() {
        Map<String, OwnFixtureCase> cases = new LinkedHashMap<>();
        cases.put("async, rival", this::asyncWritesCutMidFlightWhileARivalWritesTheSameNodesAreReportedAsApplied);
        cases.put("session expiring", this::writesInFlightWhileTheirSessionExpiresAreReportedAsAppliedAndNeverRedone);
        cases.put("default circuit breaker", this::writesCutMidFlightWithTheDefaultCircuitBreakerAreReportedAsApplied);
        atOnce(cases);
    }

    /**
     * Three cases at once: writes through a chroot cut mid-flight, two leases of one session creating the same path,
     * and a separate-process server frozen or killed and restarted (its own server: no other case uses it).
     */
    @Test
    void writesThroughAChrootTwoLeasesOfOneSessionAndAFrozenOrKilledServerAreReportedAsApplied() {
        Map<String, OwnFixtureCase> cases = new LinkedHashMap<>();
        cases.put("chroot", this::writesThroughAChrootCutMidFlightAreReportedAsAppliedWithChrootRelativePaths);
        cases.put(
                "two leases, same path", this::twoLeasesOfOneSessionCreatingTheSamePathWithTheSameDataNeverBothClaimIt);
        cases.put(
                "server frozen or killed", this::writesWhileTheServerIsFrozenOrKilledAndRestartedAreReportedAsApplied);
        atOnce(cases);
    }

    void asyncWritesCutMidFlightWhileARivalWritesTheSameNodesAreReportedAsApplied() throws Exception {
        try (InProcess setup = new InProcess("", false)) {
            run(setup, 1.0, "", Set.of());
        }
    }

    void writesInFlightWhileTheirSessionExpiresAreReportedAsAppliedAndNeverRedone() throws Exception {
        try (InProcess setup = new InProcess("", true)) {
            run(setup, 0.5, "", Set.of());
        }
    }

    /**
     * With the default circuit breaker: a write whose first attempt was sent may meet an open breaker on a retry. That
     * must not turn into a definite failure ({@link ZkUnavailableException}: "nothing was sent") if it was applied.
     */
    void writesCutMidFlightWithTheDefaultCircuitBreakerAreReportedAsApplied() throws Exception {
        try (InProcess setup = new InProcess("", false) {
            @Override
            public OperationPolicy policy() {
                return OperationPolicy.builder()
                        .operationTimeout(Duration.ofSeconds(8))
                        .build();
            }

            @Override
            public int minCallsHit() {
                return 5;
            }
        }) {
            run(setup, 0.5, "", Set.of());
        }
    }

    void writesThroughAChrootCutMidFlightAreReportedAsAppliedWithChrootRelativePaths() throws Exception {
        try (InProcess setup = new InProcess("/app", false)) {
            run(setup, 0.5, "/app", Set.of());
        }
    }

    void writesWhileTheServerIsFrozenOrKilledAndRestartedAreReportedAsApplied() throws Exception {
        try (SeparateProcess setup = new SeparateProcess()) {
            // Ephemeral creates are left out: the test is about persistent writes.
            run(setup, 0.5, "", Set.of(Type.CREATE_EPHEMERAL));
        }
    }

    /**
     * Without faults: through a chroot, {@code create} returns the path without the chroot; so must a multi's
     * create result (and so does ZooKeeper's own handle with the same chroot, printed for comparison).
     */
    @Test
    void aMultiCreateThroughAChrootReturnsTheSamePathFormAsCreate() throws Exception {
        try (InProcess setup = new InProcess("/app", false);
                RawZooKeeper raw = RawZooKeeper.connect(setup.direct(), Duration.ofSeconds(30));
                ZkSessionPool pool =
                        ZkSessionPool.builder().connectString(setup.direct()).build();
                ZkLease lease = pool.lease()) {
            raw.zk().create("/m", new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            String created = lease.create("/m/a", new byte[0], CreateMode.PERSISTENT);
            List<OpResult> sdk = lease.multi(
                    List.of(Op.create("/m/b", new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT)));
            List<OpResult> sdkAsync = get(lease.multiAsync(
                    List.of(Op.create("/m/c", new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT))));
            List<OpResult> plain = raw.zk()
                    .multi(List.of(Op.create("/m/d", new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT)));
            String rawPath = ((OpResult.CreateResult) plain.get(0)).getPath();
            System.out.println("plain ZooKeeper multi through chroot /app returns " + rawPath);
            assertThat(created).isEqualTo("/m/a");
            assertThat(((OpResult.CreateResult) sdk.get(0)).getPath())
                    .as(
                            "lease.multi create result through chroot /app (lease.create returned %s; ZooKeeper's own handle "
                                    + "returns %s)",
                            created, rawPath)
                    .isEqualTo("/m/b");
            assertThat(((OpResult.CreateResult) sdkAsync.get(0)).getPath())
                    .as("lease.multiAsync create result")
                    .isEqualTo("/m/c");
        }
    }

    /**
     * Two leases of one session create the same path with the same data at once, while connections are cut: exactly one
     * create can be applied, so at most one call may report success, and when the node is there (made by that session)
     * not both may report a definite failure. A create lost in flight that finds a node of its own session with its
     * own data cannot tell whether it made it or the other lease did ("success only when provably applied").
     */
    void twoLeasesOfOneSessionCreatingTheSamePathWithTheSameDataNeverBothClaimIt() throws Exception {
        try (InProcess setup = new InProcess("", false);
                RawZooKeeper observer = RawZooKeeper.connect(setup.direct(), Duration.ofSeconds(30));
                ZkSessionPool pool = ZkSessionPool.builder()
                        .name("adv-same")
                        .connectString(setup.poolConnectString())
                        .sessionTimeout(Duration.ofSeconds(10))
                        .connectionTimeout(Duration.ofSeconds(5))
                        .operationPolicy(OperationPolicy.builder()
                                .operationTimeout(Duration.ofSeconds(8))
                                .breakerFailureRateThreshold(100f)
                                .breakerSlidingWindow(1000)
                                .breakerMinimumCalls(1000)
                                .build())
                        .build();
                ZkLease a = pool.lease();
                ZkLease b = pool.lease()) {
            assertThat(a.sessionId()).isEqualTo(b.sessionId());
            observer.zk().create("/same", new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            ExecutorService threads = Executors.newFixedThreadPool(3);
            List<String> lies = new ArrayList<>();
            Map<String, Integer> outcomes = new TreeMap<>();
            try {
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
                for (int i = 0; System.nanoTime() < deadline; i++) {
                    String path = "/same/n" + i;
                    CreateMode mode = i % 2 == 0 ? CreateMode.EPHEMERAL : CreateMode.PERSISTENT;
                    CountDownLatch go = new CountDownLatch(1);
                    long delay = ThreadLocalRandom.current().nextLong(0, 5_000);
                    Future<?> cut = threads.submit(() -> {
                        go.await();
                        LockSupport.parkNanos(TimeUnit.MICROSECONDS.toNanos(delay));
                        setup.proxy.closeAllConnections();
                        return null;
                    });
                    List<Future<String>> calls = new ArrayList<>();
                    for (ZkLease lease : List.of(a, b)) {
                        calls.add(threads.submit(() -> {
                            go.await();
                            try {
                                lease.create(path, bytes("same"), mode);
                                return "OK";
                            } catch (ZkConnectionLossException e) {
                                return e.outcomeUnknown() ? "UNKNOWN" : "FAILED";
                            } catch (ZkNodeExistsException e) {
                                return "NODEEXISTS";
                            } catch (ZkException e) {
                                return "FAILED " + e.code();
                            }
                        }));
                    }
                    go.countDown();
                    String ra = calls.get(0).get(60, TimeUnit.SECONDS);
                    String rb = calls.get(1).get(60, TimeUnit.SECONDS);
                    cut.get(60, TimeUnit.SECONDS);
                    outcomes.merge(ra + "+" + rb, 1, Integer::sum);
                    Stat stat = observer.zk().exists(path, false);
                    boolean made = stat != null;
                    if (ra.equals("OK") && rb.equals("OK")) {
                        lies.add(path + " (" + mode + "): both creates reported OK; the node was made once");
                    } else if (made
                            && !ra.equals("OK")
                            && !ra.equals("UNKNOWN")
                            && !rb.equals("OK")
                            && !rb.equals("UNKNOWN")) {
                        lies.add(path + " (" + mode + "): both reported a definite failure (" + ra + ", " + rb
                                + "), but the node " + "is there, made by their session 0x"
                                + Long.toHexString(stat.getEphemeralOwner()));
                    } else if (!made && (ra.equals("OK") || rb.equals("OK"))) {
                        lies.add(path + " (" + mode + "): a create reported OK but there is no node");
                    }
                    Thread.sleep(ThreadLocalRandom.current().nextInt(50, 300));
                }
            } finally {
                threads.shutdownNow();
            }
            System.out.println("two leases of one session, same path and data: " + outcomes);
            assertThat(lies).as("outcomes %s", outcomes).isEmpty();
        }
    }

    // -------------------------------------------------------------------------------------------- setups

    /** An in-process server behind a proxy that cuts connections (mostly right after a send), optionally expiring. */
    static class InProcess implements Setup {
        final TestingServer server;
        final ZkProxy proxy;
        final String chroot;
        final boolean expire;
        final ExecutorService cutter = Executors.newSingleThreadExecutor();
        final AtomicLong lastCut = new AtomicLong();
        final AtomicInteger cuts = new AtomicInteger();

        InProcess(String chroot, boolean expire) throws Exception {
            this.server = InProcessEnsembles.startServer();
            this.proxy = ZkProxy.to(server.getConnectString());
            this.chroot = chroot;
            this.expire = expire;
            if (!chroot.isEmpty()) {
                try (RawZooKeeper zk = RawZooKeeper.connect(server.getConnectString(), Duration.ofSeconds(30))) {
                    zk.zk().create(chroot, new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
                }
            }
        }

        @Override
        public String poolConnectString() {
            return proxy.connectString() + chroot;
        }

        @Override
        public String direct() {
            return server.getConnectString() + chroot;
        }

        @Override
        public int epoch() {
            return cuts.get();
        }

        @Override
        public void afterSend() {
            long now = System.nanoTime();
            long last = lastCut.get();
            if (now - last > TimeUnit.MILLISECONDS.toNanos(350) && lastCut.compareAndSet(last, now)) {
                long delay = ThreadLocalRandom.current().nextLong(0, 6_000);
                cutter.execute(() -> {
                    LockSupport.parkNanos(TimeUnit.MICROSECONDS.toNanos(delay));
                    proxy.closeAllConnections();
                    cuts.incrementAndGet();
                });
            }
        }

        @Override
        public String fault(ZkSessionPool pool, List<ZkLease> leases) throws Exception {
            if (!expire) {
                return null;
            }
            ZkLease victim = leases.get(ThreadLocalRandom.current().nextInt(leases.size()));
            ZooKeeper zk = victim.curator().getZookeeperClient().getZooKeeper();
            long session = zk.getSessionId();
            byte[] password = zk.getSessionPasswd();
            if (session == 0) {
                return null;
            }
            ForcedExpiry.expireSession(server.getConnectString(), session, password);
            return "expired 0x" + Long.toHexString(session);
        }

        @Override
        public Duration faultInterval() {
            return Duration.ofMillis(1500);
        }

        @Override
        public File stopAndGetDataDir() throws Exception {
            System.out.println("cuts: " + cuts.get());
            server.stop();
            return server.getTempDirectory();
        }

        @Override
        public void close() throws Exception {
            cutter.shutdownNow();
            proxy.close();
            server.close();
        }
    }

    /** A single ZooKeeper server in its own process, frozen with SIGSTOP or killed with SIGKILL and restarted. */
    static final class SeparateProcess implements Setup {
        final ProcessEnsemble ensemble = ProcessEnsemble.builder().size(1).start();
        final ServerProcess server = ensemble.servers().get(0);
        int round;

        @Override
        public String poolConnectString() {
            return ensemble.connectString();
        }

        @Override
        public String direct() {
            return ensemble.connectString();
        }

        @Override
        public Duration faultInterval() {
            return Duration.ofMillis(300);
        }

        @Override
        public Duration run() {
            return Duration.ofSeconds(22);
        }

        @Override
        public int minCallsHit() {
            return 8;
        }

        @Override
        public String fault(ZkSessionPool pool, List<ZkLease> leases) throws Exception {
            round++;
            if (round % 2 == 1) {
                server.sigstop();
                Thread.sleep(ThreadLocalRandom.current().nextLong(200, 1500));
                server.sigcont();
                return "SIGSTOP/SIGCONT";
            }
            server.kill9();
            server.restart();
            server.awaitServing(Duration.ofSeconds(30));
            return "SIGKILL/restart";
        }

        @Override
        public File stopAndGetDataDir() {
            server.stop();
            return server.directory().resolve("data").toFile();
        }

        @Override
        public void close() {
            ensemble.close();
        }
    }

    // --------------------------------------------------------------------------------------------- the run

    void run(Setup setup, double asyncShare, String chroot, Set<Type> leaveOut) throws Exception {
        List<Throwable> crashes = new CopyOnWriteArrayList<>();
        List<List<Call>> callsOf = new ArrayList<>();
        Map<Integer, Set<Long>> sessionsOf = new HashMap<>();
        List<String> faults = new CopyOnWriteArrayList<>();
        AtomicInteger faultEpoch = new AtomicInteger();
        long rivalSession;
        try (RawZooKeeper rivalClient = RawZooKeeper.connect(setup.direct(), Duration.ofSeconds(30))) {
            rivalSession = rivalClient.sessionId();
            ZooKeeper rz = rivalClient.zk();
            for (String p : List.of("/w", "/w/seq", "/w/par", "/w/k0", "/w/k1")) {
                rz.create(p, new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            }
            try (ZkSessionPool pool = ZkSessionPool.builder()
                    .name("adv-write")
                    .connectString(setup.poolConnectString())
                    .sessionsPerEnsemble(WORKERS)
                    .sessionTimeout(Duration.ofSeconds(10))
                    .connectionTimeout(Duration.ofSeconds(5))
                    .operationPolicy(setup.policy())
                    .build()) {
                List<ZkLease> leases = SessionLeases.oneOnEachSession(pool, WORKERS);
                for (int w = 0; w < WORKERS; w++) {
                    callsOf.add(new ArrayList<>());
                    sessionsOf.put(w, ConcurrentSet.of(leases.get(w).sessionId()));
                }
                assertThat(leases.stream().map(ZkLease::sessionId).distinct().count())
                        .as("one session per worker")
                        .isEqualTo(WORKERS);
                AtomicBoolean running = new AtomicBoolean(true);
                long deadline = System.nanoTime() + setup.run().toNanos();
                List<Thread> threads = new ArrayList<>();
                for (int w = 0; w < WORKERS; w++) {
                    int worker = w;
                    threads.add(thread(
                            "worker-" + w,
                            crashes,
                            () -> runWorker(
                                    worker,
                                    leases.get(worker),
                                    callsOf.get(worker),
                                    sessionsOf.get(worker),
                                    deadline,
                                    asyncShare,
                                    setup,
                                    faultEpoch,
                                    leaveOut)));
                }
                threads.add(thread("rival", crashes, () -> runRival(rz, running)));
                Thread faulter = thread("faults", crashes, () -> {
                    while (System.nanoTime() < deadline - TimeUnit.SECONDS.toNanos(2)) {
                        Thread.sleep(setup.faultInterval().toMillis());
                        faultEpoch.incrementAndGet();
                        String f = setup.fault(pool, leases);
                        faultEpoch.incrementAndGet();
                        if (f != null) {
                            faults.add(f);
                        }
                    }
                });
                threads.forEach(Thread::start);
                faulter.start();
                faulter.join(RUN.toMillis() + 60_000);
                for (int i = 0; i < WORKERS; i++) {
                    threads.get(i).join(RUN.toMillis() + 60_000);
                    assertThat(threads.get(i).isAlive())
                            .as("worker %d finished", i)
                            .isFalse();
                }
                running.set(false);
                threads.get(WORKERS).join(30_000);
                for (int w = 0; w < WORKERS; w++) {
                    try {
                        sessionsOf.get(w).add(leases.get(w).sessionId());
                    } catch (ZkException e) {
                        // not connected at the end: the sessions seen are recorded already
                    }
                }
            }
        }
        File dataDir = setup.stopAndGetDataDir();
        TxnLogOracle log = TxnLogOracle.read(dataDir);
        assertThat(crashes).as("crashed threads").isEmpty();

        // Every session a worker's calls wrote under belongs to that worker (checked below), and the rival's is known.
        Map<String, Call> byPayload = new HashMap<>();
        for (List<Call> calls : callsOf) {
            for (Call c : calls) {
                c.payloads.forEach(p -> byPayload.put(p, c));
            }
        }
        for (Txn txn : log.txns()) {
            if (!txn.applied()) {
                continue;
            }
            for (TxnLogOracle.Op op : txn.ops()) {
                Call c = op.payload() == null ? null : byPayload.get(op.payload());
                if (c != null) {
                    sessionsOf.get(c.worker).add(txn.sessionId());
                }
            }
        }
        List<String> found = new ArrayList<>();
        List<Call> all = callsOf.stream().flatMap(List::stream).toList();
        for (Call c : all) {
            if (!c.type.isDelete()) {
                checkByPayload(c, log, chroot, found);
            }
        }
        for (int w = 0; w < WORKERS; w++) {
            checkDeletes(w, callsOf.get(w), sessionsOf.get(w), log, chroot, found);
        }
        // Result paths that carry the chroot (multi create results, as ZooKeeper's own handle returns them) are the
        // subject of aMultiCreateThroughAChrootReturnsTheSamePathFormAsCreate; here they only count as applied.
        List<String> contradictions = new ArrayList<>(
                found.stream().filter(f -> !f.startsWith("CHROOT ")).toList());
        long chrootLeaks = found.stream().filter(f -> f.startsWith("CHROOT ")).count();
        if (chrootLeaks > 0) {
            System.out.println(chrootLeaks + " result path(s) of calls reported OK carry the chroot " + chroot);
        }
        Map<String, Integer> summary = new TreeMap<>();
        for (Call c : all) {
            summary.merge(c.type + (c.async ? " async " : " sync ") + c.outcome, 1, Integer::sum);
        }
        String text = all.size() + " calls, faults " + faults.size() + " "
                + faults.stream().distinct().limit(4).toList()
                + "\n  "
                + summary.entrySet().stream()
                        .map(e -> e.getKey() + "=" + e.getValue())
                        .collect(Collectors.joining("\n  "));
        System.out.println(text);
        contradictions.forEach(c -> System.out.println("CONTRADICTION " + c));
        assertThat(all.stream().filter(c -> c.faultsDuring > 0).count())
                .as("calls hit by a fault")
                .isGreaterThan(setup.minCallsHit());
        // Enough successes for the check against the log to mean something. The count follows the machine's speed: a
        // loaded 2-core CI run made 168 async calls in the 14 s, 100 of them OK (more than 100 was asked then).
        assertThat(all.stream().filter(c -> c.outcome == Outcome.OK).count())
                .as("calls reported OK")
                .isGreaterThan(50);
        if (!contradictions.isEmpty()) {
            fail(contradictions.size() + " reported outcome(s) contradict the server's log or the promise:\n  "
                    + contradictions.stream().limit(40).collect(Collectors.joining("\n  ")) + "\n" + text);
        }
    }

    static final class ConcurrentSet {
        static Set<Long> of(long first) {
            Set<Long> s = ConcurrentHashMap.newKeySet();
            s.add(first);
            return s;
        }
    }

    interface Body {
        void run() throws Exception;
    }

    static Thread thread(String name, List<Throwable> crashes, Body body) {
        Thread t = new Thread(
                () -> {
                    try {
                        body.run();
                    } catch (Throwable e) {
                        crashes.add(new AssertionError(name + " crashed", e));
                    }
                },
                name);
        t.setDaemon(true);
        return t;
    }

    void runWorker(
            int worker,
            ZkLease lease,
            List<Call> calls,
            Set<Long> sessions,
            long deadline,
            double asyncShare,
            Setup setup,
            AtomicInteger faultEpoch,
            Set<Type> leaveOut) {
        ThreadLocalRandom rnd = ThreadLocalRandom.current();
        String own = "/w/d" + worker;
        List<Type> types = new ArrayList<>(List.of(Type.values()));
        types.removeAll(leaveOut);
        int n = 0;
        while (System.nanoTime() < deadline) {
            Type type = types.get(rnd.nextInt(types.size()));
            if (type.isDelete() && rnd.nextBoolean()) {
                type = Type.CREATE; // keep the worker's own path mostly present, so deletes have something to delete
            }
            String key = "/w/k" + rnd.nextInt(2);
            String path;
            switch (type) {
                case CREATE:
                    path = rnd.nextInt(3) == 0 ? key : own;
                    break;
                case CREATE_SEQ:
                    path = "/w/seq/s-";
                    break;
                case CREATE_EPHEMERAL:
                    path = "/w/e" + worker + "-" + n;
                    break;
                case CREATE_UNDER_CHURNED_PARENT:
                    path = "/w/par/c" + worker;
                    break;
                case DELETE:
                case DELETE_VERSIONED:
                case MULTI_REPLACE:
                    path = own;
                    break;
                default:
                    path = key;
            }
            int version = -1;
            if (type == Type.SET_VERSIONED || type == Type.DELETE_VERSIONED || type == Type.MULTI_CHECK_SET) {
                try {
                    Stat stat = lease.exists(path);
                    version = stat == null ? 0 : stat.getVersion();
                } catch (ZkException e) {
                    continue;
                }
            }
            boolean async = rnd.nextDouble() < asyncShare;
            Call call = new Call(worker, n++, type, path, version, async);
            try {
                call.sessionBefore = lease.sessionId();
            } catch (ZkException e) {
                n--;
                continue;
            }
            sessions.add(call.sessionBefore);
            calls.add(call);
            int epochBefore = faultEpoch.get() + setup.epoch();
            call.startMs = System.currentTimeMillis();
            setup.afterSend();
            Throwable failure = null;
            try {
                call.returned = execute(lease, call);
            } catch (Throwable e) {
                failure = e;
            }
            call.endMs = System.currentTimeMillis();
            call.faultsDuring = faultEpoch.get() + setup.epoch() - epochBefore;
            classify(call, failure);
            try {
                call.sessionAfter = lease.sessionId();
                sessions.add(call.sessionAfter);
            } catch (ZkException e) {
                call.sessionAfter = call.sessionBefore;
            }
        }
    }

    static List<String> execute(ZkLease lease, Call call) throws Exception {
        byte[] p0 = call.payloads.isEmpty() ? null : bytes(call.payloads.get(0));
        switch (call.type) {
            case CREATE:
            case CREATE_UNDER_CHURNED_PARENT:
                return List.of(
                        call.async
                                ? get(lease.createAsync(call.path, p0, CreateMode.PERSISTENT))
                                : lease.create(call.path, p0, CreateMode.PERSISTENT));
            case CREATE_SEQ:
                return List.of(
                        call.async
                                ? get(lease.createAsync(call.path, p0, CreateMode.PERSISTENT_SEQUENTIAL))
                                : lease.create(call.path, p0, CreateMode.PERSISTENT_SEQUENTIAL));
            case CREATE_EPHEMERAL:
                return List.of(
                        call.async
                                ? get(lease.createAsync(call.path, p0, CreateMode.EPHEMERAL))
                                : lease.create(call.path, p0, CreateMode.EPHEMERAL));
            case SET:
            case SET_VERSIONED:
                if (call.async) {
                    get(lease.setDataAsync(call.path, p0, call.version));
                } else {
                    lease.setData(call.path, p0, call.version);
                }
                return List.of();
            case DELETE:
            case DELETE_VERSIONED:
                if (call.async) {
                    get(lease.deleteAsync(call.path, call.version));
                } else {
                    lease.delete(call.path, call.version);
                }
                return List.of();
            default:
                List<Op> ops;
                if (call.type == Type.MULTI_CHECK_SET) {
                    ops = List.of(Op.check(call.path, call.version), Op.setData(call.path, p0, -1));
                } else if (call.type == Type.MULTI_SEQ_SET) {
                    ops = List.of(
                            Op.create("/w/seq/m-", p0, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT_SEQUENTIAL),
                            Op.setData(call.path, bytes(call.payloads.get(1)), -1));
                } else {
                    ops = List.of(
                            Op.delete(call.path, -1),
                            Op.create(call.path, p0, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT));
                }
                List<OpResult> results = call.async ? get(lease.multiAsync(ops)) : lease.multi(ops);
                List<String> created = new ArrayList<>();
                for (OpResult r : results) {
                    if (r instanceof OpResult.CreateResult) {
                        created.add(((OpResult.CreateResult) r).getPath());
                    }
                }
                return created;
        }
    }

    static <T> T get(CompletableFuture<T> future) throws Exception {
        try {
            return future.get(60, TimeUnit.SECONDS);
        } catch (ExecutionException | CompletionException e) {
            throw e.getCause() instanceof Exception ? (Exception) e.getCause() : e;
        }
    }

    static void classify(Call call, Throwable failure) {
        if (failure == null) {
            call.outcome = Outcome.OK;
            call.reported = "OK";
            return;
        }
        call.reported = failure.getClass().getSimpleName()
                + (failure instanceof ZkException ? "(" + ((ZkException) failure).code() + ")" : "")
                + (failure instanceof ZkConnectionLossException
                                && ((ZkConnectionLossException) failure).outcomeUnknown()
                        ? "[unknown]"
                        : "");
        if (failure instanceof ZkConnectionLossException) {
            call.outcome = ((ZkConnectionLossException) failure).outcomeUnknown() ? Outcome.UNKNOWN : Outcome.FAILED;
        } else if (failure instanceof ZkSessionExpiredException) {
            call.outcome = Outcome.EXPIRED;
        } else if (failure instanceof ZkException) {
            call.outcome = Outcome.FAILED;
        } else {
            call.outcome = Outcome.UNEXPECTED;
            call.reported += ": " + failure.getMessage();
        }
    }

    void runRival(ZooKeeper zk, AtomicBoolean running) throws Exception {
        ThreadLocalRandom rnd = ThreadLocalRandom.current();
        int n = 0;
        while (running.get()) {
            String payload = "r-" + n++;
            String key = "/w/k" + rnd.nextInt(2);
            String own = "/w/d" + rnd.nextInt(WORKERS);
            try {
                switch (rnd.nextInt(6)) {
                    case 0:
                    case 1:
                        zk.setData(key, bytes(payload), -1);
                        break;
                    case 2:
                        zk.delete(key, -1);
                        zk.create(key, bytes(payload), ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
                        break;
                    case 3:
                        zk.delete(own, -1);
                        zk.create(own, bytes(payload), ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
                        break;
                    case 4:
                        for (String child : zk.getChildren("/w/par", false)) {
                            zk.delete("/w/par/" + child, -1);
                        }
                        zk.delete("/w/par", -1);
                        Thread.sleep(rnd.nextInt(0, 15));
                        zk.create("/w/par", new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
                        break;
                    default:
                        zk.setData(own, bytes(payload), -1);
                }
            } catch (KeeperException e) {
                if (e.code() == KeeperException.Code.NONODE
                        && e.getPath() != null
                        && e.getPath().equals("/w/par")) {
                    try {
                        zk.create("/w/par", new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
                    } catch (KeeperException ignored) {
                        // someone made it
                    }
                }
                // NONODE / NODEEXISTS / NOTEMPTY races and connection loss: the rival only stirs things up
            }
            Thread.sleep(rnd.nextInt(2, 25));
        }
        // Leave /w/par in place for the end.
        try {
            zk.create("/w/par", new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        } catch (KeeperException ignored) {
            // present
        }
    }

    // ------------------------------------------------------------------------------------------ the oracle

    static void checkByPayload(Call c, TxnLogOracle log, String chroot, List<String> out) {
        List<Txn> applied = log.appliedWithPayload(c.payloads.get(0));
        int n = applied.size();
        String serverPath = chroot + c.path;
        String seen = applied.isEmpty() ? "never applied" : "applied " + n + "x: " + applied;
        // Is each application of the call's kind?
        for (Txn t : applied) {
            boolean multi = c.type.name().startsWith("MULTI");
            if (multi != t.multi()) {
                out.add(c + ": payload applied by a transaction of another kind: " + t);
                return;
            }
            if (multi) {
                Set<String> inTxn = t.ops().stream()
                        .map(TxnLogOracle.Op::payload)
                        .filter(p -> p != null)
                        .collect(Collectors.toSet());
                if (!inTxn.containsAll(c.payloads)) {
                    out.add(c + ": multi applied only in part: " + t);
                }
            }
        }
        switch (c.outcome) {
            case OK:
                if (n != 1) {
                    out.add(c + ": reported OK but " + seen);
                    return;
                }
                Txn t = applied.get(0);
                TxnLogOracle.Op op = t.ops().stream()
                        .filter(o -> c.payloads.get(0).equals(o.payload()))
                        .findFirst()
                        .orElseThrow();
                switch (c.type) {
                    case CREATE:
                    case CREATE_EPHEMERAL:
                    case CREATE_UNDER_CHURNED_PARENT:
                        if (op.type() != OpType.CREATE
                                || !op.path().equals(serverPath)
                                || !c.returned.equals(List.of(c.path))) {
                            out.add(c + ": reported OK but the log has " + op + " (returned " + c.returned + ")");
                        }
                        break;
                    case CREATE_SEQ:
                    case MULTI_SEQ_SET:
                        if (!chroot.isEmpty()
                                && op.type() == OpType.CREATE
                                && c.returned.size() == 1
                                && op.path().equals(c.returned.get(0))) {
                            out.add("CHROOT " + c + ": the returned path carries the chroot (the log created "
                                    + op.path() + ")");
                        } else if (op.type() != OpType.CREATE
                                || c.returned.size() != 1
                                || !op.path().equals(chroot + c.returned.get(0))) {
                            out.add(c + ": reported OK, returned " + c.returned + " but the log created " + op.path());
                        }
                        break;
                    case SET_VERSIONED:
                        if (op.type() != OpType.SET_DATA || op.version() != c.version + 1) {
                            out.add(c + ": reported OK but the log has " + op + " (expected v" + c.version + "->v"
                                    + (c.version + 1) + ")");
                        }
                        break;
                    default:
                        break;
                }
                break;
            case FAILED:
                if (n != 0) {
                    out.add(c + ": reported a definite failure but " + seen);
                }
                break;
            case UNKNOWN:
                if (n > 1) {
                    out.add(c + ": reported unknown but " + seen);
                }
                break;
            case EXPIRED:
                if (c.type != Type.CREATE_EPHEMERAL) {
                    out.add(c
                            + ": a persistent write reported ZkSessionExpiredException (the promise: persistent writes run "
                            + "on the new session; a lost write's outcome is unknown); " + seen);
                } else if (n > 1 || (n == 1 && applied.get(0).sessionId() != c.sessionBefore)) {
                    out.add(c + ": an ephemeral create reported expired but was redone on another session: " + seen);
                }
                break;
            default:
                out.add(c + ": outside the promise; " + seen);
        }
    }

    /** Matches the worker's delete transactions on its own path to its delete calls (see the class comment). */
    static void checkDeletes(
            int worker, List<Call> calls, Set<Long> sessions, TxnLogOracle log, String chroot, List<String> out) {
        String path = "/w/d" + worker;
        String serverPath = chroot + path;
        List<Call> deletes = calls.stream().filter(c -> c.type.isDelete()).toList();
        List<Txn> txns = new ArrayList<>();
        for (Txn t : log.txns()) {
            if (t.applied()
                    && !t.multi()
                    && sessions.contains(t.sessionId())
                    && t.ops().size() == 1
                    && t.ops().get(0).type() == OpType.DELETE
                    && t.ops().get(0).path().equals(serverPath)) {
                txns.add(t);
            }
        }
        if (feasible(deletes, txns, -1)) {
            return;
        }
        List<Call> blamed = new ArrayList<>();
        for (int i = 0; i < deletes.size(); i++) {
            if (feasible(deletes, txns, i)) {
                blamed.add(deletes.get(i));
            }
        }
        String detail;
        if (blamed.size() == 1) {
            Call b = blamed.get(0);
            List<Txn> near = txns.stream()
                    .filter(t -> t.timeMillis() >= b.startMs - 50 && t.timeMillis() <= b.endMs + 3000)
                    .toList();
            detail = b + ": contradicts the log; delete transactions of worker " + worker + " around it: " + near;
        } else {
            detail = "worker " + worker + ": no assignment of its " + txns.size() + " delete transactions on " + path
                    + " to its " + deletes.size() + " delete calls explains the log (" + blamed.size()
                    + " single calls could): "
                    + deletes.stream()
                            .filter(c -> c.outcome != Outcome.FAILED)
                            .limit(10)
                            .toList();
        }
        out.add(detail);
    }

    /**
     * Whether the delete transactions can be assigned, in order, to the calls: OK takes exactly one, a definite failure
     * none, unknown none or one; a transaction only within [start, end + 3 s] of its call and of the call's version.
     * The call at {@code relaxed} may take any number (to find the one to blame).
     */
    static boolean feasible(List<Call> calls, List<Txn> txns, int relaxed) {
        int m = calls.size();
        int n = txns.size();
        boolean[][] ok = new boolean[m + 1][n + 1];
        ok[m][n] = true;
        for (int i = m - 1; i >= 0; i--) {
            Call c = calls.get(i);
            for (int j = n; j >= 0; j--) {
                boolean r = false;
                boolean mayTakeNone = i == relaxed || c.outcome != Outcome.OK;
                boolean mayTakeOne = i == relaxed || c.outcome == Outcome.OK || c.outcome == Outcome.UNKNOWN;
                if (mayTakeNone) {
                    r = ok[i + 1][j];
                }
                if (!r && mayTakeOne && j < n && fits(c, txns.get(j))) {
                    r = ok[i + 1][j + 1];
                    if (!r && i == relaxed) {
                        // relaxed: it may take several in a row
                        int k = j;
                        while (!r && k < n && fits(c, txns.get(k))) {
                            k++;
                            r = ok[i + 1][k];
                        }
                    }
                }
                ok[i][j] = r;
            }
        }
        return ok[0][0];
    }

    static boolean fits(Call c, Txn t) {
        TxnLogOracle.Op op = t.ops().get(0);
        boolean versionOk =
                c.version == -1 || (op.deleted() != null && op.deleted().version() == c.version);
        return versionOk && t.timeMillis() >= c.startMs - 50 && t.timeMillis() <= c.endMs + 3000;
    }

    static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
