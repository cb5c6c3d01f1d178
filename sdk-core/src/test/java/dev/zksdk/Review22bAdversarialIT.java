package dev.zksdk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.awaitility.Awaitility.await;

import dev.zksdk.metrics.MetricNames;
import dev.zksdk.metrics.micrometer.MicrometerMetricsTrackerFactory;
import dev.zksdk.testing.ForcedExpiry;
import dev.zksdk.testing.InProcessEnsembles;
import dev.zksdk.testing.ProcessEnsemble;
import dev.zksdk.testing.RawZooKeeper;
import dev.zksdk.testing.ZkProxy;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.curator.test.TestingServer;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.Op;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.data.ACL;
import org.apache.zookeeper.data.Stat;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Review 22b: batched asynchronous operations attacked as a user (histories checked against the server, per-lease
 * order, same node in one batch, sequential creates, expiry/freeze during batches, near jute.maxbuffer, cancelled
 * futures, re-entrant callbacks, close with queued batches, 3.4 servers, ACL failures, watches).
 */
class Review22bAdversarialIT {

    static final Duration WAIT = Duration.ofSeconds(90);

    TestingServer server;
    ZkProxy proxy;
    RawZooKeeper observer;
    SimpleMeterRegistry registry = new SimpleMeterRegistry();

    @BeforeEach
    void start() throws Exception {
        server = InProcessEnsembles.startServer();
        proxy = ZkProxy.to(server.getConnectString());
        observer = RawZooKeeper.connect(server.getConnectString(), Duration.ofSeconds(30));
    }

    @AfterEach
    void stop() throws Exception {
        observer.close();
        proxy.close();
        server.close();
    }

    private ZkSessionPool pool(String connect, BatchingConfig batching, int sessions) {
        return ZkSessionPool.builder()
                .connectString(connect)
                .sessionTimeout(Duration.ofSeconds(20))
                .connectionTimeout(Duration.ofSeconds(5))
                .sessionsPerEnsemble(sessions)
                .asyncBatching(batching)
                .operationPolicy(OperationPolicy.builder()
                        .operationTimeout(Duration.ofSeconds(10))
                        .maxInFlight(20_000)
                        .breakerFailureRateThreshold(100f)
                        .build())
                .metricsTrackerFactory(new MicrometerMetricsTrackerFactory(registry))
                .build();
    }

    private DistributionSummary batches(String kind) {
        return registry.find(MetricNames.BATCHES)
                .tag(MetricNames.TAG_KIND, kind)
                .summary();
    }

    static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static String text(byte[] b) {
        return b == null ? null : new String(b, StandardCharsets.UTF_8);
    }

    static Throwable unwrap(Throwable e) {
        while (e instanceof CompletionException && e.getCause() != null) {
            e = e.getCause();
        }
        return e;
    }

    static boolean unknown(Throwable e) {
        return e instanceof ZkConnectionLossException && ((ZkConnectionLossException) e).outcomeUnknown();
    }

    /** Waits for every future; returns each one's error (null when ok). */
    static Map<String, Throwable> outcomes(Map<String, CompletableFuture<?>> calls) {
        CompletableFuture.allOf(calls.values().stream()
                        .map(f -> f.handle((v, e) -> null))
                        .toArray(CompletableFuture[]::new))
                .orTimeout(WAIT.toMillis(), TimeUnit.MILLISECONDS)
                .join();
        Map<String, Throwable> out = new LinkedHashMap<>();
        calls.forEach((k, f) -> {
            Throwable[] t = new Throwable[1];
            f.handle((v, e) -> t[0] = e == null ? null : unwrap(e)).join();
            out.put(k, t[0]);
        });
        return out;
    }

    private void mk(String path) throws Exception {
        observer.zk().create(path, new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
    }

    private void awaitReadBatching(ZkLease lease, String path) {
        await().atMost(WAIT).until(() -> {
            List<CompletableFuture<byte[]>> reads = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                reads.add(lease.getDataAsync(path));
            }
            CompletableFuture.allOf(reads.toArray(CompletableFuture[]::new)).join();
            return batches("read") != null;
        });
    }

