package dev.zksdk.routing;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.zksdk.EnsembleConfig;
import dev.zksdk.EphemeralNode;
import dev.zksdk.FencedWrites;
import dev.zksdk.FencingToken;
import dev.zksdk.LeadershipListener;
import dev.zksdk.OperationPolicy;
import dev.zksdk.WatchEvent;
import dev.zksdk.WatchHandle;
import dev.zksdk.ZkException;
import dev.zksdk.ZkLeadership;
import dev.zksdk.ZkLease;
import dev.zksdk.ZkLock;
import dev.zksdk.ZkRoutes;
import dev.zksdk.ZkSessionPool;
import dev.zksdk.cache.ZkTreeCache;
import dev.zksdk.testing.ProcessEnsemble;
import dev.zksdk.testing.RawZooKeeper;
import dev.zksdk.testing.ServerProcess;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Op;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.data.Stat;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Adversarial review of issue 23 item 2 (routing across ensembles): two separate-process ensembles, A and B, and what
 * each server holds compared with what each call reported.
 */
class Review23AdversarialIT {

    static final Duration SESSION_TIMEOUT = Duration.ofSeconds(10);
    static final byte[] DATA = "d".getBytes(UTF_8);

    static ProcessEnsemble ensembleA;
    static ProcessEnsemble ensembleB;
    static EnsembleConfig configA;
    static EnsembleConfig configB;

    RawZooKeeper rawA;
    RawZooKeeper rawB;
    ZkSessionPool pool;
    final List<ExecutorService> executors = new ArrayList<>();

    @BeforeAll
    static void startEnsembles() {
        ensembleA = ProcessEnsemble.builder().size(1).start();
        ensembleB = ProcessEnsemble.builder().size(1).start();
        configA = config(ensembleA.connectString(), "ens-a");
        configB = config(ensembleB.connectString(), "ens-b");
    }

    static EnsembleConfig config(String connectString, String alias) {
        return EnsembleConfig.builder()
                .connectString(connectString)
                .alias(alias)
                .sessionTimeout(SESSION_TIMEOUT)
                .connectionTimeout(Duration.ofSeconds(5))
                .build();
    }

    @AfterAll
    static void stopEnsembles() {
        if (ensembleA != null) {
            ensembleA.close();
        }
        if (ensembleB != null) {
            ensembleB.close();
        }
    }

    @BeforeEach
    void connect() {
        rawA = RawZooKeeper.connect(ensembleA.connectString(), SESSION_TIMEOUT);
        rawB = RawZooKeeper.connect(ensembleB.connectString(), SESSION_TIMEOUT);
    }

    @AfterEach
    void close() {
        for (ExecutorService e : executors) {
            e.shutdownNow();
        }
        if (pool != null) {
            pool.close();
        }
        rawA.close();
        rawB.close();
    }

    ExecutorService threads(int n) {
        ExecutorService e = Executors.newFixedThreadPool(n);
        executors.add(e);
        return e;
    }

    /** "/" on A, "/b" on B. */
    ZkSessionPool pool(String name) {
        return ZkSessionPool.builder()
                .name(name)
                .operationPolicy(OperationPolicy.builder()
                        .operationTimeout(Duration.ofSeconds(5))
                        .build())
                .route("/", configA)
                .route("/b", configB)
                .build();
    }

    static Stat stat(RawZooKeeper raw, String path) throws Exception {
        return raw.zk().exists(path, false);
    }