    /**
     * History: 4 threads, each on its own lease (2 sessions), issue unawaited async create / versioned setData chain /
     * unversioned setData / getData / getChildren / delete / multi with designed failures. Each lease's chain of
     * versioned setData must all succeed (applied in issue order), each read sees the writes issued before it, every
     * designed failure fails only its caller, and the server holds exactly what was reported.
     */
    @Test
    void historyOfManyLeasesMatchesTheServerAndEachLeaseKeepsItsOrder() throws Exception {
        mk("/h");
        mk("/h/exists");
        int leases = 4;
        int keys = 25;
        int chain = 8;
        Map<String, CompletableFuture<?>> calls = new ConcurrentHashMap<>();
        try (ZkSessionPool pool = pool(server.getConnectString(), BatchingConfig.of(1000), 2)) {
            List<ZkLease> held = new ArrayList<>();
            for (int l = 0; l < leases; l++) {
                held.add(pool.lease());
            }
            awaitReadBatching(held.get(0), "/h");
            List<Thread> threads = new ArrayList<>();
            for (int l = 0; l < leases; l++) {
                ZkLease lease = held.get(l);
                int n = l;
                Thread t = new Thread(() -> {
                    for (int k = 0; k < keys; k++) {
                        String p = "/h/k-" + n + "-" + k;
                        calls.put("ok create " + p, lease.createAsync(p, bytes("v0"), CreateMode.PERSISTENT));
                        calls.put(
                                "fail exists " + p, lease.createAsync("/h/exists", bytes("x"), CreateMode.PERSISTENT));
                        for (int v = 0; v < chain; v++) {
                            calls.put("ok set " + p + " " + v, lease.setDataAsync(p, bytes("v" + (v + 1)), v));
                            if (v == chain / 2) {
                                calls.put("fail badversion " + p, lease.setDataAsync(p, bytes("bad"), 99));
                                calls.put("read " + p + " " + (v + 1), lease.getDataAsync(p));
                            }
                        }
                        calls.put("ok setany " + p, lease.setDataAsync(p, bytes("final"), -1));
                        calls.put("readfinal " + p, lease.getNodeAsync(p));
                        calls.put("children " + p, lease.getChildrenAsync(p));
                        calls.put("fail nonode " + p, lease.deleteAsync(p + "/none", -1));
                        calls.put(
                                "fail multi " + p,
                                lease.multiAsync(List.of(
                                        Op.create(
                                                p + "/m-bad",
                                                new byte[0],
                                                ZooDefs.Ids.OPEN_ACL_UNSAFE,
                                                CreateMode.PERSISTENT),
                                        Op.check(p, 1234))));
                        calls.put(
                                "ok multi " + p,
                                lease.multiAsync(List.of(Op.create(
                                        p + "/m-ok",
                                        new byte[0],
                                        ZooDefs.Ids.OPEN_ACL_UNSAFE,
                                        CreateMode.PERSISTENT))));
                        if (k % 2 == 0) {
                            calls.put("ok delete " + p + "/m-ok", lease.deleteAsync(p + "/m-ok", 0));
                            calls.put("gone " + p + "/m-ok", lease.getDataAsync(p + "/m-ok"));
                        }
                    }
                });
                t.start();
                threads.add(t);
            }
            for (Thread t : threads) {
                t.join();
            }
            Map<String, Throwable> out = outcomes(calls);
            held.forEach(ZkLease::close);
            ZooKeeper zk = observer.zk();
            List<String> problems = new ArrayList<>();
            for (Map.Entry<String, Throwable> e : out.entrySet()) {
                String k = e.getKey();
                Throwable err = e.getValue();
                CompletableFuture<?> f = calls.get(k);
                if (k.startsWith("ok ") && err != null) {
                    problems.add(k + " -> " + err);
                } else if (k.startsWith("fail ") && err == null) {
                    problems.add(k + " succeeded");
                } else if (k.startsWith("read ")) {
                    String[] w = k.split(" ");
                    if (err != null || !text((byte[]) f.join()).equals("v" + w[2])) {
                        problems.add(k + " -> " + (err != null ? err : text((byte[]) f.join())));
                    }
                } else if (k.startsWith("readfinal ")) {
                    if (err != null || !text(((NodeData) f.join()).data()).equals("final")) {
                        problems.add(k + " -> " + (err != null ? err : text(((NodeData) f.join()).data())));
                    }
                } else if (k.startsWith("gone ") && !(err instanceof ZkNoNodeException)) {
                    problems.add(k + " -> " + err);
                }
            }
            for (int l = 0; l < leases; l++) {
                for (int k = 0; k < keys; k++) {
                    String p = "/h/k-" + l + "-" + k;
                    Stat st = new Stat();
                    String d = text(zk.getData(p, false, st));
                    if (!"final".equals(d) || st.getVersion() != chain + 1) {
                        problems.add(p + " on server: " + d + " v" + st.getVersion());
                    }
                    if (zk.exists(p + "/m-bad", false) != null) {
                        problems.add(p + "/m-bad exists");
                    }
                    if ((zk.exists(p + "/m-ok", false) != null) != (k % 2 != 0)) {
                        problems.add(p + "/m-ok wrong");
                    }
                }
            }
            System.out.printf(
                    "history: %d calls, %d problems, write batches %d (max %.0f), read batches %s%n",
                    out.size(),
                    problems.size(),
                    (long) batches("write").count(),
                    batches("write").max(),
                    batches("read") == null ? "none" : (long) batches("read").count());
            assertThat(problems)
                    .as("first: %s", problems.stream().limit(10).toList())
                    .isEmpty();
        }
    }

    /** One session, two leases: lease B's read issued after lease A's async create (unawaited) sees it. */
    @Test
    void aReadOfAnotherLeaseOnTheSameSessionIssuedAfterAWriteSeesIt() throws Exception {
        mk("/x");
        try (ZkSessionPool pool = pool(server.getConnectString(), BatchingConfig.of(128), 1);
                ZkLease a = pool.lease();
                ZkLease b = pool.lease()) {
            assertThat(a.sessionId()).isEqualTo(b.sessionId());
            awaitReadBatching(b, "/x");
            Map<String, CompletableFuture<?>> calls = new LinkedHashMap<>();
            for (int i = 0; i < 300; i++) {
                String p = "/x/n-" + i;
                calls.put("create " + p, a.createAsync(p, bytes("d" + i), CreateMode.PERSISTENT));
                calls.put("read " + p, b.getDataAsync(p));
                calls.put("set " + p, b.setDataAsync(p, bytes("e" + i), 0));
                calls.put("node " + p, a.getNodeAsync(p));
            }
            Map<String, Throwable> out = outcomes(calls);
            List<String> problems = new ArrayList<>();
            out.forEach((k, e) -> {
                if (e != null) {
                    problems.add(k + " -> " + e);
                }
            });
            for (int i = 0; i < 300; i++) {
                String p = "/x/n-" + i;
                if (out.get("read " + p) == null
                        && !text((byte[]) calls.get("read " + p).join()).equals("d" + i)) {
                    problems.add("read " + p + " saw "
                            + text((byte[]) calls.get("read " + p).join()));
                }
                if (out.get("node " + p) == null
                        && !text(((NodeData) calls.get("node " + p).join()).data())
                                .equals("e" + i)) {
                    problems.add("node " + p + " saw "
                            + text(((NodeData) calls.get("node " + p).join()).data()));
                }
            }
            assertThat(problems)
                    .as("first: %s", problems.stream().limit(10).toList())
                    .isEmpty();
        }
    }

    /** create, setData, delete, create again, read of one node, queued together behind one in flight. */
    @Test
    void oneNodeCreatedChangedDeletedAndCreatedAgainInOneBatch() throws Exception {
        mk("/s");
        try (ZkSessionPool pool = pool(server.getConnectString(), BatchingConfig.of(256), 1);
                ZkLease lease = pool.lease()) {
            awaitReadBatching(lease, "/s");
            for (int round = 0; round < 30; round++) {
                String p = "/s/n-" + round;
                Map<String, CompletableFuture<?>> calls = new LinkedHashMap<>();
                calls.put("warm", lease.createAsync(p + "-warm", new byte[0], CreateMode.PERSISTENT));
                calls.put("create1", lease.createAsync(p, bytes("a"), CreateMode.PERSISTENT));
                calls.put("create-dup", lease.createAsync(p, bytes("dup"), CreateMode.PERSISTENT));
                calls.put("set", lease.setDataAsync(p, bytes("b"), 0));
                calls.put("read-b", lease.getDataAsync(p));
                calls.put("delete", lease.deleteAsync(p, 1));
                calls.put("read-gone", lease.getDataAsync(p));
                calls.put("set-gone", lease.setDataAsync(p, bytes("c"), -1));
                calls.put("create2", lease.createAsync(p, bytes("d"), CreateMode.PERSISTENT));
                calls.put("read-d", lease.getNodeAsync(p));
                Map<String, Throwable> out = outcomes(calls);
                assertThat(out.get("warm")).isNull();
                assertThat(out.get("create1")).as(p).isNull();
                assertThat(out.get("create-dup")).as(p).isInstanceOf(ZkNodeExistsException.class);
                assertThat(out.get("set")).as(p).isNull();
                assertThat(text((byte[]) calls.get("read-b").join())).as(p).isEqualTo("b");
                assertThat(out.get("delete")).as(p).isNull();
                assertThat(out.get("read-gone")).as(p).isInstanceOf(ZkNoNodeException.class);
                assertThat(out.get("set-gone")).as(p).isInstanceOf(ZkNoNodeException.class);
                assertThat(out.get("create2")).as(p).isNull();
                NodeData nd = (NodeData) calls.get("read-d").join();
                assertThat(text(nd.data())).isEqualTo("d");
                assertThat(nd.stat().getVersion()).isZero();
                assertThat(text(observer.zk().getData(p, false, null))).isEqualTo("d");
            }
        }
    }