    static void createRaw(RawZooKeeper raw, String path) throws Exception {
        try {
            raw.zk().create(path, DATA, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        } catch (KeeperException.NodeExistsException e) {
            // left by an earlier case
        }
    }

    static Op create(String path) {
        return Op.create(path, DATA, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Bad input

    @Test
    void badPrefixesNullsDuplicatesAndRemovalOfTheRootAreRefusedAndChangeNothing() {
        EnsembleConfig a = configA;
        for (String bad : new String[] {null, "", "a", "a/b", "/a/", "//", "/a//b", "/a/./b", "/a/../b", "/a\u0000"}) {
            assertThatThrownBy(() -> ZkSessionPool.builder().route(bad, a))
                    .as("builder prefix %s", bad)
                    .isInstanceOf(IllegalArgumentException.class);
        }
        assertThatThrownBy(() -> ZkSessionPool.builder().route("/a", null))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("/a");
        assertThatThrownBy(() -> ZkSessionPool.builder().route("/a", a).route("/a", configB))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("twice");
        assertThatThrownBy(() -> ZkSessionPool.builder().route("/a", a).build())
                .as("no connect string and no route for /")
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> ZkSessionPool.builder()
                        .sessionTimeout(Duration.ofSeconds(5))
                        .route("/", a)
                        .build())
                .as("a builder ensemble setting with no connect string is ambiguous")
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("sessionTimeout");
        try (ZkSessionPool plain =
                ZkSessionPool.builder().connectString(ensembleA.connectString()).build()) {
            assertThatThrownBy(plain::routes).isInstanceOf(IllegalStateException.class);
        }

        pool = pool("review23-bad");
        ZkRoutes routes = pool.routes();
        Map<String, EnsembleConfig> before = Map.copyOf(routes.table());
        for (String bad : new String[] {null, "", "x", "/x/", "/x//y", "/x/../y"}) {
            assertThatThrownBy(() -> routes.route(bad, configB))
                    .as("route %s", bad)
                    .isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> routes.remove(bad))
                    .as("remove %s", bad)
                    .isInstanceOf(IllegalArgumentException.class);
        }
        assertThatThrownBy(() -> routes.route("/x", null)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> routes.remove("/"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'/'");
        assertThatThrownBy(() -> routes.ensembleFor(null)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> routes.ensembleFor("rel")).isInstanceOf(IllegalArgumentException.class);
        assertThat(routes.remove("/never")).isFalse();
        assertThat(routes.table()).isEqualTo(before);
        assertThatThrownBy(() -> routes.table().put("/y", configB)).isInstanceOf(UnsupportedOperationException.class);

        // Whole segments, unicode and a prefix at the very end of the longest route.
        routes.route("/é", configB);
        routes.route("/b/c/d", configA);
        assertThat(routes.ensembleFor("/é")).isEqualTo(configB);
        assertThat(routes.ensembleFor("/é/x")).isEqualTo(configB);
        assertThat(routes.ensembleFor("/éx")).isEqualTo(configA);
        assertThat(routes.ensembleFor("/b")).isEqualTo(configB);
        assertThat(routes.ensembleFor("/bb")).isEqualTo(configA);
        assertThat(routes.ensembleFor("/b/c/d")).isEqualTo(configA);
        assertThat(routes.ensembleFor("/b/c/dd")).isEqualTo(configB);
        assertThat(routes.ensembleFor("/b/c/d/e/f/g/h/i/j/k")).isEqualTo(configA);
        assertThat(routes.ensembleFor("/b/c")).isEqualTo(configB);
        assertThat(routes.ensembleFor("/")).isEqualTo(configA);
        try (ZkLease lease = pool.lease()) {
            assertThatThrownBy(() -> lease.getData(null)).isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> lease.getData("rel")).isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> lease.multi(null)).isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> lease.multi(List.of())).isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> lease.multiAsync(Collections.singletonList(null)))
                    .isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> lease.fenced(null)).isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> lease.curator("rel")).isInstanceOf(IllegalArgumentException.class);
            assertThat(pool.stats().activeLeases())
                    .as("bad input took no ensemble lease")
                    .isZero();
        }
    }

    @Test
    void twoPrefixesOnEqualConfigsShareOneEnsembleAndAMultiAcrossThemIsAtomic() throws Exception {
        EnsembleConfig a2 = config(ensembleA.connectString(), "ens-a"); // equal, another instance
        pool = ZkSessionPool.builder()
                .name("review23-same")
                .route("/", configB)
                .route("/s1", configA)
                .route("/s2", a2)
                .build();
        createRaw(rawA, "/s1");
        createRaw(rawA, "/s2");
        try (ZkLease lease = pool.lease()) {
            assertThat(lease.sessionId("/s1/x")).isEqualTo(lease.sessionId("/s2/x"));
            lease.multi(List.of(create("/s1/m"), create("/s2/m")));
            assertThat(stat(rawA, "/s1/m")).isNotNull();
            assertThat(stat(rawA, "/s2/m")).isNotNull();
            // Atomic: the second op fails (exists), so the first is not applied.
            assertThatThrownBy(() -> lease.multi(List.of(create("/s1/m2"), create("/s2/m"))))
                    .isInstanceOf(ZkException.class);
            assertThat(stat(rawA, "/s1/m2")).isNull();
            assertThat(pool.stats().activeLeases())
                    .as("one lease on A, whatever the prefixes")
                    .isEqualTo(1);
            // A prefix boundary in one multi: /s1 and /s1x are on different ensembles.
            assertThatThrownBy(() -> lease.multi(List.of(create("/s1/n"), create("/s1x"))))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("/s1x -> ensemble 'ens-b'");
            assertThat(stat(rawA, "/s1/n")).isNull();
            assertThat(stat(rawB, "/s1x")).isNull();
            assertThat(stat(rawA, "/s1x")).isNull();
        }
        assertThat(pool.stats().activeLeases()).isZero();
    }

    @Test
    void credentialsNeverShowInToStringOrMessages() throws Exception {
        EnsembleConfig secretA = EnsembleConfig.builder()
                .connectString(ensembleA.connectString())
                .digest("alice", "s3cretPWa")
                .build(); // default alias
        EnsembleConfig secretB = EnsembleConfig.builder()
                .connectString(ensembleB.connectString())
                .authorization("digest", "bob:s3cretPWb".getBytes(UTF_8))
                .build();
        pool = ZkSessionPool.builder()
                .name("review23-secrets")
                .route("/", secretA)
                .route("/b", secretB)
                .build();
        List<String> shown = new ArrayList<>();
        shown.add(pool.routes().toString());
        shown.add(pool.routes().table().toString());
        shown.add(pool.toString());
        try {
            ZkSessionPool.builder().route("/x", secretA).route("/x", secretB);
        } catch (IllegalArgumentException e) {
            shown.add(e.getMessage());
        }
        createRaw(rawB, "/b");
        try (ZkLease lease = pool.lease()) {
            lease.exists("/b");
            lease.exists("/");
            shown.add(lease.toString());
            try {
                lease.multi(List.of(create("/b/q"), create("/q")));
            } catch (IllegalArgumentException e) {
                shown.add(e.getMessage());
            }
            try (ZkLock lock = lease.lock("/r23-secret-lock")) {
                FencingToken token = lock.acquire(Duration.ofSeconds(10));
                FencedWrites writes = lease.fenced(token);
                shown.add(writes.toString());
                try {
                    writes.create("/b/fenced", DATA, CreateMode.PERSISTENT);
                } catch (IllegalArgumentException e) {
                    shown.add(e.getMessage());
                }
            }
        }
        shown.add(pool.ensembles().toString());
        assertThat(shown).hasSizeGreaterThanOrEqualTo(8);
        assertThat(String.join("\n", shown)).doesNotContain("s3cret");
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Chroots with recipes

    @Test
    void chrootedRouteHoldsLocksElectionsFencedWritesEphemeralsAndCaches() throws Exception {
        createRaw(rawA, "/r23c");
        pool = ZkSessionPool.builder()
                .name("review23-chroot")
                .route("/", configB)
                .route("/p", config(ensembleA.connectString() + "/r23c", "chroot-a"))
                .build();
        createRaw(rawA, "/r23c/p");
        try (ZkLease lease = pool.lease()) {
            long sessionA = lease.sessionId("/p");
            try (ZkLock lock = lease.lock("/p/lock")) {
                FencingToken token = lock.acquire(Duration.ofSeconds(10));
                assertThat(token.epochPath()).isEqualTo("/p/lock-epoch");
                assertThat(stat(rawA, "/r23c/p/lock-epoch")).isNotNull();
                assertThat(stat(rawB, "/p/lock-epoch")).isNull();
                lease.fenced(token).create("/p/fenced", DATA, CreateMode.PERSISTENT);
                assertThat(stat(rawA, "/r23c/p/fenced")).isNotNull();
                assertThat(stat(rawA, "/p/fenced")).isNull();
                lease.fenced(token).multi(List.of(create("/p/fenced-multi")));
                assertThat(stat(rawA, "/r23c/p/fenced-multi")).isNotNull();
            }
            ZkLeadership election = lease.leaderElection("/p/elect", new LeadershipListener() {});
            try (election) {
                await().atMost(Duration.ofSeconds(20)).until(election::isLeader);
                lease.fenced(election.token()).setData("/p/fenced", "x".getBytes(UTF_8), -1);
                assertThat(rawA.zk().getData("/r23c/p/fenced", false, null)).isEqualTo("x".getBytes(UTF_8));
            }
            try (EphemeralNode e = lease.ephemeral("/p/eph", DATA)) {
                Stat s = stat(rawA, "/r23c/p/eph");
                assertThat(s).isNotNull();
                assertThat(s.getEphemeralOwner()).isEqualTo(sessionA);
                assertThat(e.path()).isEqualTo("/p/eph");
            }
            try (ZkTreeCache tree = lease.treeCache("/p")) {
                rawA.zk().create("/r23c/p/late", DATA, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
                await().atMost(Duration.ofSeconds(20)).until(() -> tree.get("/p/late") != null);
            }
        }
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Runtime route changes while operations run on other threads: a history

    @Test
    void routeFlipsDuringConcurrentWritesApplyEachCallOnExactlyOneEnsemble() throws Exception {
        pool = pool("review23-history");
        String base = "/h" + System.nanoTime();
        createRaw(rawA, base);
        createRaw(rawB, base);
        createRaw(rawA, base + "-fixed");
        createRaw(rawB, base + "-fixed");
        ZkRoutes routes = pool.routes();
        routes.route(base, configA);
        Map<String, String> reported = new ConcurrentHashMap<>(); // path -> "ok" or exception
        Map<Integer, String> multiReported = new ConcurrentHashMap<>();
        AtomicBoolean stop = new AtomicBoolean();
        AtomicInteger flips = new AtomicInteger();
        ExecutorService pool8 = threads(6);
        try (ZkLease lease = pool.lease()) {
            lease.exists(base); // warm both ensembles
            lease.exists("/b");
            List<Future<?>> workers = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                int thread = t;
                workers.add(pool8.submit(() -> {
                    for (int k = 0; k < 150; k++) {
                        String path = base + "/w" + thread + "-" + k;
                        try {
                            if (k % 2 == 0) {
                                lease.create(path, DATA, CreateMode.PERSISTENT);
                            } else {
                                lease.createAsync(path, DATA, CreateMode.PERSISTENT)
                                        .get(30, TimeUnit.SECONDS);
                            }
                            reported.put(path, "ok");
                        } catch (Exception e) {
                            reported.put(path, e.toString());
                        }
                    }
                    return null;
                }));
            }
            workers.add(pool8.submit(() -> {
                for (int k = 0; k < 150; k++) {
                    try {
                        // base moves; base-fixed stays on A (the default route).
                        if (k % 2 == 0) {
                            lease.multi(List.of(create(base + "/m" + k), create(base + "-fixed/m" + k)));
                        } else {
                            lease.multiAsync(List.of(create(base + "/m" + k), create(base + "-fixed/m" + k)))
                                    .get(30, TimeUnit.SECONDS);
                        }
                        multiReported.put(k, "ok");
                    } catch (Exception e) {
                        multiReported.put(k, e.toString());
                    }
                }
                return null;
            }));
            Future<?> flipper = pool8.submit(() -> {
                while (!stop.get()) {
                    routes.route(base, flips.incrementAndGet() % 2 == 0 ? configA : configB);
                    LockSupport.parkNanos(2_000_000);
                }
                return null;
            });
            for (Future<?> w : workers) {
                w.get(120, TimeUnit.SECONDS);
            }
            stop.set(true);
            flipper.get(10, TimeUnit.SECONDS);
        }
        assertThat(flips.get()).as("the route moved while the calls ran").isGreaterThan(10);
        List<String> onA = rawA.zk().getChildren(base, false);
        List<String> onB = rawB.zk().getChildren(base, false);
        List<String> both = new ArrayList<>(onA);
        both.retainAll(onB);
        assertThat(both).as("no call applied on both ensembles").isEmpty();
        int ok = 0;
        List<String> problems = new ArrayList<>();
        for (Map.Entry<String, String> e : reported.entrySet()) {
            String child = e.getKey().substring(base.length() + 1);
            boolean present = onA.contains(child) || onB.contains(child);
            if (e.getValue().equals("ok")) {
                ok++;
                if (!present) {
                    problems.add(e.getKey() + " reported ok, on neither ensemble");
                }
            } else if (present) {
                problems.add(e.getKey() + " reported " + e.getValue() + " but applied");
            }
        }
        assertThat(reported).hasSize(600);
        assertThat(problems).isEmpty();
        assertThat(ok).as("every create succeeded (both ensembles up)").isEqualTo(600);
        List<String> fixedA = rawA.zk().getChildren(base + "-fixed", false);
        List<String> fixedB = rawB.zk().getChildren(base + "-fixed", false);
        int refused = 0;
        for (Map.Entry<Integer, String> e : multiReported.entrySet()) {
            String m = "m" + e.getKey();
            if (e.getValue().equals("ok")) {
                assertThat(onA).as("multi %s reported ok: both ops on A", m).contains(m);
                assertThat(fixedA).contains(m);
            } else {
                refused++;
                assertThat(e.getValue()).contains("IllegalArgumentException").contains("more than one ensemble");
                assertThat(onA).as("multi %s refused: nothing applied", m).doesNotContain(m);
                assertThat(onB).doesNotContain(m);
                assertThat(fixedA).doesNotContain(m);
            }
            assertThat(fixedB).doesNotContain(m);
            assertThat(onB).as("a multi half on B would be a split").doesNotContain(m);
        }
        assertThat(multiReported).hasSize(150);
        assertThat(onA.size() + onB.size()).isEqualTo(600 + (150 - refused));
    }

    // ---------------------------------------------------------------------------------------------------------------
    // One ensemble frozen: the other works at normal latency

    @Test
    void oneEnsembleSigstoppedLeavesTheOtherAtNormalLatencyWhileItsCallsPileUp() throws Exception {
        pool = pool("review23-sigstop");
        createRaw(rawA, "/r23s");
        createRaw(rawB, "/b");
        ServerProcess serverB = ensembleB.server(1);
        ExecutorService load = threads(8);
        List<Long> latenciesMs = new CopyOnWriteArrayList<>();
        try (ZkLease lease = pool.lease()) {
            lease.create("/r23s/x", DATA, CreateMode.PERSISTENT);
            lease.exists("/b");
            List<WatchEvent> eventsA = new CopyOnWriteArrayList<>();
            try (WatchHandle w = lease.watch("/r23s/w", eventsA::add)) {
                serverB.sigstop();
                try {
                    AtomicBoolean stop = new AtomicBoolean();
                    AtomicInteger bFailures = new AtomicInteger();
                    List<Future<?>> pileUp = new ArrayList<>();
                    for (int t = 0; t < 6; t++) {
                        pileUp.add(load.submit(() -> {
                            while (!stop.get()) {
                                try {
                                    lease.getData("/b");
                                } catch (ZkException e) {
                                    bFailures.incrementAndGet();
                                    LockSupport.parkNanos(20_000_000); // pacing: no spin on a 2-core machine
                                } catch (IllegalStateException e) {
                                    return null;
                                }
                            }
                            return null;
                        }));
                    }
                    List<java.util.concurrent.CompletableFuture<byte[]>> asyncB = new ArrayList<>();
                    for (int i = 0; i < 2000; i++) {
                        asyncB.add(lease.getDataAsync("/b"));
                    }
                    // A's calls, sync and async, and a watch event: normal latency during B's pile-up.
                    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(12);
                    int i = 0;
                    while (System.nanoTime() < deadline) {
                        long t0 = System.nanoTime();
                        lease.setData("/r23s/x", ("v" + i).getBytes(UTF_8), -1);
                        lease.getDataAsync("/r23s/x").get(10, TimeUnit.SECONDS);
                        latenciesMs.add(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0));
                        i++;
                    }
                    long t0 = System.nanoTime();
                    rawA.zk().create("/r23s/w", DATA, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
                    await().atMost(Duration.ofSeconds(10)).until(() -> !eventsA.isEmpty());
                    long watchMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
                    assertThat(watchMs).as("A's watch event while B is frozen").isLessThan(2000);
                    assertThat(pool.ensembles()).anySatisfy(e -> {
                        assertThat(e.connectString()).isEqualTo(ensembleA.connectString());
                        assertThat(e.isConnected()).isTrue();
                        assertThat(e.isCircuitOpen()).isFalse();
                    });
                    assertThat(pool.ensembles()).anySatisfy(e -> {
                        assertThat(e.connectString()).isEqualTo(ensembleB.connectString());
                        assertThat(e.isConnected()).as("B's own health").isFalse();
                    });
                    stop.set(true);
                    for (Future<?> f : pileUp) {
                        f.get(30, TimeUnit.SECONDS);
                    }
                    assertThat(bFailures.get()).as("B's calls failed meanwhile").isPositive();
                } finally {
                    serverB.sigcont();
                }
            } finally {
                rawA.zk().delete("/r23s/w", -1);
            }
            List<Long> sorted = new ArrayList<>(latenciesMs);
            Collections.sort(sorted);
            long p99 = sorted.get((int) (sorted.size() * 0.99));
            long max = sorted.get(sorted.size() - 1);
            System.out.println("review23 A latency while B frozen: n=" + sorted.size() + " p50="
                    + sorted.get(sorted.size() / 2) + "ms p99=" + p99 + "ms max=" + max + "ms");
            assertThat(sorted.size()).as("A's round trips in 12 s").isGreaterThan(100);
            assertThat(p99)
                    .as("A's p99 (setData + getDataAsync) while B frozen")
                    .isLessThan(1000);
            assertThat(max).as("no A call waited out B's operation timeout").isLessThan(4000);
            await().atMost(Duration.ofSeconds(60))
                    .ignoreExceptionsInstanceOf(ZkException.class)
                    .until(() -> lease.exists("/b") != null);
        }
    }

    // Found by this review: A's watch event came 4.9 s late (B's operation timeout) while one callback pool of 16
    // threads served every ensemble; each ensemble now has its own.
    @Test
    void listenersOfAFrozenEnsembleCallingIntoItDoNotDelayTheOtherEnsemblesListeners() throws Exception {
        listenersOfAFrozenEnsembleCallingIntoIt(24);
    }

    /** Below the callback threads' number (16), the same scenario leaves A's listener on time. */
    @Test
    void fewerListenersOfAFrozenEnsembleThanCallbackThreadsLeaveTheOtherEnsemblesListenersOnTime() throws Exception {
        listenersOfAFrozenEnsembleCallingIntoIt(12);
    }

    private void listenersOfAFrozenEnsembleCallingIntoIt(int watchesOnB) throws Exception {
        int running = Math.min(16, watchesOnB);
        pool = pool("review23-listeners");
        createRaw(rawA, "/r23l");
        createRaw(rawB, "/b");
        createRaw(rawB, "/b/r23l");
        ServerProcess serverB = ensembleB.server(1);
        CountDownLatch bFrozen = new CountDownLatch(1);
        AtomicInteger bListenersEntered = new AtomicInteger();
        AtomicInteger bListenersBlocked = new AtomicInteger();
        AtomicInteger bListenersDone = new AtomicInteger();
        try (ZkLease lease = pool.lease()) {
            List<WatchHandle> handles = new ArrayList<>();
            try {
                for (int i = 0; i < watchesOnB; i++) {
                    String path = "/b/r23l/n" + i + "-" + watchesOnB;
                    createRaw(rawB, path);
                    handles.add(lease.watch(path, event -> {
                        if (event.type() != WatchEvent.Type.DATA_CHANGED) {
                            return;
                        }
                        // The reaction of a listener: re-read its node, on B, which is frozen by now.
                        bListenersEntered.incrementAndGet();
                        try {
                            bFrozen.await(30, TimeUnit.SECONDS);
                            bListenersBlocked.incrementAndGet();
                            lease.getData(path);
                        } catch (InterruptedException | ZkException e) {
                            // B's failure, expected
                        } finally {
                            bListenersDone.incrementAndGet();
                        }
                    }));
                }
                List<Long> aEventAt = new CopyOnWriteArrayList<>();
                handles.add(lease.watch("/r23l/w", e -> aEventAt.add(System.nanoTime())));
                for (int i = 0; i < watchesOnB; i++) {
                    rawB.zk().setData("/b/r23l/n" + i + "-" + watchesOnB, "x".getBytes(UTF_8), -1);
                }
                // Every B listener has its event (they wait for the freeze): then freeze B.
                // (at most the callback threads' number of them run at once)
                await().atMost(Duration.ofSeconds(20)).until(() -> bListenersEntered.get() >= running);
                serverB.sigstop();
                try {
                    bFrozen.countDown();
                    await().atMost(Duration.ofSeconds(10)).until(() -> bListenersBlocked.get() >= running);
                    long t0 = System.nanoTime();
                    rawA.zk().create("/r23l/w", DATA, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
                    await().atMost(Duration.ofSeconds(60)).until(() -> !aEventAt.isEmpty());
                    long ms = TimeUnit.NANOSECONDS.toMillis(aEventAt.get(0) - t0);
                    System.out.println("review23 A watch event after " + ms + " ms; B listeners blocked "
                            + bListenersBlocked.get() + ", done " + bListenersDone.get());
                    assertThat(ms)
                            .as("A's watch event while %s listeners of B wait on frozen B", bListenersBlocked.get())
                            .isLessThan(2000);
                } finally {
                    serverB.sigcont();
                    rawA.zk().delete("/r23l/w", -1);
                }
            } finally {
                for (WatchHandle h : handles) {
                    h.close();
                }
            }
        }
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Listeners calling back into the routed lease

    @Test
    void aListenerCallsBackIntoTheRoutedLeaseAcrossEnsembles() throws Exception {
        pool = pool("review23-callback");
        createRaw(rawA, "/r23cb");
        createRaw(rawB, "/b");
        List<String> outcome = new CopyOnWriteArrayList<>();
        try (ZkLease lease = pool.lease()) {
            try (WatchHandle w = lease.watch("/r23cb/w", event -> {
                if (event.type() != WatchEvent.Type.CREATED) {
                    return;
                }
                try {
                    // B first used from A's listener; a write on A; a cross multi refused; a nested watch on B.
                    lease.create("/b/from-listener", DATA, CreateMode.PERSISTENT);
                    lease.create("/r23cb/from-listener", DATA, CreateMode.PERSISTENT);
                    try {
                        lease.multi(List.of(create("/b/x-l"), create("/r23cb/x-l")));
                        outcome.add("multi not refused");
                    } catch (IllegalArgumentException e) {
                        outcome.add("refused");
                    }
                    lease.watch("/b/nested", ev -> outcome.add("nested " + ev.type()));
                    outcome.add("done");
                } catch (RuntimeException e) {
                    outcome.add("failed " + e);
                }
            })) {
                assertThat(pool.stats().activeLeases()).as("only A used so far").isEqualTo(1);
                rawA.zk().create("/r23cb/w", DATA, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
                await().atMost(Duration.ofSeconds(30))
                        .until(() ->
                                outcome.contains("done") || outcome.stream().anyMatch(s -> s.startsWith("failed")));
                assertThat(outcome).containsExactly("refused", "done");
                assertThat(stat(rawB, "/b/from-listener")).isNotNull();
                assertThat(stat(rawA, "/b/from-listener")).isNull();
                assertThat(stat(rawA, "/r23cb/from-listener")).isNotNull();
                assertThat(stat(rawB, "/b/x-l")).isNull();
                assertThat(stat(rawA, "/r23cb/x-l")).isNull();
                rawB.zk().create("/b/nested", DATA, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
                await().atMost(Duration.ofSeconds(20)).until(() -> outcome.contains("nested CREATED"));
            }
        }
        assertThat(pool.stats().activeLeases()).isZero();
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Leases and locks held across a route change

    @Test
    void aLockHeldAcrossAMoveCannotFenceOnTheNewEnsembleAndNothingIsWritten() throws Exception {
        pool = pool("review23-lockmove");
        String p = "/r23lk" + System.nanoTime();
        createRaw(rawA, p);
        createRaw(rawB, p);
        pool.routes().route(p, configA);
        try (ZkLease holder = pool.lease();
                ZkLease other = pool.lease()) {
            ZkLock lock = holder.lock(p + "/lock");
            FencingToken token = lock.acquire(Duration.ofSeconds(10));
            FencedWrites before = holder.fenced(token);
            before.create(p + "/w0", DATA, CreateMode.PERSISTENT);
            assertThat(stat(rawA, p + "/w0")).isNotNull();

            pool.routes().route(p, configB); // migration
            assertThatThrownBy(() -> holder.fenced(token).create(p + "/w1", DATA, CreateMode.PERSISTENT))
                    .as("a token from before the move, on the new ensemble")
                    .isInstanceOfAny(ZkException.class, IllegalArgumentException.class);
            assertThatThrownBy(() -> before.create(p + "/w2", DATA, CreateMode.PERSISTENT))
                    .as("fenced writes taken before the move, to a path now on B")
                    .isInstanceOf(IllegalArgumentException.class);
            for (RawZooKeeper raw : List.of(rawA, rawB)) {
                assertThat(stat(raw, p + "/w1")).isNull();
                assertThat(stat(raw, p + "/w2")).isNull();
            }
            // The lock is still held on A (documented), and a new lock on B is a separate one.
            assertThat(lock.isHeld()).isTrue();
            assertThat(rawA.zk().getChildren(p + "/lock", false)).hasSize(1);
            try (ZkLock onB = other.lock(p + "/lock")) {
                FencingToken tokenB = onB.acquire(Duration.ofSeconds(10));
                other.fenced(tokenB).create(p + "/w3", DATA, CreateMode.PERSISTENT);
                assertThat(stat(rawB, p + "/w3")).isNotNull();
                assertThat(stat(rawA, p + "/w3")).isNull();
            }
            lock.close();
            assertThat(rawA.zk().getChildren(p + "/lock", false))
                    .as("closing the old lock removes its node on A")
                    .isEmpty();
        }
        assertThat(pool.stats().activeLeases()).isZero();
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Close during in-flight calls and route changes

    @Test
    void closingRoutedLeasesDuringCallsAndRouteChangesLeaksNoEnsembleLease() throws Exception {
        pool = pool("review23-close");
        String p = "/r23cl";
        createRaw(rawA, p);
        createRaw(rawB, p);
        createRaw(rawB, "/b");
        EnsembleConfig a2 = config(ensembleA.connectString(), "ens-a2"); // another config: its own slot
        EnsembleConfig[] targets = {configA, configB, a2};
        ZkRoutes routes = pool.routes();
        ExecutorService workers = threads(5);
        AtomicLong unexpected = new AtomicLong();
        List<String> unexpectedKinds = new CopyOnWriteArrayList<>();
        for (int round = 0; round < 6; round++) {
            ZkLease lease = pool.lease();
            AtomicBoolean stop = new AtomicBoolean();
            List<Future<?>> fs = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                int thread = t;
                fs.add(workers.submit(() -> {
                    int k = 0;
                    while (!stop.get()) {
                        String path = (thread % 2 == 0 ? p : "/b") + "/c" + thread + "-" + k++;
                        try {
                            if (k % 3 == 0) {
                                lease.createAsync(path, DATA, CreateMode.EPHEMERAL)
                                        .get(20, TimeUnit.SECONDS);
                            } else {
                                lease.create(path, DATA, CreateMode.EPHEMERAL);
                            }
                        } catch (IllegalStateException e) {
                            return null; // closed: the expected end
                        } catch (java.util.concurrent.ExecutionException e) {
                            if (!(e.getCause() instanceof IllegalStateException)
                                    && !(e.getCause() instanceof ZkException)) {
                                unexpected.incrementAndGet();
                                unexpectedKinds.add(e.getCause().toString());
                            }
                            if (e.getCause() instanceof IllegalStateException) {
                                return null;
                            }
                        } catch (ZkException e) {
                            // a call cut by the close: fine
                        } catch (Exception e) {
                            unexpected.incrementAndGet();
                            unexpectedKinds.add(e.toString());
                        }
                    }
                    return null;
                }));
            }
            int r = round;
            fs.add(workers.submit(() -> {
                int k = r;
                while (!stop.get()) {
                    routes.route(p, targets[k++ % targets.length]);
                    LockSupport.parkNanos(1_000_000);
                }
                return null;
            }));
            await().atMost(Duration.ofSeconds(10))
                    .pollDelay(Duration.ofMillis(300))
                    .until(() -> true);
            lease.close();
            // every worker ends by itself after the close (IllegalStateException), the flipper when told
            for (int t = 0; t < 4; t++) {
                fs.get(t).get(30, TimeUnit.SECONDS);
            }
            stop.set(true);
            fs.get(4).get(10, TimeUnit.SECONDS);
            assertThatThrownBy(() -> lease.getData(p)).isInstanceOf(IllegalStateException.class);
        }
        assertThat(unexpectedKinds).isEmpty();
        await().atMost(Duration.ofSeconds(10))
                .untilAsserted(() -> assertThat(pool.stats().activeLeases())
                        .as("no ensemble lease outlives its routed lease")
                        .isZero());
    }

    @Test
    void closingThePoolDuringRoutedCallsAndRouteChangesEndsEveryCall() throws Exception {
        ZkSessionPool p = pool("review23-poolclose");
        pool = p;
        createRaw(rawA, "/r23pc");
        createRaw(rawB, "/b");
        ZkRoutes routes = p.routes();
        EnsembleConfig a3 = config(ensembleA.connectString(), "ens-a3");
        ExecutorService workers = threads(5);
        AtomicBoolean stop = new AtomicBoolean();
        List<String> unexpected = new CopyOnWriteArrayList<>();
        List<Future<?>> fs = new ArrayList<>();
        ZkLease shared = p.lease();
        for (int t = 0; t < 4; t++) {
            int thread = t;
            fs.add(workers.submit(() -> {
                int k = 0;
                while (true) {
                    String path = (thread % 2 == 0 ? "/r23pc" : "/b") + "/p" + thread + "-" + k++;
                    try {
                        if (thread == 3) {
                            try (ZkLease fresh = p.lease()) {
                                fresh.exists(path);
                            }
                        } else {
                            shared.create(path, DATA, CreateMode.EPHEMERAL);
                        }
                    } catch (IllegalStateException e) {
                        return null;
                    } catch (ZkException e) {
                        // cut by the close
                    } catch (RuntimeException e) {
                        unexpected.add(e.toString());
                        return null;
                    }
                }
            }));
        }
        fs.add(workers.submit(() -> {
            int k = 0;
            while (!stop.get()) {
                try {
                    routes.route("/r23pc", k++ % 2 == 0 ? a3 : configA);
                    LockSupport.parkNanos(1_000_000);
                } catch (IllegalStateException e) {
                    return null;
                }
            }
            return null;
        }));
        await().pollDelay(Duration.ofMillis(500)).atMost(Duration.ofSeconds(5)).until(() -> true);
        long t0 = System.nanoTime();
        p.close();
        long closeMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        for (int t = 0; t < 4; t++) {
            fs.get(t).get(30, TimeUnit.SECONDS);
        }
        stop.set(true);
        fs.get(4).get(10, TimeUnit.SECONDS);
        assertThat(unexpected).isEmpty();
        assertThat(closeMs).as("pool close").isLessThan(15_000);
        assertThatThrownBy(() -> shared.getData("/r23pc")).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(p::lease).isInstanceOf(IllegalStateException.class);
        shared.close(); // after the pool: quiet, idempotent
        shared.close();
        // What the pool's sessions left on the servers: their ephemerals are gone with the closed sessions.
        await().atMost(Duration.ofSeconds(30))
                .untilAsserted(() -> assertThat(rawA.zk().getChildren("/r23pc", false))
                        .as("ephemerals of the closed pool on A")
                        .isEmpty());
        await().atMost(Duration.ofSeconds(30))
                .untilAsserted(() -> assertThat(rawB.zk().getChildren("/b", false).stream()
                                .filter(c -> c.startsWith("p"))
                                .toList())
                        .as("ephemerals of the closed pool on B")
                        .isEmpty());
        pool = null;
    }

    // ---------------------------------------------------------------------------------------------------------------
    // A route added at runtime to an ensemble that never answers (a socket that accepts and stays silent)

    @Test
    void aRouteToASilentEnsembleDelaysNothingElseAndClosingDuringItsFirstUseLeaksNothing() throws Exception {
        pool = pool("review23-silent");
        createRaw(rawA, "/r23q");
        try (java.net.ServerSocket silent = new java.net.ServerSocket(0, 200)) {
            EnsembleConfig dead = config("127.0.0.1:" + silent.getLocalPort(), "silent");
            pool.routes().route("/dead", dead);
            ExecutorService load = threads(5);
            AtomicBoolean stop = new AtomicBoolean();
            AtomicInteger deadFailures = new AtomicInteger();
            List<String> deadErrors = new CopyOnWriteArrayList<>();
            List<Future<?>> hammer = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                hammer.add(load.submit(() -> {
                    while (!stop.get()) {
                        try (ZkLease fresh = pool.lease()) {
                            fresh.exists("/dead/x");
                            deadErrors.add("answered?");
                        } catch (ZkException e) {
                            deadFailures.incrementAndGet();
                            if (deadErrors.size() < 3) {
                                deadErrors.add(e.getClass().getSimpleName() + ": " + e.getMessage());
                            }
                            LockSupport.parkNanos(20_000_000);
                        }
                    }
                    return null;
                }));
            }
            // Fresh routed leases on A meanwhile: normal latency.
            List<Long> ms = new ArrayList<>();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(8);
            while (System.nanoTime() < deadline) {
                long t0 = System.nanoTime();
                try (ZkLease fresh = pool.lease()) {
                    fresh.exists("/r23q");
                    fresh.setData("/r23q", DATA, -1);
                }
                ms.add(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0));
            }
            Collections.sort(ms);
            System.out.println("review23 A with fresh leases beside a silent route: n=" + ms.size() + " p50="
                    + ms.get(ms.size() / 2) + " max=" + ms.get(ms.size() - 1) + " ms; silent failures "
                    + deadFailures.get() + " " + deadErrors);
            assertThat(ms.get(ms.size() - 1))
                    .as("max A latency beside a silent route")
                    .isLessThan(2000);

            // A routed lease closed while its first call on the silent ensemble waits for a session.
            ZkLease waiting = pool.lease();
            CountDownLatch started = new CountDownLatch(1);
            Future<String> firstUse = load.submit(() -> {
                started.countDown();
                try {
                    waiting.exists("/dead/y");
                    return "answered";
                } catch (RuntimeException e) {
                    return e.getClass().getSimpleName();
                }
            });
            started.await(5, TimeUnit.SECONDS);
            await().pollDelay(Duration.ofMillis(300))
                    .atMost(Duration.ofSeconds(2))
                    .until(() -> true);
            long t0 = System.nanoTime();
            waiting.close();
            assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0))
                    .as("close of a lease whose first call waits")
                    .isLessThan(1000);
            assertThat(firstUse.get(20, TimeUnit.SECONDS))
                    .isIn("IllegalStateException", "ZkUnavailableException", "ZkConnectionLossException");
            stop.set(true);
            for (Future<?> f : hammer) {
                f.get(30, TimeUnit.SECONDS);
            }
            assertThat(deadErrors).doesNotContain("answered?");
            await().atMost(Duration.ofSeconds(10))
                    .untilAsserted(() -> assertThat(pool.stats().activeLeases()).isZero());
        }
    }

    // ---------------------------------------------------------------------------------------------------------------
    // An election's listener closes the routed lease; a lease on one config is never routed

    @Test
    void anElectionListenerClosingItsRoutedLeaseDoesNotHang() throws Exception {
        pool = pool("review23-listener-close");
        createRaw(rawA, "/r23e");
        createRaw(rawB, "/b");
        ZkLease lease = pool.lease();
        lease.exists("/b"); // B taken too
        List<String> seen = new CopyOnWriteArrayList<>();
        ZkLeadership election = lease.leaderElection("/r23e/elect", new LeadershipListener() {
            @Override
            public void onElected(FencingToken token) {
                try {
                    lease.create("/b/elected-" + token.value(), DATA, CreateMode.PERSISTENT);
                    seen.add("wrote");
                    lease.close();
                    seen.add("closed");
                    lease.getData("/b");
                    seen.add("not refused");
                } catch (IllegalStateException e) {
                    seen.add("refused");
                } catch (RuntimeException e) {
                    seen.add("failed " + e);
                }
            }
        });
        await().atMost(Duration.ofSeconds(30)).until(() -> seen.size() >= 3);
        assertThat(seen).containsExactly("wrote", "closed", "refused");
        election.close();
        await().atMost(Duration.ofSeconds(10))
                .untilAsserted(() -> assertThat(pool.stats().activeLeases()).isZero());
        assertThat(rawB.zk().getChildren("/b", false)).anyMatch(c -> c.startsWith("elected-"));

        // pool.lease(config) is never routed, also on a pool with routes.
        try (ZkLease onB = pool.lease(configB)) {
            onB.create("/r23e-not-routed", DATA, CreateMode.PERSISTENT);
            assertThat(stat(rawB, "/r23e-not-routed")).isNotNull();
            assertThat(stat(rawA, "/r23e-not-routed")).isNull();
            onB.delete("/r23e-not-routed", -1);
        }
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Route flips while the ensemble flipped to is killed and restarted: retries never cross ensembles

    @Test
    void routeFlipsWhileOneEnsembleIsKilledNeverApplyACallOnBothOrLoseAReportedSuccess() throws Exception {
        pool = pool("review23-history-kill");
        String base = "/hk" + System.nanoTime();
        createRaw(rawA, base);
        createRaw(rawB, base);
        ZkRoutes routes = pool.routes();
        routes.route(base, configA);
        ServerProcess serverB = ensembleB.server(1);
        Map<String, String> reported = new ConcurrentHashMap<>();
        AtomicBoolean stop = new AtomicBoolean();
        ExecutorService workers = threads(4);
        try (ZkLease lease = pool.lease()) {
            lease.exists(base);
            lease.exists("/b");
            List<Future<?>> fs = new ArrayList<>();
            for (int t = 0; t < 3; t++) {
                int thread = t;
                fs.add(workers.submit(() -> {
                    int k = 0;
                    while (!stop.get()) {
                        String path = base + "/w" + thread + "-" + k++;
                        try {
                            if (k % 2 == 0) {
                                lease.create(path, DATA, CreateMode.PERSISTENT);
                            } else {
                                lease.createAsync(path, DATA, CreateMode.PERSISTENT)
                                        .get(30, TimeUnit.SECONDS);
                            }
                            reported.put(path, "ok");
                        } catch (Exception e) {
                            reported.put(path, e.toString());
                            LockSupport.parkNanos(20_000_000);
                        }
                    }
                    return null;
                }));
            }
            fs.add(workers.submit(() -> {
                int k = 0;
                while (!stop.get()) {
                    routes.route(base, k++ % 2 == 0 ? configB : configA);
                    LockSupport.parkNanos(3_000_000);
                }
                return null;
            }));
            await().pollDelay(Duration.ofSeconds(2))
                    .atMost(Duration.ofSeconds(3))
                    .until(() -> true);
            serverB.kill9();
            try {
                await().pollDelay(Duration.ofSeconds(6))
                        .atMost(Duration.ofSeconds(7))
                        .until(() -> true);
            } finally {
                serverB.restart();
                serverB.awaitServing(Duration.ofSeconds(60));
            }
            await().atMost(Duration.ofSeconds(60))
                    .ignoreExceptionsInstanceOf(ZkException.class)
                    .until(() -> lease.exists("/b") != null);
            await().pollDelay(Duration.ofSeconds(2))
                    .atMost(Duration.ofSeconds(3))
                    .until(() -> true);
            stop.set(true);
            for (Future<?> f : fs) {
                f.get(60, TimeUnit.SECONDS);
            }
        }
        RawZooKeeper freshB = RawZooKeeper.connect(ensembleB.connectString(), SESSION_TIMEOUT);
        try (freshB) {
            List<String> onA = rawA.zk().getChildren(base, false);
            List<String> onB = freshB.zk().getChildren(base, false);
            List<String> both = new ArrayList<>(onA);
            both.retainAll(onB);
            long ok = reported.values().stream().filter("ok"::equals).count();
            long failed = reported.size() - ok;
            long failedApplied = 0;
            List<String> lost = new ArrayList<>();
            for (Map.Entry<String, String> e : reported.entrySet()) {
                String child = e.getKey().substring(base.length() + 1);
                boolean present = onA.contains(child) || onB.contains(child);
                if (e.getValue().equals("ok") && !present) {
                    lost.add(e.getKey());
                } else if (!e.getValue().equals("ok") && present) {
                    failedApplied++;
                }
            }
            System.out.println("review23 history with kill: calls=" + reported.size() + " ok=" + ok + " failed="
                    + failed + " failedButApplied=" + failedApplied + " onA=" + onA.size() + " onB=" + onB.size());
            assertThat(both).as("applied on both ensembles").isEmpty();
            assertThat(lost).as("reported ok, on neither ensemble").isEmpty();
            assertThat(failed).as("B's calls failed while it was down").isPositive();
            assertThat(onA.size() + onB.size())
                    .as("nothing applied that no call made")
                    .isEqualTo((int) (ok + failedApplied));
        }
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Two chroots on one server, default aliases: can the pool's own outputs tell them apart?

    @Test
    void twoChrootsOnOneServerAreToldApartByTheirNames() throws Exception {
        // Found by this review: two chroots on one server got one default alias, so routes(), ensembles(), meters and
        // the cross-ensemble refusal named both the same. Such a table is now refused, naming the alias and the
        // setting; with an alias each, they are told apart.
        createRaw(rawA, "/r23x1");
        createRaw(rawA, "/r23x2");
        EnsembleConfig c1 = EnsembleConfig.of(ensembleA.connectString() + "/r23x1");
        EnsembleConfig c2 = EnsembleConfig.of(ensembleA.connectString() + "/r23x2");
        assertThat(c1.alias()).isEqualTo(c2.alias());
        assertThatThrownBy(() -> ZkSessionPool.builder()
                        .name("review23-aliases")
                        .route("/", c1)
                        .route("/p", c2)
                        .build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'" + c1.alias() + "'")
                .hasMessageContaining("EnsembleConfig.Builder.alias");
        EnsembleConfig named1 = config(ensembleA.connectString() + "/r23x1", "x1");
        EnsembleConfig named2 = config(ensembleA.connectString() + "/r23x2", "x2");
        pool = ZkSessionPool.builder()
                .name("review23-aliases")
                .route("/", named1)
                .route("/p", named2)
                .build();
        assertThatThrownBy(() -> pool.routes().route("/q", config(ensembleA.connectString() + "/r23x3", "x1")))
                .as("a runtime route to an ensemble with the alias of another")
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'x1'");
        String message;
        try (ZkLease lease = pool.lease()) {
            lease.exists("/");
            lease.exists("/p");
            try {
                lease.multi(List.of(create("/p/x"), create("/y")));
                message = "not refused";
            } catch (IllegalArgumentException e) {
                message = e.getMessage();
            }
        }
        assertThat(message).contains("'x1'").contains("'x2'");
        assertThat(pool.ensembles().stream().map(e -> e.name()).toList()).containsExactlyInAnyOrder("x1", "x2");
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Many threads using a fresh routed lease's ensembles at once: one ensemble lease each, kept and closed

    @Test
    void racingFirstUsesTakeExactlyOneLeasePerEnsemble() throws Exception {
        pool = pool("review23-race");
        createRaw(rawB, "/b");
        ExecutorService racers = threads(16);
        for (int round = 0; round < 20; round++) {
            ZkLease lease = pool.lease();
            CountDownLatch go = new CountDownLatch(1);
            List<Future<Long>> fs = new ArrayList<>();
            for (int t = 0; t < 16; t++) {
                String path = t % 2 == 0 ? "/b" : "/";
                fs.add(racers.submit(() -> {
                    go.await();
                    lease.exists(path);
                    return lease.sessionId(path);
                }));
            }
            go.countDown();
            java.util.Set<Long> sessions = new java.util.HashSet<>();
            for (Future<Long> f : fs) {
                sessions.add(f.get(30, TimeUnit.SECONDS));
            }
            assertThat(sessions).as("round %s: one session per ensemble", round).hasSize(2);
            assertThat(pool.stats().activeLeases())
                    .as("round %s: one lease per ensemble", round)
                    .isEqualTo(2);
            lease.close();
            assertThat(pool.stats().activeLeases()).isZero();
        }
    }

    // ---------------------------------------------------------------------------------------------------------------
    // A watch held across a move stays on the old ensemble, as documented; a new one follows the table

    @Test
    void aWatchHeldAcrossAMoveHearsOnlyTheOldEnsembleAndANewOneTheNew() throws Exception {
        pool = pool("review23-watchmove");
        String p = "/r23wm" + System.nanoTime();
        createRaw(rawA, p);
        createRaw(rawB, p);
        pool.routes().route(p, configA);
        List<WatchEvent> old = new CopyOnWriteArrayList<>();
        List<WatchEvent> fresh = new CopyOnWriteArrayList<>();
        try (ZkLease lease = pool.lease();
                WatchHandle before = lease.watchTree(p, old::add)) {
            pool.routes().route(p, configB);
            try (WatchHandle after = lease.watchTree(p, fresh::add)) {
                lease.create(p + "/via-lease", DATA, CreateMode.PERSISTENT); // now on B
                rawA.zk().create(p + "/on-a", DATA, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
                await().atMost(Duration.ofSeconds(20))
                        .until(() -> old.contains(new WatchEvent(WatchEvent.Type.CREATED, p + "/on-a"))
                                && fresh.contains(new WatchEvent(WatchEvent.Type.CREATED, p + "/via-lease")));
                assertThat(stat(rawB, p + "/via-lease")).isNotNull();
                assertThat(stat(rawA, p + "/via-lease")).isNull();
                assertThat(old).doesNotContain(new WatchEvent(WatchEvent.Type.CREATED, p + "/via-lease"));
                assertThat(fresh).doesNotContain(new WatchEvent(WatchEvent.Type.CREATED, p + "/on-a"));
            }
        }
    }

    // ---------------------------------------------------------------------------------------------------------------
    // B killed past its session timeout, then B's session expired: A's lock, election, ephemeral and watch never notice

    @Test
    void bKilledPastItsSessionTimeoutAndThenExpiredLeavesAsTurnsEphemeralsAndWatchesUntouched() throws Exception {
        pool = pool("review23-turns");
        createRaw(rawA, "/r23t");
        createRaw(rawB, "/b");
        ServerProcess serverB = ensembleB.server(1);
        List<String> lostOnA = new CopyOnWriteArrayList<>();
        List<WatchEvent> watchA = new CopyOnWriteArrayList<>();
        LeadershipListener tellLoss = new LeadershipListener() {
            @Override
            public void onLost(FencingToken token, dev.zksdk.SessionState cause) {
                lostOnA.add(token.epochPath() + " " + cause);
            }
        };
        try (ZkLease lease = pool.lease()) {
            long sessionA = lease.sessionId("/r23t");
            long sessionB = lease.sessionId("/b");
            ZkLock lock = lease.lock("/r23t/lock", tellLoss);
            FencingToken lockToken = lock.acquire(Duration.ofSeconds(10));
            ZkLeadership election = lease.leaderElection("/r23t/elect", tellLoss);
            await().atMost(Duration.ofSeconds(20)).until(election::isLeader);
            EphemeralNode ephA = lease.ephemeral("/r23t/eph", DATA);
            EphemeralNode ephB = lease.ephemeral("/b/r23t-eph", DATA);
            WatchHandle w = lease.watch("/r23t/w", watchA::add);
            try {
                serverB.kill9();
                try {
                    // Past B's session timeout (10 s): B's sessions are lost on the client.
                    await().pollDelay(Duration.ofSeconds(14))
                            .atMost(Duration.ofSeconds(15))
                            .until(() -> true);
                    assertThat(lostOnA).as("turns lost on A while B was down").isEmpty();
                    assertThat(lock.isHeld()).isTrue();
                    assertThat(election.isLeader()).isTrue();
                    assertThat(lease.sessionId("/r23t")).isEqualTo(sessionA);
                    lease.fenced(lockToken).create("/r23t/fenced-while-b-down", DATA, CreateMode.PERSISTENT);
                    lease.fenced(election.token()).setData("/r23t/fenced-while-b-down", DATA, -1);
                    rawA.zk().create("/r23t/w", DATA, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
                    await().atMost(Duration.ofSeconds(5)).until(() -> !watchA.isEmpty());
                    assertThat(stat(rawA, "/r23t/eph").getEphemeralOwner()).isEqualTo(sessionA);
                } finally {
                    serverB.restart();
                    serverB.awaitServing(Duration.ofSeconds(60));
                }
                await().atMost(Duration.ofSeconds(60))
                        .ignoreExceptionsInstanceOf(ZkException.class)
                        .until(() -> lease.exists("/b") != null);
                long newB = lease.sessionId("/b");
                // Now expire B's session with the server's own expiry.
                org.apache.zookeeper.ZooKeeper zkB =
                        lease.curator("/b").getZookeeperClient().getZooKeeper();
                dev.zksdk.testing.ForcedExpiry.expireSession(
                        ensembleB.connectString(), zkB.getSessionId(), zkB.getSessionPasswd());
                await().atMost(Duration.ofSeconds(60))
                        .ignoreExceptionsInstanceOf(ZkException.class)
                        .until(() -> lease.sessionId("/b") != newB && ephB.isPresent());
                RawZooKeeper freshB = RawZooKeeper.connect(ensembleB.connectString(), SESSION_TIMEOUT);
                try (freshB) {
                    await().atMost(Duration.ofSeconds(30))
                            .until(() -> stat(freshB, "/b/r23t-eph") != null
                                    && stat(freshB, "/b/r23t-eph").getEphemeralOwner() == lease.sessionId("/b"));
                }
                assertThat(sessionB).isNotEqualTo(lease.sessionId("/b"));
                assertThat(lostOnA)
                        .as("turns lost on A through B's outage and expiry")
                        .isEmpty();
                assertThat(lock.isHeld()).isTrue();
                assertThat(election.isLeader()).isTrue();
                assertThat(lease.sessionId("/r23t")).isEqualTo(sessionA);
                lease.fenced(lockToken).delete("/r23t/fenced-while-b-down", -1);
            } finally {
                w.close();
                ephA.close();
                ephB.close();
                election.close();
                lock.close();
                try {
                    rawA.zk().delete("/r23t/w", -1);
                } catch (KeeperException.NoNodeException e) {
                    // not made
                }
            }
        }
    }

    // ---------------------------------------------------------------------------------------------------------------
    // A sequential create whose path is a route's prefix: the node made is not under that prefix

    // Found by this review (a node made outside its route, then NoNode through the same lease); a sequential create is
    // now routed by its parent, where the node it makes belongs.
    @Test
    void aSequentialCreateAtARoutePrefixIsReadableThroughTheSameLease() throws Exception {
        pool = pool("review23-seq");
        createRaw(rawB, "/b");
        pool.routes().route("/b/q", configA); // "/" and "/b/q" on A, "/b" on B
        List<String> where = new ArrayList<>();
        try (ZkLease lease = pool.lease()) {
            // The parent /b is on B, where every node under /b but /b/q[/...] belongs.
            try {
                String first = lease.create("/b/q", DATA, CreateMode.PERSISTENT_SEQUENTIAL);
                where.add("first create made " + first);
            } catch (ZkException e) {
                where.add("first create (parent /b on B only): " + e.getClass().getSimpleName() + " " + e.code());
            }
            createRaw(rawA, "/b"); // a parent on A too (say, left by a migration)
            String made = lease.create("/b/q", DATA, CreateMode.PERSISTENT_SEQUENTIAL);
            where.add("made " + made + " owned by route "
                    + pool.routes().ensembleFor(made).alias() + "; on A: " + (stat(rawA, made) != null) + ", on B: "
                    + (stat(rawB, made) != null));
            String read;
            try {
                read = new String(lease.getData(made), UTF_8);
            } catch (ZkException e) {
                read = e.getClass().getSimpleName() + " " + e.code();
            }
            where.add("getData(" + made + ") through the same lease: " + read);
            System.out.println("review23 sequential: " + where);
            assertThat(stat(rawA, made) != null ? configA : configB)
                    .as("the ensemble holding %s is the one its path routes to", made)
                    .isEqualTo(pool.routes().ensembleFor(made));
            assertThat(lease.getData(made)).isEqualTo(DATA);
        }
    }

    // ---------------------------------------------------------------------------------------------------------------
    // A tree watch, tree cache or getChildren above a routed prefix: what the same lease wrote under it

    /**
     * Found by this review, undocumented then, documented since (README, routing: "a read, watch or cache sees the
     * ensemble of its own path"): a tree cache, tree watch or getChildren on a path above a routed prefix sees only its
     * own ensemble, so what the same lease wrote under the prefix, on another ensemble, is not in it.
     */
    @Test
    void aTreeCacheAboveARoutedPrefixSeesOnlyItsOwnEnsemble() throws Exception {
        pool = pool("review23-above");
        String t = "/r23up" + System.nanoTime();
        createRaw(rawA, t);
        createRaw(rawB, t);
        createRaw(rawB, t + "/sub");
        pool.routes().route(t + "/sub", configB); // t on A (the default route), t/sub on B
        List<WatchEvent> tree = new CopyOnWriteArrayList<>();
        try (ZkLease lease = pool.lease();
                ZkTreeCache cache = lease.treeCache(t);
                WatchHandle w = lease.watchTree(t, tree::add)) {
            lease.create(t + "/sub/x", DATA, CreateMode.PERSISTENT);
            lease.create(t + "/y", DATA, CreateMode.PERSISTENT);
            await().atMost(Duration.ofSeconds(20)).until(() -> cache.get(t + "/y") != null);
            await().atMost(Duration.ofSeconds(20))
                    .until(() -> tree.contains(new WatchEvent(WatchEvent.Type.CREATED, t + "/y")));
            assertThat(lease.getData(t + "/sub/x"))
                    .as("read by its own path, on B")
                    .isEqualTo(DATA);
            assertThat(stat(rawB, t + "/sub/x")).isNotNull();
            assertThat(stat(rawA, t + "/sub/x")).isNull();
            assertThat(cache.get(t + "/sub/x")).as("tree cache of %s, on A", t).isNull();
            assertThat(lease.getChildren(t)).as("children of %s, on A", t).containsExactly("y");
            assertThat(tree)
                    .as("tree watch of %s, on A", t)
                    .doesNotContain(new WatchEvent(WatchEvent.Type.CREATED, t + "/sub/x"));
        }
    }

    // ---------------------------------------------------------------------------------------------------------------
    // The lookup against a brute-force longest-prefix match: random tables, colliding hash codes, runtime changes

    @Test
    void lookupsMatchABruteForceLongestPrefixThroughRandomChanges() {
        // "Aa" and "BB" have the same String.hashCode(), and so do their concatenations.
        String[] segments = {"Aa", "BB", "a", "b", "ab", "é", "x-y", "AaAa", "BBBB", "AaBB", "BBAa", "0"};
        EnsembleConfig[] configs = new EnsembleConfig[6];
        for (int i = 0; i < configs.length; i++) {
            configs[i] = config(ensembleA.connectString(), "e" + i);
        }
        java.util.Random random = new java.util.Random(23);
        pool = ZkSessionPool.builder()
                .name("review23-lookup")
                .route("/", configs[0])
                .build(); // opens nothing
        ZkRoutes routes = pool.routes();
        java.util.TreeMap<String, EnsembleConfig> reference = new java.util.TreeMap<>();
        reference.put("/", configs[0]);
        int checked = 0;
        for (int change = 0; change < 400; change++) {
            String prefix = randomPath(random, segments, 1 + random.nextInt(4));
            if (random.nextInt(4) == 0 && reference.size() > 1) {
                List<String> keys = new ArrayList<>(reference.keySet());
                keys.remove("/");
                String gone = keys.get(random.nextInt(keys.size()));
                assertThat(routes.remove(gone)).isTrue();
                reference.remove(gone);
            } else {
                EnsembleConfig c = configs[random.nextInt(configs.length)];
                routes.route(prefix, c);
                reference.put(prefix, c);
            }
            assertThat(routes.table()).isEqualTo(reference);
            for (int q = 0; q < 60; q++) {
                String path = randomPath(random, segments, 1 + random.nextInt(6));
                EnsembleConfig expected = reference.get("/");
                int best = 0;
                for (Map.Entry<String, EnsembleConfig> e : reference.entrySet()) {
                    String p = e.getKey();
                    if (!p.equals("/") && (path.equals(p) || path.startsWith(p + "/")) && p.length() > best) {
                        best = p.length();
                        expected = e.getValue();
                    }
                }
                assertThat(routes.ensembleFor(path))
                        .as("%s in %s", path, reference)
                        .isEqualTo(expected);
                checked++;
            }
        }
        assertThat(checked).isEqualTo(24_000);
        assertThat(pool.ensembles()).as("no ensemble opened by lookups").isEmpty();
    }

    private static String randomPath(java.util.Random random, String[] segments, int depth) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < depth; i++) {
            b.append('/').append(segments[random.nextInt(segments.length)]);
        }
        return b.toString();
    }
}