    /** Sequential creates (not batched) among batched creates: each caller's returned path holds its own data. */
    @Test
    void sequentialCreatesAmongBatchesReturnEachCallersOwnPath() throws Exception {
        mk("/q");
        Map<String, CompletableFuture<String>> seq = new ConcurrentHashMap<>();
        Map<String, CompletableFuture<?>> all = new ConcurrentHashMap<>();
        try (ZkSessionPool pool = pool(server.getConnectString(), BatchingConfig.of(64), 1)) {
            List<Thread> threads = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                int n = t;
                ZkLease lease = pool.lease();
                Thread th = new Thread(() -> {
                    for (int i = 0; i < 150; i++) {
                        String id = n + "-" + i;
                        CompletableFuture<String> f =
                                lease.createAsync("/q/s-", bytes(id), CreateMode.PERSISTENT_SEQUENTIAL);
                        seq.put(id, f);
                        all.put("seq " + id, f);
                        all.put("p " + id, lease.createAsync("/q/p-" + id, bytes(id), CreateMode.PERSISTENT));
                    }
                });
                th.start();
                threads.add(th);
            }
            for (Thread th : threads) {
                th.join();
            }
            Map<String, Throwable> out = outcomes(all);
            out.forEach((k, e) -> assertThat(e).as(k).isNull());
            Set<String> paths = new HashSet<>();
            for (Map.Entry<String, CompletableFuture<String>> e : seq.entrySet()) {
                String path = e.getValue().join();
                assertThat(paths.add(path)).as("%s returned twice", path).isTrue();
                assertThat(text(observer.zk().getData(path, false, null)))
                        .as("data at %s returned to %s", path, e.getKey())
                        .isEqualTo(e.getKey());
            }
            assertThat(observer.zk().getChildren("/q", false)).hasSize(1200);
        }
    }

    /**
     * Forced expiry of the session during a stream of batched creates (persistent and ephemeral): every ok persistent
     * create is on the server exactly once; a failed one (not unknown) is absent; an ephemeral reported created was
     * created (owned by the session that reported it, which may be gone).
     */
    @Test
    void expiryDuringAStreamOfBatchesLosesNothingSilently() throws Exception {
        mk("/e");
        Map<String, CompletableFuture<?>> calls = new ConcurrentHashMap<>();
        try (ZkSessionPool pool = pool(proxy.connectString(), BatchingConfig.of(64), 1);
                ZkLease lease = pool.lease()) {
            lease.sessionId();
            int expiries = 0;
            int i = 0;
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(8);
            long nextExpiry = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
            while (System.nanoTime() < end) {
                List<CompletableFuture<?>> window = new ArrayList<>();
                for (int j = 0; j < 100; j++, i++) {
                    String p = "/e/n-" + i;
                    CreateMode mode = i % 10 == 0 ? CreateMode.EPHEMERAL : CreateMode.PERSISTENT;
                    CompletableFuture<String> f = lease.createAsync(p, bytes(p), mode);
                    calls.put((mode == CreateMode.EPHEMERAL ? "E " : "P ") + p, f);
                    window.add(f);
                    if (j == 50 && System.nanoTime() > nextExpiry) {
                        ZooKeeper z = lease.curator().getZookeeperClient().getZooKeeper();
                        ForcedExpiry.expireSession(server.getConnectString(), z.getSessionId(), z.getSessionPasswd());
                        expiries++;
                        nextExpiry = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
                    }
                }
                CompletableFuture.allOf(window.toArray(CompletableFuture[]::new))
                        .handle((v, e) -> null)
                        .orTimeout(WAIT.toMillis(), TimeUnit.MILLISECONDS)
                        .join();
            }
            Map<String, Throwable> out = outcomes(calls);
            List<String> problems = new ArrayList<>();
            int ok = 0;
            int unk = 0;
            int failed = 0;
            Map<String, Integer> kinds = new java.util.TreeMap<>();
            for (Map.Entry<String, Throwable> e : out.entrySet()) {
                String p = e.getKey().substring(2);
                Throwable err = e.getValue();
                if (e.getKey().startsWith("P ")) {
                    Stat st = observer.zk().exists(p, false);
                    if (err == null) {
                        ok++;
                        if (st == null || st.getVersion() != 0) {
                            problems.add(p + " ok but " + st);
                        }
                    } else if (unknown(err)) {
                        unk++;
                    } else {
                        failed++;
                        kinds.merge(err.getClass().getSimpleName(), 1, Integer::sum);
                        if (st != null) {
                            problems.add(p + " failed (" + err + ") but exists");
                        }
                    }
                } else if (err != null && !(err instanceof ZkSessionExpiredException) && !unknown(err)) {
                    kinds.merge("E:" + err.getClass().getSimpleName(), 1, Integer::sum);
                    if (observer.zk().exists(p, false) != null) {
                        problems.add(p + " ephemeral failed (" + err + ") but exists");
                    }
                }
            }
            System.out.printf(
                    "expiry: %d expiries, %d ok, %d unknown, %d failed %s%n", expiries, ok, unk, failed, kinds);
            assertThat(expiries).isPositive();
            assertThat(problems)
                    .as("first: %s", problems.stream().limit(10).toList())
                    .isEmpty();
            assertThat(ok).isGreaterThan(100);
        }
    }

    /** A freeze longer than the operation timeout during a stream of batches: nothing hangs; ok ⇒ applied once. */
    @Test
    void aFreezeDuringBatchesEndsEveryFutureAndLiesAboutNothing() throws Exception {
        mk("/f");
        Map<String, CompletableFuture<?>> calls = new ConcurrentHashMap<>();
        try (ZkSessionPool pool = pool(proxy.connectString(), BatchingConfig.of(64), 1);
                ZkLease lease = pool.lease()) {
            lease.sessionId();
            for (int i = 0; i < 300; i++) {
                calls.put("/f/a-" + i, lease.createAsync("/f/a-" + i, bytes("a" + i), CreateMode.PERSISTENT));
            }
            proxy.freeze();
            for (int i = 0; i < 300; i++) {
                calls.put("/f/b-" + i, lease.createAsync("/f/b-" + i, bytes("b" + i), CreateMode.PERSISTENT));
            }
            long t0 = System.nanoTime();
            CompletableFuture.allOf(calls.values().stream()
                            .map(f -> f.handle((v, e) -> null))
                            .toArray(CompletableFuture[]::new))
                    .orTimeout(40, TimeUnit.SECONDS)
                    .handle((v, e) -> null)
                    .join();
            long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
            long pending = calls.values().stream().filter(f -> !f.isDone()).count();
            proxy.unfreeze();
            Map<String, Throwable> out = outcomes(calls);
            List<String> problems = new ArrayList<>();
            Map<String, Integer> kinds = new java.util.TreeMap<>();
            for (Map.Entry<String, Throwable> e : out.entrySet()) {
                Stat st = observer.zk().exists(e.getKey(), false);
                Throwable err = e.getValue();
                kinds.merge(
                        err == null
                                ? "ok"
                                : unknown(err) ? "unknown" : err.getClass().getSimpleName(),
                        1,
                        Integer::sum);
                if (err == null && st == null) {
                    problems.add(e.getKey() + " ok but absent");
                } else if (err != null && !unknown(err) && st != null) {
                    problems.add(e.getKey() + " failed (" + err + ") but exists");
                }
            }
            System.out.printf("freeze: all done after %d ms (pending at 40 s: %d) %s%n", ms, pending, kinds);
            assertThat(pending)
                    .as("futures still pending 40 s into a freeze (op timeout 10 s)")
                    .isZero();
            assertThat(problems)
                    .as("first: %s", problems.stream().limit(10).toList())
                    .isEmpty();
        }
    }

    /** An op over jute.maxbuffer fails fast and alone; ops of nearly the limit (each fits alone) are not refused. */
    @Test
    void nearAndOverJuteMaxbuffer() throws Exception {
        mk("/m");
        int limit = BatchingConfig.of(2).maxBytes();
        byte[] over = new byte[limit + 1];
        byte[] near = new byte[limit - 256];
        Arrays.fill(near, (byte) 'n');
        try (ZkSessionPool pool = pool(server.getConnectString(), BatchingConfig.of(256), 1);
                ZkLease lease = pool.lease()) {
            long session = lease.sessionId();
            Map<String, CompletableFuture<?>> calls = new LinkedHashMap<>();
            for (int i = 0; i < 4; i++) {
                calls.put("small-" + i, lease.createAsync("/m/s-" + i, bytes("s"), CreateMode.PERSISTENT));
                int n = i;
                Throwable refused = catchThrowable(() -> lease.createAsync("/m/o-" + n, over, CreateMode.PERSISTENT));
                assertThat(refused)
                        .as("over the limit: refused at the call")
                        .isInstanceOf(IllegalArgumentException.class);
                Throwable refusedSet = catchThrowable(() -> lease.setDataAsync("/m/s-" + n, over, -1));
                assertThat(refusedSet).isInstanceOf(IllegalArgumentException.class);
                calls.put("near-" + i, lease.createAsync("/m/n-" + i, near, CreateMode.PERSISTENT));
            }
            Map<String, Throwable> out = outcomes(calls);
            System.out.println("maxbuffer: limit " + limit + " " + out);
            for (int i = 0; i < 4; i++) {
                assertThat(out.get("small-" + i)).isNull();
                assertThat(observer.zk().exists("/m/o-" + i, false)).isNull();
                assertThat(out.get("near-" + i)).as("near-%d", i).isNull();
                assertThat(observer.zk().getData("/m/n-" + i, false, null)).isEqualTo(near);
            }
            assertThat(lease.sessionId()).isEqualTo(session);
        }
    }

    /** Cancelled and timed-out caller futures: neighbours unaffected, nothing hangs, the session stays usable. */
    @Test
    void cancellingOrTimingOutACallersFutureHurtsNoNeighbour() throws Exception {
        mk("/c");
        try (ZkSessionPool pool = pool(server.getConnectString(), BatchingConfig.of(64), 1);
                ZkLease lease = pool.lease()) {
            Map<String, CompletableFuture<?>> calls = new LinkedHashMap<>();
            List<CompletableFuture<?>> cancelled = new ArrayList<>();
            for (int i = 0; i < 600; i++) {
                CompletableFuture<String> f = lease.createAsync("/c/n-" + i, bytes("c" + i), CreateMode.PERSISTENT);
                if (i % 7 == 3) {
                    f.cancel(true);
                    cancelled.add(f);
                } else if (i % 7 == 5) {
                    f.orTimeout(1, TimeUnit.NANOSECONDS);
                } else {
                    calls.put("/c/n-" + i, f);
                }
            }
            Map<String, Throwable> out = outcomes(calls);
            out.forEach((k, e) -> assertThat(e).as(k).isNull());
            for (String p : out.keySet()) {
                assertThat(observer.zk().exists(p, false)).as(p).isNotNull();
            }
            assertThat(cancelled).allMatch(CompletableFuture::isCancelled);
            // Still usable afterwards, in order.
            assertThat(lease.createAsync("/c/after", bytes("z"), CreateMode.PERSISTENT)
                            .thenCompose(p -> lease.getDataAsync(p))
                            .get(30, TimeUnit.SECONDS))
                    .isEqualTo(bytes("z"));
        }
    }

    /** thenApply stages (on completion threads) that call the SDK synchronously and asynchronously: nothing deadlocks. */
    @Test
    void callbacksThatCallBackIntoTheSdkDoNotDeadlock() throws Exception {
        mk("/cb");
        try (ZkSessionPool pool = pool(server.getConnectString(), BatchingConfig.of(64), 1);
                ZkLease lease = pool.lease()) {
            List<CompletableFuture<String>> chains = new ArrayList<>();
            for (int i = 0; i < 400; i++) {
                String p = "/cb/n-" + i;
                chains.add(lease.createAsync(p, bytes("a"), CreateMode.PERSISTENT)
                        .thenApply(x -> {
                            lease.setData(x, bytes("b"), 0); // synchronous, from a completion thread
                            return text(lease.getData(x));
                        })
                        .thenCompose(
                                d -> lease.setDataAsync(p, bytes(d + "c"), 1).thenApply(st -> text(lease.getData(p)))));
            }
            CompletableFuture<Void> all = CompletableFuture.allOf(chains.toArray(CompletableFuture[]::new));
            all.orTimeout(WAIT.toMillis(), TimeUnit.MILLISECONDS)
                    .handle((v, e) -> null)
                    .join();
            long stuck = chains.stream().filter(f -> !f.isDone()).count();
            assertThat(stuck).as("chains not done after %s", WAIT).isZero();
            for (CompletableFuture<String> c : chains) {
                assertThat(c.join()).isEqualTo("bc");
            }
        }
    }

    /** Close of a lease, then of the pool, with batches queued: every future completes and none lies. */
    @Test
    void closeWithBatchesQueuedCompletesEveryFutureTruthfully() throws Exception {
        mk("/z");
        Map<String, CompletableFuture<?>> calls = new ConcurrentHashMap<>();
        ZkSessionPool pool = pool(server.getConnectString(), BatchingConfig.of(64), 1);
        ZkLease a = pool.lease();
        ZkLease b = pool.lease();
        a.sessionId();
        for (int i = 0; i < 2000; i++) {
            calls.put("/z/a-" + i, a.createAsync("/z/a-" + i, bytes("a"), CreateMode.PERSISTENT));
            calls.put("/z/b-" + i, b.createAsync("/z/b-" + i, bytes("b"), CreateMode.PERSISTENT));
        }
        a.close();
        for (int i = 2000; i < 3000; i++) {
            calls.put("/z/b-" + i, b.createAsync("/z/b-" + i, bytes("b"), CreateMode.PERSISTENT));
        }
        pool.close();
        Map<String, Throwable> out = outcomes(calls);
        List<String> problems = new ArrayList<>();
        Map<String, Integer> kinds = new java.util.TreeMap<>();
        for (Map.Entry<String, Throwable> e : out.entrySet()) {
            Throwable err = e.getValue();
            kinds.merge(
                    err == null
                            ? "ok"
                            : unknown(err) ? "unknown" : err.getClass().getSimpleName(),
                    1,
                    Integer::sum);
            boolean exists = observer.zk().exists(e.getKey(), false) != null;
            if (err == null && !exists) {
                problems.add(e.getKey() + " ok but absent");
            } else if (err != null && !unknown(err) && exists) {
                problems.add(e.getKey() + " failed (" + err + ") but exists");
            }
        }
        System.out.println("close: " + kinds);
        assertThat(problems)
                .as("first: %s", problems.stream().limit(10).toList())
                .isEmpty();
    }

    /** A 3.4 server: writes batch, reads go alone, the session stays; each read sees the writes before it. */
    @Test
    void on34ServersWritesBatchAndReadsFallBack() throws Exception {
        try (ProcessEnsemble old = ProcessEnsemble.builder()
                        .size(1)
                        .serverVersion("3.4.14")
                        .start();
                ZkSessionPool pool = pool(old.connectString(), BatchingConfig.of(128), 1);
                ZkLease lease = pool.lease()) {
            long session = lease.sessionId();
            lease.create("/r", new byte[0], CreateMode.PERSISTENT);
            Map<String, CompletableFuture<?>> calls = new LinkedHashMap<>();
            for (int i = 0; i < 200; i++) {
                String p = "/r/n-" + i;
                calls.put("create " + p, lease.createAsync(p, bytes("d" + i), CreateMode.PERSISTENT));
                calls.put("set " + p, lease.setDataAsync(p, bytes("e" + i), 0));
                calls.put("read " + p, lease.getDataAsync(p));
                calls.put("children " + p, lease.getChildrenAsync(p));
                calls.put("missing " + p, lease.getNodeAsync(p + "/x"));
            }
            Map<String, Throwable> out = outcomes(calls);
            for (int i = 0; i < 200; i++) {
                String p = "/r/n-" + i;
                assertThat(out.get("create " + p)).as(p).isNull();
                assertThat(out.get("set " + p)).as(p).isNull();
                assertThat(out.get("read " + p)).as(p).isNull();
                assertThat(text((byte[]) calls.get("read " + p).join())).isEqualTo("e" + i);
                assertThat(out.get("children " + p)).isNull();
                assertThat(out.get("missing " + p)).isInstanceOf(ZkNoNodeException.class);
            }
            assertThat(batches("write").count()).isPositive();
            assertThat(batches("read")).isNull();
            assertThat(lease.sessionId()).isEqualTo(session);
        }
    }

    /** A NOAUTH inside a batch fails only its caller, as ZkAuthException naming its path. */
    @Test
    void anAclFailureInsideABatchFailsOnlyItsCaller() throws Exception {
        List<ACL> readOnly = ZooDefs.Ids.READ_ACL_UNSAFE;
        observer.zk().create("/ro", bytes("ro"), readOnly, CreateMode.PERSISTENT);
        mk("/w");
        try (ZkSessionPool pool = pool(server.getConnectString(), BatchingConfig.of(64), 1);
                ZkLease lease = pool.lease()) {
            awaitReadBatching(lease, "/ro");
            Map<String, CompletableFuture<?>> calls = new LinkedHashMap<>();
            for (int i = 0; i < 50; i++) {
                calls.put("ok " + i, lease.createAsync("/w/n-" + i, bytes("w"), CreateMode.PERSISTENT));
                calls.put("noauth-set " + i, lease.setDataAsync("/ro", bytes("x"), -1));
                calls.put("noauth-create " + i, lease.createAsync("/ro/c-" + i, bytes("x"), CreateMode.PERSISTENT));
                calls.put("read " + i, lease.getDataAsync("/ro"));
            }
            Map<String, Throwable> out = outcomes(calls);
            for (int i = 0; i < 50; i++) {
                assertThat(out.get("ok " + i)).isNull();
                assertThat(out.get("noauth-set " + i)).isInstanceOf(ZkAuthException.class);
                assertThat(((ZkException) out.get("noauth-set " + i)).path()).isEqualTo("/ro");
                assertThat(out.get("noauth-create " + i)).isInstanceOf(ZkAuthException.class);
                assertThat(out.get("read " + i)).isNull();
            }
            assertThat(observer.zk().getChildren("/w", false)).hasSize(50);
            assertThat(observer.zk().getChildren("/ro", false)).isEmpty();
            assertThat(text(observer.zk().getData("/ro", false, null))).isEqualTo("ro");
        }
    }

    /** A watch on nodes written by batched writes sees each creation and the last change of each. */
    @Test
    void watchesSeeBatchedWrites() throws Exception {
        mk("/wt");
        List<WatchEvent> events = new CopyOnWriteArrayList<>();
        try (ZkSessionPool pool = pool(server.getConnectString(), BatchingConfig.of(64), 1);
                ZkLease lease = pool.lease();
                WatchHandle h = lease.watchTree("/wt", events::add)) {
            Map<String, CompletableFuture<?>> calls = new LinkedHashMap<>();
            for (int i = 0; i < 200; i++) {
                calls.put("c" + i, lease.createAsync("/wt/n-" + i, bytes("a"), CreateMode.PERSISTENT));
                calls.put("s" + i, lease.setDataAsync("/wt/n-" + i, bytes("b"), 0));
                calls.put("x" + i, lease.existsAsync("/wt/n-" + i));
            }
            outcomes(calls).forEach((k, e) -> assertThat(e).as(k).isNull());
            await().atMost(WAIT)
                    .untilAsserted(() -> assertThat(events.stream()
                                    .filter(e -> e.type() == WatchEvent.Type.DATA_CHANGED)
                                    .map(WatchEvent::path)
                                    .distinct()
                                    .count())
                            .isEqualTo(200));
            assertThat(events.stream()
                            .filter(e -> e.type() == WatchEvent.Type.CREATED)
                            .count())
                    .isEqualTo(200);
        }
    }

    /**
     * Versioned setData chains (unawaited, one per key) while a fault runs: for each key the server's final version k
     * means exactly setData 0..k-1 applied, so every one below k must be ok or unknown (never a definite failure), every
     * one at or above k must not be ok, and the data must be that of the k-th.
     */
    private String runChains(ZkLease lease, String root, int keys, int chain, Runnable fault, int faults)
            throws Exception {
        observer.zk().create(root, new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        for (int k = 0; k < keys; k++) {
            observer.zk().create(root + "/k-" + k, bytes("v0"), ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        }
        Map<String, CompletableFuture<?>> calls = new ConcurrentHashMap<>();
        Thread faulter = new Thread(() -> {
            for (int i = 0; i < faults; i++) {
                fault.run();
            }
        });
        faulter.start();
        int v = 0;
        for (; v < chain || (faulter.isAlive() && v < 20 * chain); v++) {
            List<CompletableFuture<?>> window = new ArrayList<>();
            for (int k = 0; k < keys; k++) {
                CompletableFuture<Stat> f = lease.setDataAsync(root + "/k-" + k, bytes("v" + (v + 1)), v);
                calls.put(k + " " + v, f);
                window.add(f);
            }
            if (v % 5 == 4) {
                CompletableFuture.allOf(window.toArray(CompletableFuture[]::new))
                        .handle((x, e) -> null)
                        .orTimeout(WAIT.toMillis(), TimeUnit.MILLISECONDS)
                        .join();
            }
        }
        faulter.join();
        chain = v;
        Map<String, Throwable> out = outcomes(calls);
        List<String> problems = new ArrayList<>();
        Map<String, Integer> kinds = new java.util.TreeMap<>();
        // The observer's member may have been paused or behind (a follower serves what it has applied): sync it with
        // the leader before the final reads, so they are the ensemble's state, not a stale member's.
        await().atMost(WAIT).ignoreExceptions().until(() -> {
            CompletableFuture<Integer> synced = new CompletableFuture<>();
            observer.zk().sync(root, (rc, path, ctx) -> synced.complete(rc), null);
            return synced.get(10, TimeUnit.SECONDS) == 0;
        });
        for (int k = 0; k < keys; k++) {
            Stat st = new Stat();
            String key = root + "/k-" + k;
            // The observer may be reconnecting after a member it was on was killed: retry its read.
            String d = await().atMost(WAIT)
                    .ignoreExceptions()
                    .until(() -> text(observer.zk().getData(key, false, st)), x -> x != null);
            int fin = st.getVersion();
            if (!d.equals("v" + fin)) {
                problems.add(root + "/k-" + k + " version " + fin + " holds " + d);
            }
            for (v = 0; v < chain; v++) {
                Throwable err = out.get(k + " " + v);
                kinds.merge(
                        err == null
                                ? "ok"
                                : unknown(err) ? "unknown" : err.getClass().getSimpleName(),
                        1,
                        Integer::sum);
                if (v < fin && err != null && !unknown(err)) {
                    problems.add(k + " set@" + v + " applied (final v" + fin + ") but reported " + err);
                }
                if (v >= fin && err == null) {
                    problems.add(k + " set@" + v + " reported ok but final version is " + fin);
                }
                if (err == null && ((Stat) calls.get(k + " " + v).join()).getVersion() != v + 1) {
                    problems.add(k + " set@" + v + " returned version "
                            + ((Stat) calls.get(k + " " + v).join()).getVersion());
                }
            }
        }
        String summary = root + ": " + chain + " versions, " + kinds + ", problems " + problems.size();
        System.out.println("chains " + summary);
        assertThat(problems)
                .as("first: %s", problems.stream().limit(10).toList())
                .isEmpty();
        return summary;
    }

    @Test
    void versionedChainsUnderConnectionCutsAreExactlyOnce() throws Exception {
        try (ZkSessionPool pool = pool(proxy.connectString(), BatchingConfig.of(1000), 1);
                ZkLease lease = pool.lease()) {
            lease.sessionId();
            runChains(
                    lease,
                    "/cut",
                    40,
                    60,
                    () -> {
                        try {
                            TimeUnit.MILLISECONDS.sleep(300);
                        } catch (InterruptedException e) {
                            return;
                        }
                        proxy.closeAllConnections();
                    },
                    15);
        }
    }

    @Test
    void versionedChainsWhileTheConnectedMemberIsKilled() throws Exception {
        try (ProcessEnsemble ensemble = ProcessEnsemble.builder().size(3).start();
                RawZooKeeper obs = RawZooKeeper.connect(ensemble.connectString(), Duration.ofSeconds(30));
                ZkSessionPool pool = pool(ensemble.connectString(), BatchingConfig.of(1000), 1);
                ZkLease lease = pool.lease()) {
            RawZooKeeper mine = observer;
            observer = obs;
            try {
                lease.sessionId();
                runChains(
                        lease,
                        "/kill",
                        30,
                        40,
                        () -> {
                            try {
                                TimeUnit.MILLISECONDS.sleep(700);
                                String s = lease.curator()
                                        .getZookeeperClient()
                                        .getZooKeeper()
                                        .toString();
                                java.util.regex.Matcher m = java.util.regex.Pattern.compile("remoteserver:[^ ]*:(\\d+)")
                                        .matcher(s);
                                if (m.find()) {
                                    int port = Integer.parseInt(m.group(1));
                                    for (dev.zksdk.testing.ServerProcess sp : ensemble.servers()) {
                                        if (sp.clientPort() == port && sp.isAlive()) {
                                            sp.kill9();
                                            System.out.println("killed member " + sp.id());
                                            TimeUnit.MILLISECONDS.sleep(1500);
                                            sp.restart();
                                        }
                                    }
                                } else {
                                    System.out.println("no remote server in " + s);
                                }
                            } catch (Exception e) {
                                System.out.println("fault: " + e);
                            }
                        },
                        2);
            } finally {
                observer = mine;
            }
        }
    }

    /** A pool closed while its connection is frozen, batches queued: close returns and every future completes. */
    @Test
    void closeWhileFrozenWithBatchesQueuedHangsNothing() throws Exception {
        mk("/fz");
        Map<String, CompletableFuture<?>> calls = new ConcurrentHashMap<>();
        ZkSessionPool pool = pool(proxy.connectString(), BatchingConfig.of(64), 1);
        ZkLease lease = pool.lease();
        lease.sessionId();
        for (int i = 0; i < 200; i++) {
            calls.put("/fz/a-" + i, lease.createAsync("/fz/a-" + i, bytes("a"), CreateMode.PERSISTENT));
        }
        proxy.freeze();
        for (int i = 0; i < 500; i++) {
            calls.put("/fz/b-" + i, lease.createAsync("/fz/b-" + i, bytes("b"), CreateMode.PERSISTENT));
            calls.put("/fz/r-" + i, lease.getDataAsync("/fz"));
        }
        long t0 = System.nanoTime();
        CompletableFuture<Void> closed = CompletableFuture.runAsync(pool::close);
        closed.orTimeout(60, TimeUnit.SECONDS).handle((v, e) -> null).join();
        long closeMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        CompletableFuture.allOf(calls.values().stream()
                        .map(f -> f.handle((v, e) -> null))
                        .toArray(CompletableFuture[]::new))
                .orTimeout(30, TimeUnit.SECONDS)
                .handle((v, e) -> null)
                .join();
        long pending = calls.values().stream().filter(f -> !f.isDone()).count();
        proxy.unfreeze();
        System.out.printf("closeWhileFrozen: close %d ms (done %s), pending %d%n", closeMs, closed.isDone(), pending);
        assertThat(closed).isDone();
        assertThat(pending).isZero();
        List<String> problems = new ArrayList<>();
        Map<String, Integer> kinds = new java.util.TreeMap<>();
        for (Map.Entry<String, Throwable> e : outcomes(calls).entrySet()) {
            Throwable err = e.getValue();
            kinds.merge(
                    err == null
                            ? "ok"
                            : unknown(err) ? "unknown" : err.getClass().getSimpleName(),
                    1,
                    Integer::sum);
            if (e.getKey().startsWith("/fz/r-")) {
                continue;
            }
            boolean exists = observer.zk().exists(e.getKey(), false) != null;
            if (err == null && !exists) {
                problems.add(e.getKey() + " ok but absent");
            } else if (err != null && !unknown(err) && exists) {
                problems.add(e.getKey() + " failed (" + err + ") but exists");
            }
        }
        System.out.println("closeWhileFrozen: " + kinds);
        assertThat(problems)
                .as("first: %s", problems.stream().limit(10).toList())
                .isEmpty();
    }

    /**
     * A stage closing its own lease while that lease's batches are queued: every future completes. Once the stage has
     * closed the lease, the loop's next call on it is refused ({@link IllegalStateException}, as the contract says),
     * and the loop goes on with the other lease only; a refusal before the close began is a failure.
     */
    @Test
    void aCallbackClosingItsLeaseWithBatchesQueued() throws Exception {
        mk("/cl");
        try (ZkSessionPool pool = pool(server.getConnectString(), BatchingConfig.of(64), 1)) {
            ZkLease lease = pool.lease();
            ZkLease other = pool.lease();
            Map<String, CompletableFuture<?>> calls = new ConcurrentHashMap<>();
            AtomicBoolean closing = new AtomicBoolean();
            int refusedAt = -1;
            for (int i = 0; i < 1000; i++) {
                if (refusedAt < 0) {
                    try {
                        CompletableFuture<String> f =
                                lease.createAsync("/cl/n-" + i, bytes("n"), CreateMode.PERSISTENT);
                        if (i == 10) {
                            f.thenRun(() -> {
                                closing.set(true);
                                lease.close();
                            });
                        }
                        calls.put("/cl/n-" + i, f);
                    } catch (IllegalStateException e) {
                        assertThat(closing)
                                .as("call %d refused before the stage closed the lease: %s", i, e)
                                .isTrue();
                        assertThat(e).hasMessageContaining("the lease is closed");
                        refusedAt = i;
                    }
                }
                calls.put("/cl/o-" + i, other.createAsync("/cl/o-" + i, bytes("o"), CreateMode.PERSISTENT));
            }
            System.out.println("callbackClose: lease refused from call " + refusedAt);
            Map<String, Throwable> out = outcomes(calls);
            List<String> problems = new ArrayList<>();
            Map<String, Integer> kinds = new java.util.TreeMap<>();
            for (Map.Entry<String, Throwable> e : out.entrySet()) {
                Throwable err = e.getValue();
                kinds.merge(
                        e.getKey().substring(0, 6)
                                + (err == null
                                        ? "ok"
                                        : unknown(err)
                                                ? "unknown"
                                                : err.getClass().getSimpleName()),
                        1,
                        Integer::sum);
                boolean exists = observer.zk().exists(e.getKey(), false) != null;
                if (err == null && !exists) {
                    problems.add(e.getKey() + " ok but absent");
                } else if (err != null && !unknown(err) && exists) {
                    problems.add(e.getKey() + " failed (" + err + ") but exists");
                } else if (e.getKey().startsWith("/cl/o-") && err != null) {
                    problems.add(e.getKey() + " (other lease) failed: " + err);
                }
            }
            System.out.println("callbackClose: " + kinds);
            assertThat(problems)
                    .as("first: %s", problems.stream().limit(10).toList())
                    .isEmpty();
            other.close();
        }
    }

    /** Ops each larger than a small maxBytes (but under jute.maxbuffer) go alone, not refused. */
    @Test
    void opsLargerThanMaxBytesGoAlone() throws Exception {
        mk("/mb");
        byte[] d = new byte[8 * 1024];
        Arrays.fill(d, (byte) 'm');
        try (ZkSessionPool pool = pool(server.getConnectString(), BatchingConfig.of(64, 1024), 1);
                ZkLease lease = pool.lease()) {
            awaitReadBatching(lease, "/mb");
            Map<String, CompletableFuture<?>> calls = new LinkedHashMap<>();
            for (int i = 0; i < 100; i++) {
                calls.put("create " + i, lease.createAsync("/mb/n-" + i, d, CreateMode.PERSISTENT));
                calls.put("small " + i, lease.createAsync("/mb/s-" + i, bytes("s"), CreateMode.PERSISTENT));
                calls.put("read " + i, lease.getDataAsync("/mb/n-" + i));
            }
            Map<String, Throwable> out = outcomes(calls);
            out.forEach((k, e) -> assertThat(e).as(k).isNull());
            for (int i = 0; i < 100; i++) {
                assertThat((byte[]) calls.get("read " + i).join()).isEqualTo(d);
            }
            System.out.println("maxBytes 1024: write batches "
                    + (batches("write") == null
                            ? "none"
                            : batches("write").count() + " max "
                                    + batches("write").max()));
        }
    }

    /** Full batches (maxOps 2 and 3) going while others are in flight, no failures: each lease's chain keeps order. */
    @Test
    void fullBatchesKeepEachChainInOrder() throws Exception {
        for (int maxOps : new int[] {2, 3}) {
            try (ZkSessionPool pool = pool(server.getConnectString(), BatchingConfig.of(maxOps), 1);
                    ZkLease lease = pool.lease()) {
                runChains(lease, "/full" + maxOps, 7, 150, () -> {}, 0);
                assertThat(batches("write").max()).isLessThanOrEqualTo(maxOps);
            }
        }
    }

    /** A read NOAUTH inside a multiRead fails only its caller, as ZkAuthException naming its path. */
    @Test
    void aReadWithoutReadPermissionInsideAReadBatchFailsOnlyItsCaller() throws Exception {
        observer.zk()
                .create(
                        "/noread",
                        bytes("secret"),
                        new ArrayList<>(List.of(
                                new ACL(ZooDefs.Perms.CREATE | ZooDefs.Perms.WRITE, ZooDefs.Ids.ANYONE_ID_UNSAFE))),
                        CreateMode.PERSISTENT);
        observer.zk().create("/yes", bytes("yes"), ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        try (ZkSessionPool pool = pool(server.getConnectString(), BatchingConfig.of(64), 1);
                ZkLease lease = pool.lease()) {
            awaitReadBatching(lease, "/yes");
            long before = (long) batches("read").count();
            Map<String, CompletableFuture<?>> calls = new LinkedHashMap<>();
            for (int i = 0; i < 100; i++) {
                calls.put("yes " + i, lease.getDataAsync("/yes"));
                calls.put("no " + i, lease.getDataAsync("/noread"));
                calls.put("nochildren " + i, lease.getChildrenAsync("/noread"));
                calls.put("yesnode " + i, lease.getNodeAsync("/yes"));
            }
            Map<String, Throwable> out = outcomes(calls);
            System.out.println("noread: read batches " + ((long) batches("read").count() - before) + " "
                    + out.get("no 5") + " / " + out.get("nochildren 5"));
            for (int i = 0; i < 100; i++) {
                assertThat(out.get("yes " + i)).isNull();
                assertThat(out.get("yesnode " + i)).isNull();
                assertThat(out.get("no " + i)).as("no %d", i).isInstanceOf(ZkAuthException.class);
                assertThat(((ZkException) out.get("no " + i)).path()).isEqualTo("/noread");
            }
        }
    }

    /** SIGSTOP of the connected member (longer than the session timeout's third) during versioned chains. */
    @Test
    void versionedChainsWhileTheConnectedMemberIsStopped() throws Exception {
        try (ProcessEnsemble ensemble = ProcessEnsemble.builder().size(3).start();
                RawZooKeeper obs = RawZooKeeper.connect(ensemble.connectString(), Duration.ofSeconds(30));
                ZkSessionPool pool = pool(ensemble.connectString(), BatchingConfig.of(1000), 1);
                ZkLease lease = pool.lease()) {
            RawZooKeeper mine = observer;
            observer = obs;
            try {
                lease.sessionId();
                runChains(
                        lease,
                        "/stop",
                        30,
                        40,
                        () -> {
                            try {
                                TimeUnit.MILLISECONDS.sleep(500);
                                String s = lease.curator()
                                        .getZookeeperClient()
                                        .getZooKeeper()
                                        .toString();
                                java.util.regex.Matcher m = java.util.regex.Pattern.compile("remoteserver:[^ ]*:(\\d+)")
                                        .matcher(s);
                                if (m.find()) {
                                    int port = Integer.parseInt(m.group(1));
                                    for (dev.zksdk.testing.ServerProcess sp : ensemble.servers()) {
                                        if (sp.clientPort() == port) {
                                            sp.sigstop();
                                            System.out.println("stopped member " + sp.id());
                                            TimeUnit.MILLISECONDS.sleep(9000);
                                            sp.sigcont();
                                        }
                                    }
                                }
                            } catch (Exception e) {
                                System.out.println("fault: " + e);
                            }
                        },
                        1);
            } finally {
                observer = mine;
            }
        }
    }
}
