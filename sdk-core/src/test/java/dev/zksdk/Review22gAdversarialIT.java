package dev.zksdk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.zksdk.metrics.MetricNames;
import dev.zksdk.metrics.micrometer.MicrometerMetricsTrackerFactory;
import dev.zksdk.testing.ForcedExpiry;
import dev.zksdk.testing.InProcessEnsembles;
import dev.zksdk.testing.ProcessEnsemble;
import dev.zksdk.testing.RawZooKeeper;
import dev.zksdk.testing.TxnLogOracle;
import dev.zksdk.testing.ZkProxy;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
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
 * Review 22g: batched ephemeral creates (issue 22 part 2) attacked as a user: mixed with persistent writes on leases of
 * one pool (1 and 3 sessions) with duplicates and missing parents, a stream under connection cuts, expiries (alone and
 * right after a cut) with a session listener creating ephemerals again on each new session, close of lease and pool
 * with batches in flight, {@code lease.ephemeral} registrations beside batched creates of the same paths, a 3.5 server,
 * and bounded time under a frozen connection. What each call reported is checked against what the server holds (exists
 * and ephemeralOwner, read by a plain ZooKeeper observer).
 */
class Review22gAdversarialIT {

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

    private ZkSessionPool pool(String connect, int sessions, Duration opTimeout, SessionListener listener) {
        return pool(connect, sessions, opTimeout, listener, true);
    }

    private ZkSessionPool pool(
            String connect, int sessions, Duration opTimeout, SessionListener listener, boolean batching) {
        ZkSessionPool.Builder b = ZkSessionPool.builder()
                .connectString(connect)
                .sessionTimeout(Duration.ofSeconds(20))
                .connectionTimeout(Duration.ofSeconds(5))
                .sessionsPerEnsemble(sessions);
        if (batching) {
            b.asyncBatching(BatchingConfig.of(64));
        }
        b.operationPolicy(OperationPolicy.builder()
                        .operationTimeout(opTimeout)
                        .maxInFlight(20_000)
                        .breakerFailureRateThreshold(100f)
                        .build())
                .metricsTrackerFactory(new MicrometerMetricsTrackerFactory(registry));
        if (listener != null) {
            b.listener(listener);
        }
        return b.build();
    }

    private DistributionSummary writeBatches() {
        return registry.find(MetricNames.BATCHES)
                .tag(MetricNames.TAG_KIND, "write")
                .summary();
    }

    private String batchEvidence() {
        DistributionSummary s = writeBatches();
        return s == null ? "no write batches" : s.count() + " write batches, largest " + (long) s.max();
    }

    static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
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

    /** Waits for every future (at most WAIT); returns each one's error (null when ok), keyed as given. */
    static Map<String, Throwable> outcomes(Map<String, ? extends CompletableFuture<?>> calls) {
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

    private void mk(ZooKeeper zk, String path) throws Exception {
        zk.create(path, new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
    }

    private static long sid(ZkLease lease) {
        try {
            return lease.curator().getZookeeperClient().getZooKeeper().getSessionId();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static void expire(String connect, ZkLease lease) throws Exception {
        ZooKeeper z = lease.curator().getZookeeperClient().getZooKeeper();
        ForcedExpiry.expireSession(connect, z.getSessionId(), z.getSessionPasswd());
    }

    /** What a plain observer sees at {@code path} after a sync: null when absent. */
    private static Stat stat(ZooKeeper zk, String path) throws Exception {
        return zk.exists(path, false);
    }

    private static void sync(ZooKeeper zk, String path) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        zk.sync(path, (rc, p, ctx) -> done.complete(null), null);
        done.orTimeout(30, TimeUnit.SECONDS).join();
    }

    /**
     * Ephemeral creates mixed with persistent creates, setData and deletes on four leases of one pool (one and three
     * sessions), with duplicates (NodeExists), missing parents (NoNode), children of an ephemeral
     * (NoChildrenForEphemerals) and delete-then-create-again of the same ephemeral sprinkled in. Each caller gets the
     * outcome designed for it, naming its own path; every ok ephemeral exists owned by the session its lease reports.
     */
    @Test
    void ephemeralCreatesMixedWithPersistentWritesOnLeasesOfOnePool() throws Exception {
        for (int sessions : new int[] {1, 3}) {
            mixedRound(sessions);
        }
        // What the server did: no multi mixes ephemeral creates with persistent writes; ephemeral ones were batched.
        server.stop();
        TxnLogOracle log = TxnLogOracle.read(server.getTempDirectory());
        int ephemeralMultis = 0;
        List<String> mixed = new ArrayList<>();
        for (TxnLogOracle.Txn txn : log.txns()) {
            if (!txn.multi()) {
                continue;
            }
            int eph = 0;
            int other = 0;
            for (TxnLogOracle.Op op : txn.ops()) {
                if (op.type() == TxnLogOracle.OpType.CREATE) {
                    if (op.path().matches("/mx\\d/(e-.*|taken|eph-parent/.*|none-.*|locked/.*|p-.*/eph-child)")) {
                        eph++;
                    } else {
                        other++;
                    }
                } else if (op.type() == TxnLogOracle.OpType.SET_DATA || op.type() == TxnLogOracle.OpType.DELETE) {
                    other++;
                }
            }
            if (eph > 0 && other > 0) {
                mixed.add(txn.toString());
            }
            if (eph > 1 && other == 0) {
                ephemeralMultis++;
            }
        }
        System.out.printf("txn log: %d multis of ephemeral creates only; %d mixed%n", ephemeralMultis, mixed.size());
        assertThat(mixed)
                .as(
                        "multis mixing ephemeral creates with other writes, first: %s",
                        mixed.stream().limit(3).toList())
                .isEmpty();
        assertThat(ephemeralMultis)
                .as("ephemeral creates batched with each other")
                .isPositive();
    }

    private void mixedRound(int sessions) throws Exception {
        String root = "/mx" + sessions;
        ZooKeeper zk = observer.zk();
        mk(zk, root);
        mk(zk, root + "/taken");
        mk(zk, root + "/ptaken");
        zk.create(root + "/locked", new byte[0], ZooDefs.Ids.READ_ACL_UNSAFE, CreateMode.PERSISTENT);
        zk.create(root + "/eph-parent", new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.EPHEMERAL);
        int leases = 4;
        int keys = 60;
        // call key -> expected outcome (null: ok; else the exception class) and the path it must name
        Map<String, CompletableFuture<?>> calls = new ConcurrentHashMap<>();
        Map<String, Class<?>> expected = new ConcurrentHashMap<>();
        Map<String, String> pathOf = new ConcurrentHashMap<>();
        Map<String, KeeperException.Code> codeOf = new ConcurrentHashMap<>();
        try (ZkSessionPool pool = pool(server.getConnectString(), sessions, Duration.ofSeconds(20), null)) {
            List<ZkLease> held = new ArrayList<>();
            Map<Integer, Long> sessionOf = new ConcurrentHashMap<>();
            for (int l = 0; l < leases; l++) {
                ZkLease lease = pool.lease();
                held.add(lease);
                sessionOf.put(l, lease.sessionId());
            }
            List<Thread> threads = new ArrayList<>();
            for (int l = 0; l < leases; l++) {
                ZkLease lease = held.get(l);
                int n = l;
                Thread t = new Thread(() -> {
                    int c = 0;
                    for (int k = 0; k < keys; k++) {
                        String e = root + "/e-" + n + "-" + k;
                        String p = root + "/p-" + n + "-" + k;
                        String tag = n + ":" + k + ":";
                        put(
                                calls,
                                expected,
                                pathOf,
                                tag + c++ + " create-eph " + e,
                                e,
                                null,
                                () -> lease.createAsync(e, bytes(e), CreateMode.EPHEMERAL));
                        put(
                                calls,
                                expected,
                                pathOf,
                                tag + c++ + " create-pers " + p,
                                p,
                                null,
                                () -> lease.createAsync(p, bytes("v0"), CreateMode.PERSISTENT));
                        put(
                                calls,
                                expected,
                                pathOf,
                                tag + c++ + " dup-taken",
                                root + "/taken",
                                ZkNodeExistsException.class,
                                () -> lease.createAsync(root + "/taken", bytes("x"), CreateMode.EPHEMERAL));
                        put(
                                calls,
                                expected,
                                pathOf,
                                tag + c++ + " dup-pers",
                                root + "/ptaken",
                                ZkNodeExistsException.class,
                                () -> lease.createAsync(root + "/ptaken", bytes("x"), CreateMode.PERSISTENT));
                        if (k % 3 != 1) {
                            // its parent's create was asked for just before, in a persistent batch rolled back once
                            String pc = p + "/eph-child";
                            put(
                                    calls,
                                    expected,
                                    pathOf,
                                    tag + c++ + " eph-child " + pc,
                                    pc,
                                    null,
                                    () -> lease.createAsync(pc, bytes(pc), CreateMode.EPHEMERAL));
                        }
                        String locked = root + "/locked/c-" + n + "-" + k;
                        put(
                                calls,
                                expected,
                                pathOf,
                                tag + c++ + " noauth " + locked,
                                locked,
                                ZkAuthException.class,
                                () -> lease.createAsync(locked, bytes("x"), CreateMode.EPHEMERAL));
                        put(
                                calls,
                                expected,
                                pathOf,
                                tag + c++ + " set " + p,
                                p,
                                null,
                                () -> lease.setDataAsync(p, bytes("v1"), 0));
                        put(
                                calls,
                                expected,
                                pathOf,
                                tag + c++ + " dup-own " + e,
                                e,
                                ZkNodeExistsException.class,
                                () -> lease.createAsync(e, bytes("again"), CreateMode.EPHEMERAL));
                        String none = root + "/none-" + n + "-" + k + "/x";
                        put(
                                calls,
                                expected,
                                pathOf,
                                tag + c++ + " nonode " + none,
                                none,
                                ZkNoNodeException.class,
                                () -> lease.createAsync(none, bytes("x"), CreateMode.EPHEMERAL));
                        String child = root + "/eph-parent/c-" + n + "-" + k;
                        String key = tag + c++ + " child-of-eph " + child;
                        codeOf.put(key, KeeperException.Code.NOCHILDRENFOREPHEMERALS);
                        put(
                                calls,
                                expected,
                                pathOf,
                                key,
                                child,
                                ZkException.class,
                                () -> lease.createAsync(child, bytes("x"), CreateMode.EPHEMERAL));
                        if (k % 3 == 0) {
                            put(
                                    calls,
                                    expected,
                                    pathOf,
                                    tag + c++ + " delete-eph " + e,
                                    e,
                                    null,
                                    () -> lease.deleteAsync(e, -1));
                            put(
                                    calls,
                                    expected,
                                    pathOf,
                                    tag + c++ + " recreate-eph " + e,
                                    e,
                                    null,
                                    () -> lease.createAsync(e, bytes(e + "#2"), CreateMode.EPHEMERAL));
                        } else if (k % 3 == 1) {
                            put(
                                    calls,
                                    expected,
                                    pathOf,
                                    tag + c++ + " delete-pers " + p,
                                    p,
                                    null,
                                    () -> lease.deleteAsync(p, 1));
                        }
                    }
                });
                threads.add(t);
                t.start();
            }
            for (Thread t : threads) {
                t.join();
            }
            Map<String, Throwable> got = outcomes(calls);
            List<String> problems = new ArrayList<>();
            for (Map.Entry<String, Throwable> o : got.entrySet()) {
                String key = o.getKey();
                Throwable error = o.getValue();
                Class<?> want = expected.get(key);
                if (want == null) {
                    if (error != null) {
                        problems.add(key + " failed: " + error);
                    }
                    continue;
                }
                if (!want.isInstance(error)) {
                    problems.add(key + " expected " + want.getSimpleName() + ", got " + error);
                    continue;
                }
                ZkException z = (ZkException) error;
                if (!pathOf.get(key).equals(z.path())) {
                    problems.add(key + " names " + z.path() + " (" + z.getMessage() + ")");
                }
                if (codeOf.containsKey(key) && z.code() != codeOf.get(key)) {
                    problems.add(key + " code " + z.code());
                }
            }
            sync(zk, root);
            for (int l = 0; l < leases; l++) {
                long s = held.get(l).sessionId();
                assertThat(s).as("lease %d's session unchanged (no faults)", l).isEqualTo(sessionOf.get(l));
                for (int k = 0; k < keys; k++) {
                    String e = root + "/e-" + l + "-" + k;
                    Stat st = stat(zk, e);
                    if (st == null) {
                        problems.add(e + " reported created, absent");
                    } else if (st.getEphemeralOwner() != s) {
                        problems.add(e + " owned by 0x" + Long.toHexString(st.getEphemeralOwner()) + ", lease's 0x"
                                + Long.toHexString(s));
                    } else if (k % 3 == 0
                            && !new String(zk.getData(e, false, null), StandardCharsets.UTF_8).equals(e + "#2")) {
                        problems.add(e + " is not the re-created one");
                    }
                    String p = root + "/p-" + l + "-" + k;
                    if (k % 3 != 1) {
                        Stat cs = stat(zk, p + "/eph-child");
                        if (cs == null || cs.getEphemeralOwner() != s) {
                            problems.add(p + "/eph-child on server: " + cs);
                        }
                    }
                    Stat ps = stat(zk, p);
                    if (k % 3 == 1 ? ps != null : ps == null || ps.getEphemeralOwner() != 0 || ps.getVersion() != 1) {
                        problems.add(p + " on server: " + ps);
                    }
                }
            }
            assertThat(zk.getChildren(root + "/eph-parent", false)).isEmpty();
            System.out.printf(
                    "mixed, %d session(s): %d calls, sessions %s, %s%n",
                    sessions, got.size(), sessionOf.values(), batchEvidence());
            assertThat(problems)
                    .as(
                            "%d problems, first: %s",
                            problems.size(), problems.stream().limit(10).toList())
                    .isEmpty();
            assertThat(writeBatches().max()).as("writes were batched").isGreaterThan(1);
            for (ZkLease lease : held) {
                lease.close();
            }
        }
    }

    private static void put(
            Map<String, CompletableFuture<?>> calls,
            Map<String, Class<?>> expected,
            Map<String, String> pathOf,
            String key,
            String path,
            Class<?> want,
            java.util.function.Supplier<CompletableFuture<?>> call) {
        if (want != null) {
            expected.put(key, want);
        }
        pathOf.put(key, path);
        calls.put(key, call.get());
    }

    /**
     * A stream of ephemeral creates over a proxy whose connections are cut six times mid-stream (the session survives):
     * ok ⇒ exists owned by the live session; failed (not unknown) ⇒ absent; nobody is told expired (nothing expired).
     */
    @Test
    void ephemeralStreamUnderConnectionCuts() throws Exception {
        mk(observer.zk(), "/cut");
        Map<String, CompletableFuture<?>> calls = new ConcurrentHashMap<>();
        try (ZkSessionPool pool = pool(proxy.connectString(), 1, Duration.ofSeconds(15), null);
                ZkLease lease = pool.lease()) {
            long session = lease.sessionId();
            int i = 0;
            for (int round = 0; round < 6; round++) {
                List<CompletableFuture<?>> window = new ArrayList<>();
                for (int j = 0; j < 300; j++, i++) {
                    String p = "/cut/n-" + i;
                    CompletableFuture<String> f = lease.createAsync(p, bytes(p), CreateMode.EPHEMERAL);
                    calls.put(p, f);
                    window.add(f);
                    if (j == 150) {
                        proxy.closeAllConnections();
                    }
                }
                CompletableFuture.allOf(window.toArray(CompletableFuture[]::new))
                        .handle((v, e) -> null)
                        .orTimeout(WAIT.toMillis(), TimeUnit.MILLISECONDS)
                        .join();
            }
            Map<String, Throwable> got = outcomes(calls);
            long live = lease.sessionId();
            ZooKeeper zk = observer.zk();
            sync(zk, "/cut");
            int ok = 0;
            int unknown = 0;
            int failed = 0;
            List<String> problems = new ArrayList<>();
            for (Map.Entry<String, Throwable> o : got.entrySet()) {
                Stat st = stat(zk, o.getKey());
                Throwable e = o.getValue();
                if (st != null && st.getEphemeralOwner() != live) {
                    problems.add(o.getKey() + " owned by 0x" + Long.toHexString(st.getEphemeralOwner()));
                }
                if (e == null) {
                    ok++;
                    if (st == null) {
                        problems.add(o.getKey() + " reported ok, absent");
                    }
                } else if (unknown(e)) {
                    unknown++;
                } else {
                    failed++;
                    if (e instanceof ZkSessionExpiredException) {
                        problems.add(o.getKey() + " told expired though no session expired: " + e.getMessage());
                    }
                    if (st != null) {
                        problems.add(o.getKey() + " reported failed (" + e + ") but exists");
                    }
                    if (!(e instanceof ZkException) || !o.getKey().equals(((ZkException) e).path())) {
                        problems.add(o.getKey() + " failure does not name its path: " + e);
                    }
                }
            }
            System.out.printf(
                    "cuts: session 0x%x -> 0x%x; %d ok, %d unknown, %d failed; %s%n",
                    session, live, ok, unknown, failed, batchEvidence());
            assertThat(live).as("the session survived the cuts").isEqualTo(session);
            assertThat(problems)
                    .as(
                            "%d problems, first: %s",
                            problems.size(), problems.stream().limit(10).toList())
                    .isEmpty();
            assertThat(ok).isGreaterThan(900);
        }
    }

    /**
     * Expiries during a stream of ephemeral creates, alternately alone and right after a connection cut, with a pool
     * session listener that creates ephemerals again (batched) whenever a new session connects. Every node on the server
     * is owned by the live session; nobody told failed has a node; "unknown" only in the rounds with a cut; the
     * listener's creates on the last session exist, owned by it.
     */
    @Test
    void expiryDuringAStreamAlsoAfterACutWithAListenerCreatingAgain() throws Exception {
        mk(observer.zk(), "/ex");
        mk(observer.zk(), "/ex/l");
        Map<String, CompletableFuture<?>> calls = new ConcurrentHashMap<>();
        Map<String, Integer> roundOf = new ConcurrentHashMap<>();
        Map<String, CompletableFuture<?>> listenerCalls = new ConcurrentHashMap<>();
        Map<String, Long> listenerSession = new ConcurrentHashMap<>();
        ZkLease[] forListener = new ZkLease[1];
        List<String> events = new CopyOnWriteArrayList<>();
        SessionListener listener = new SessionListener() {
            @Override
            public void onStateChange(SessionEvent event) {
                events.add(event.previousState() + "->" + event.state() + " 0x"
                        + Long.toHexString(event.sessionIdAfter()));
                ZkLease l = forListener[0];
                if (l == null || event.sameSession()) {
                    return;
                }
                if (event.state() == SessionState.CONNECTED || event.state() == SessionState.RECONNECTED) {
                    for (int i = 0; i < 20; i++) {
                        String p = "/ex/l/s" + Long.toHexString(event.sessionIdAfter()) + "-" + i;
                        listenerSession.put(p, event.sessionIdAfter());
                        listenerCalls.put(p, l.createAsync(p, bytes(p), CreateMode.EPHEMERAL));
                    }
                }
            }
        };
        try (ZkSessionPool pool = pool(proxy.connectString(), 1, Duration.ofSeconds(15), listener);
                ZkLease lease = pool.lease();
                ZkLease other = pool.lease()) {
            lease.sessionId();
            forListener[0] = other;
            int i = 0;
            for (int round = 0; round < 4; round++) {
                List<CompletableFuture<?>> window = new ArrayList<>();
                long before = sid(lease);
                for (int j = 0; j < 400; j++, i++) {
                    String p = j % 37 == 5 ? "/ex/l" : "/ex/n-" + i; // a duplicate now and then
                    CompletableFuture<String> f = lease.createAsync(p, bytes(p), CreateMode.EPHEMERAL);
                    calls.put(p + "#" + i, f);
                    roundOf.put(p + "#" + i, round);
                    window.add(f);
                    if (j == 200) {
                        ZooKeeper z;
                        try {
                            z = lease.curator().getZookeeperClient().getZooKeeper();
                        } catch (Exception e) {
                            throw new IllegalStateException(e);
                        }
                        if (round % 2 == 1) {
                            proxy.closeAllConnections();
                        }
                        ForcedExpiry.expireSession(server.getConnectString(), z.getSessionId(), z.getSessionPasswd());
                    }
                }
                CompletableFuture.allOf(window.toArray(CompletableFuture[]::new))
                        .handle((v, e) -> null)
                        .orTimeout(WAIT.toMillis(), TimeUnit.MILLISECONDS)
                        .join();
                long after = await().atMost(WAIT).until(lease::sessionId, id -> id != 0 && id != before);
                System.out.printf("round %d: 0x%x -> 0x%x%n", round, before, after);
            }
            long live = lease.sessionId();
            await().atMost(WAIT).until(() -> listenerSession.containsValue(live));
            Map<String, Throwable> got = outcomes(calls);
            Map<String, Throwable> fromListener = outcomes(listenerCalls);
            ZooKeeper zk = observer.zk();
            sync(zk, "/ex");
            int ok = 0;
            int expired = 0;
            int unknownInCut = 0;
            List<String> problems = new ArrayList<>();
            int dups = 0;
            for (Map.Entry<String, Throwable> o : got.entrySet()) {
                String p = o.getKey().substring(0, o.getKey().indexOf('#'));
                Throwable e = o.getValue();
                if (p.equals("/ex/l")) {
                    // a duplicate: NodeExists naming its path, or expired/unknown if it was in flight at the expiry
                    if (e instanceof ZkNodeExistsException && p.equals(((ZkException) e).path())) {
                        dups++;
                    } else if (!(e instanceof ZkSessionExpiredException) && !unknown(e)) {
                        problems.add(o.getKey() + " duplicate: " + e);
                    }
                    continue;
                }
                Stat st = stat(zk, p);
                if (st != null && st.getEphemeralOwner() != live) {
                    problems.add(o.getKey() + " owned by 0x" + Long.toHexString(st.getEphemeralOwner()) + ", live 0x"
                            + Long.toHexString(live));
                }
                if (e == null) {
                    ok++;
                } else if (unknown(e)) {
                    if (roundOf.get(o.getKey()) % 2 == 0) {
                        problems.add(o.getKey() + " unknown in a round without a cut: " + e.getMessage());
                    } else {
                        unknownInCut++;
                    }
                } else {
                    if (e instanceof ZkSessionExpiredException) {
                        expired++;
                    }
                    if (st != null) {
                        problems.add(o.getKey() + " reported failed (" + e + ") but exists");
                    }
                    if (!(e instanceof ZkException) || !p.equals(((ZkException) e).path())) {
                        problems.add(o.getKey() + " failure does not name its path: " + e);
                    }
                }
            }
            int listenerOk = 0;
            for (Map.Entry<String, Throwable> o : fromListener.entrySet()) {
                Stat st = stat(zk, o.getKey());
                Throwable e = o.getValue();
                long s = listenerSession.get(o.getKey());
                if (e == null) {
                    listenerOk++;
                }
                if (s == live && (e != null || st == null || st.getEphemeralOwner() != live)) {
                    problems.add("listener's " + o.getKey() + " on the live session: " + e + ", server " + st);
                }
                if (e != null && st != null) {
                    problems.add("listener's " + o.getKey() + " reported failed (" + e + ") but exists");
                }
            }
            System.out.printf(
                    "expiries: %d ok, %d expired, %d duplicates, %d unknown (cut rounds), listener %d/%d ok; %s; events %s%n",
                    ok, expired, dups, unknownInCut, listenerOk, fromListener.size(), batchEvidence(), events);
            assertThat(problems)
                    .as(
                            "%d problems, first: %s",
                            problems.size(), problems.stream().limit(10).toList())
                    .isEmpty();
            assertThat(expired).as("callers in flight at an expiry").isPositive();
        }
    }

    /**
     * Close of a lease, then of the pool, while ephemeral batches are queued and in flight: every future completes in
     * bounded time; after the lease's close the session still owns what was reported created; once the pool's close
     * returns, nothing on the server is owned by its (closed) sessions.
     */
    @Test
    void closeOfLeaseAndPoolWithEphemeralBatchesInFlight() throws Exception {
        mk(observer.zk(), "/cl");
        ZooKeeper zk = observer.zk();
        Map<String, CompletableFuture<?>> leaseCalls = new ConcurrentHashMap<>();
        Map<String, CompletableFuture<?>> poolCalls = new ConcurrentHashMap<>();
        Set<Long> sessions = ConcurrentHashMap.newKeySet();
        ZkSessionPool pool = pool(server.getConnectString(), 2, Duration.ofSeconds(15), null);
        long closeMillis;
        try {
            ZkLease a = pool.lease();
            ZkLease b = pool.lease();
            ZkLease c = pool.lease();
            sessions.add(a.sessionId());
            sessions.add(b.sessionId());
            sessions.add(c.sessionId());
            for (int i = 0; i < 1000; i++) {
                String p = "/cl/a-" + i;
                leaseCalls.put(p, a.createAsync(p, bytes(p), CreateMode.EPHEMERAL));
            }
            a.close(); // with most of them still queued or in flight
            Map<String, Throwable> got = outcomes(leaseCalls);
            sync(zk, "/cl");
            long sa = sid(b); // a's session lives on for the pool's other leases (or is b's/c's)
            List<String> problems = new ArrayList<>();
            int okA = 0;
            for (Map.Entry<String, Throwable> o : got.entrySet()) {
                Stat st = stat(zk, o.getKey());
                if (o.getValue() == null) {
                    okA++;
                    if (st == null || !sessions.contains(st.getEphemeralOwner())) {
                        problems.add(o.getKey() + " ok after lease close, server " + st);
                    }
                } else if (st != null && !unknown(o.getValue())) {
                    problems.add(o.getKey() + " failed (" + o.getValue() + ") but exists");
                }
            }
            System.out.printf("lease close: %d/%d ok (session 0x%x)%n", okA, got.size(), sa);
            assertThat(problems)
                    .as("first: %s", problems.stream().limit(10).toList())
                    .isEmpty();
            // two threads keep issuing on two leases while the pool closes
            List<Thread> issuers = new ArrayList<>();
            java.util.concurrent.atomic.AtomicInteger issued = new java.util.concurrent.atomic.AtomicInteger();
            for (ZkLease l : List.of(b, c)) {
                String prefix = l == b ? "/cl/b-" : "/cl/c-";
                Thread t = new Thread(() -> {
                    for (int i = 0; ; i++) {
                        String p = prefix + i;
                        try {
                            poolCalls.put(p, l.createAsync(p, bytes(p), CreateMode.EPHEMERAL));
                            issued.incrementAndGet();
                        } catch (IllegalStateException closed) {
                            return;
                        }
                    }
                });
                issuers.add(t);
                t.start();
            }
            await().atMost(WAIT).until(() -> issued.get() > 3000);
            long t0 = System.nanoTime();
            pool.close();
            closeMillis = (System.nanoTime() - t0) / 1_000_000;
            for (Thread t : issuers) {
                t.join(WAIT.toMillis());
            }
        } finally {
            pool.close();
        }
        sync(zk, "/cl");
        List<String> left = new ArrayList<>();
        for (String child : zk.getChildren("/cl", false)) {
            Stat st = stat(zk, "/cl/" + child);
            if (st != null && sessions.contains(st.getEphemeralOwner())) {
                left.add(child + " owner 0x" + Long.toHexString(st.getEphemeralOwner()));
            }
        }
        long t1 = System.nanoTime();
        Map<String, Throwable> got = outcomes(poolCalls);
        long settleMillis = (System.nanoTime() - t1) / 1_000_000;
        // What the server applied (its log), against what each caller was told.
        server.stop();
        TxnLogOracle log = TxnLogOracle.read(server.getTempDirectory());
        Set<String> applied = new java.util.HashSet<>();
        for (TxnLogOracle.Txn txn : log.txns()) {
            if (txn.applied()) {
                for (TxnLogOracle.Op op : txn.ops()) {
                    if (op.type() == TxnLogOracle.OpType.CREATE) {
                        applied.add(op.path());
                    }
                }
            }
        }
        Map<String, Integer> kinds = new java.util.TreeMap<>();
        List<String> problems = new ArrayList<>();
        for (Map.Entry<String, Throwable> o : got.entrySet()) {
            Throwable e = o.getValue();
            String kind = e == null ? "ok" : e.getClass().getSimpleName() + (unknown(e) ? "(unknown)" : "");
            boolean wasApplied = applied.contains(o.getKey());
            kinds.merge(kind + (wasApplied ? "/applied" : "/not applied"), 1, Integer::sum);
            if (e == null && !wasApplied) {
                problems.add(o.getKey() + " ok, never applied");
            } else if (e != null && !unknown(e) && wasApplied) {
                problems.add(o.getKey() + " told " + e + ", but the server applied it");
            }
        }
        System.out.printf(
                "pool close took %d ms; futures settled %d ms later: %s; left on server after close: %d %s%n",
                closeMillis,
                settleMillis,
                kinds,
                left.size(),
                left.stream().limit(5).toList());
        assertThat(left)
                .as("ephemerals of the closed pool's sessions after close returned")
                .isEmpty();
        assertThat(settleMillis)
                .as("futures complete within bounded time of the close")
                .isLessThan(30_000);
        assertThat(problems)
                .as(
                        "%d problems, first: %s",
                        problems.size(), problems.stream().limit(10).toList())
                .isEmpty();
    }

    /**
     * {@code lease.ephemeral} registrations beside batched createAsync EPHEMERAL of the same paths, through an expiry
     * after which a listener re-creates the same paths with createAsync (racing the pool's recovery of the
     * registrations). For each path exactly one of them holds the node; a createAsync told ok holds its own data, and
     * closing the registrations never deletes a node a createAsync caller was told it created.
     */
    @Test
    void registrationsBesideBatchedCreatesOfTheSamePaths() throws Exception {
        mk(observer.zk(), "/rg");
        int n = 30;
        Map<String, CompletableFuture<?>> racing = new ConcurrentHashMap<>();
        ZkLease[] forListener = new ZkLease[1];
        SessionListener listener = new SessionListener() {
            @Override
            public void onStateChange(SessionEvent event) {
                ZkLease l = forListener[0];
                if (l != null && !event.sameSession() && event.state() == SessionState.CONNECTED
                        || l != null && !event.sameSession() && event.state() == SessionState.RECONNECTED) {
                    for (int i = 0; i < n; i++) {
                        String p = "/rg/r-" + i;
                        racing.put(p, l.createAsync(p, bytes("async-" + i), CreateMode.EPHEMERAL));
                    }
                }
            }
        };
        ZooKeeper zk = observer.zk();
        try (ZkSessionPool pool = pool(server.getConnectString(), 1, Duration.ofSeconds(15), listener);
                ZkLease lease = pool.lease()) {
            long first = lease.sessionId();
            List<EphemeralNode> handles = new ArrayList<>();
            Map<String, CompletableFuture<?>> before = new LinkedHashMap<>();
            for (int i = 0; i < n; i++) {
                String p = "/rg/r-" + i;
                handles.add(lease.ephemeral(p, bytes("handle-" + i)));
                before.put(p, lease.createAsync(p, bytes("x"), CreateMode.EPHEMERAL));
            }
            // batched creates first, then registrations of the same paths
            Map<String, CompletableFuture<?>> early = new LinkedHashMap<>();
            for (int i = 0; i < n; i++) {
                String p = "/rg/q-" + i;
                early.put(p, lease.createAsync(p, bytes("async"), CreateMode.EPHEMERAL));
            }
            Map<String, Throwable> earlyGot = outcomes(early);
            List<String> problems = new ArrayList<>();
            int qRegistered = 0;
            for (int i = 0; i < n; i++) {
                String p = "/rg/q-" + i;
                if (earlyGot.get(p) != null) {
                    problems.add(p + " early create failed: " + earlyGot.get(p));
                }
                try {
                    lease.ephemeral(p, bytes("handle")).close();
                    qRegistered++;
                } catch (ZkNodeExistsException expected) {
                    // documented: a node made with create is never taken as the handle's own
                }
                Stat st = stat(zk, p);
                if (st == null || st.getEphemeralOwner() != first) {
                    problems.add(p + " (createAsync's) after a registration attempt and close: " + st);
                }
            }
            Map<String, Throwable> beforeGot = outcomes(before);
            for (Map.Entry<String, Throwable> o : beforeGot.entrySet()) {
                if (!(o.getValue() instanceof ZkNodeExistsException)) {
                    problems.add(o.getKey() + " createAsync beside a live registration: " + o.getValue());
                }
            }
            forListener[0] = lease;
            expire(server.getConnectString(), lease);
            long live = await().atMost(WAIT).until(lease::sessionId, id -> id != 0 && id != first);
            await().atMost(WAIT).until(() -> racing.size() == n);
            Map<String, Throwable> got = outcomes(racing);
            // let the recovery finish what it can
            await().atMost(WAIT).until(() -> {
                for (int i = 0; i < n; i++) {
                    if (stat(zk, "/rg/r-" + i) == null) {
                        return false;
                    }
                }
                return true;
            });
            int asyncWon = 0;
            for (int i = 0; i < n; i++) {
                String p = "/rg/r-" + i;
                Stat st = stat(zk, p);
                String data = new String(zk.getData(p, false, null), StandardCharsets.UTF_8);
                Throwable e = got.get(p);
                if (st.getEphemeralOwner() != live) {
                    problems.add(p + " owned by 0x" + Long.toHexString(st.getEphemeralOwner()));
                }
                if (e == null) {
                    asyncWon++;
                    if (!data.equals("async-" + i)) {
                        problems.add(p + " createAsync told ok but node holds '" + data + "'");
                    }
                    if (handles.get(i).isPresent()) {
                        problems.add(p + " handle present on a node createAsync created");
                    }
                } else if (e instanceof ZkNodeExistsException) {
                    if (!data.equals("handle-" + i)) {
                        problems.add(p + " createAsync NodeExists but node holds '" + data + "'");
                    }
                } else {
                    problems.add(p + " createAsync: " + e);
                }
            }
            for (EphemeralNode h : handles) {
                h.close();
            }
            sync(zk, "/rg");
            for (int i = 0; i < n; i++) {
                String p = "/rg/r-" + i;
                Stat st = stat(zk, p);
                if (got.get(p) == null && st == null) {
                    problems.add(p + " createAsync's node deleted by closing the registration");
                }
                if (got.get(p) != null && st != null) {
                    problems.add(p + " registration's node left after its close: " + st);
                }
            }
            System.out.printf(
                    "registrations: q registered after createAsync %d/%d; after expiry createAsync won %d/%d; %s%n",
                    qRegistered, n, asyncWon, n, batchEvidence());
            assertThat(problems)
                    .as(
                            "%d problems, first: %s",
                            problems.size(), problems.stream().limit(10).toList())
                    .isEmpty();
        }
    }

    /**
     * A 3.5 server (separate process): batched ephemeral creates with duplicates and missing parents, then an expiry
     * with batches in flight. Each caller's own outcome; every node owned by the live session; no failed one present.
     */
    @Test
    void ephemeralBatchesOnA35Server() throws Exception {
        try (ProcessEnsemble old = ProcessEnsemble.builder()
                        .size(1)
                        .serverVersion("3.5.10")
                        .start();
                RawZooKeeper obs = RawZooKeeper.connect(old.connectString(), Duration.ofSeconds(30));
                ZkSessionPool pool = pool(old.connectString(), 1, Duration.ofSeconds(20), null);
                ZkLease lease = pool.lease()) {
            ZooKeeper zk = obs.zk();
            mk(zk, "/o");
            mk(zk, "/o/taken");
            long first = lease.sessionId();
            Map<String, CompletableFuture<?>> calls = new LinkedHashMap<>();
            for (int i = 0; i < 600; i++) {
                String p = i % 50 == 7 ? "/o/taken" : i % 50 == 13 ? "/o/none/n-" + i : "/o/n-" + i;
                calls.put(p + "#" + i, lease.createAsync(p, bytes(p), CreateMode.EPHEMERAL));
            }
            Map<String, Throwable> got = outcomes(calls);
            List<String> problems = new ArrayList<>();
            for (Map.Entry<String, Throwable> o : got.entrySet()) {
                String p = o.getKey().substring(0, o.getKey().indexOf('#'));
                Throwable e = o.getValue();
                Class<?> want = p.equals("/o/taken")
                        ? ZkNodeExistsException.class
                        : p.startsWith("/o/none") ? ZkNoNodeException.class : null;
                if (want == null ? e != null : !want.isInstance(e) || !p.equals(((ZkException) e).path())) {
                    problems.add(o.getKey() + ": " + e);
                }
                Stat st = stat(zk, p);
                if (want == null && (st == null || st.getEphemeralOwner() != first)) {
                    problems.add(p + " on server: " + st);
                }
            }
            long batchedBefore =
                    writeBatches() == null ? 0 : (long) writeBatches().max();
            // an expiry with a stream in flight
            Map<String, CompletableFuture<?>> stream = new LinkedHashMap<>();
            for (int i = 0; i < 600; i++) {
                String p = "/o/s-" + i;
                stream.put(p, lease.createAsync(p, bytes(p), CreateMode.EPHEMERAL));
                if (i == 300) {
                    expire(old.connectString(), lease);
                }
            }
            Map<String, Throwable> streamGot = outcomes(stream);
            long live = await().atMost(WAIT).until(lease::sessionId, id -> id != 0 && id != first);
            sync(zk, "/o");
            int ok = 0;
            int expired = 0;
            for (Map.Entry<String, Throwable> o : streamGot.entrySet()) {
                Stat st = stat(zk, o.getKey());
                Throwable e = o.getValue();
                if (st != null && st.getEphemeralOwner() != live) {
                    problems.add(o.getKey() + " owned by 0x" + Long.toHexString(st.getEphemeralOwner()));
                }
                if (e == null) {
                    ok++;
                } else if (unknown(e)) {
                    problems.add(o.getKey() + " unknown with no cut: " + e.getMessage());
                } else {
                    expired += e instanceof ZkSessionExpiredException ? 1 : 0;
                    if (st != null) {
                        problems.add(o.getKey() + " failed (" + e + ") but exists");
                    }
                }
            }
            System.out.printf(
                    "3.5.10: first batch max %d; stream %d ok, %d expired; %s%n",
                    batchedBefore, ok, expired, batchEvidence());
            assertThat(problems)
                    .as(
                            "%d problems, first: %s",
                            problems.size(), problems.stream().limit(10).toList())
                    .isEmpty();
            assertThat(batchedBefore).as("ephemeral creates batched on 3.5").isGreaterThan(1);
        }
    }

    /**
     * Bounded time: a stream of ephemeral creates while the connection is frozen (the session survives). Each future
     * completes within its operation timeout (from its call) plus a margin; after the thaw a failure that is not
     * "unknown" has no node, and an ok one is owned by the live session.
     */
    @Test
    void ephemeralBatchesUnderAFrozenConnectionEndInBoundedTime() throws Exception {
        mk(observer.zk(), "/fz");
        Duration opTimeout = Duration.ofSeconds(3);
        Map<String, CompletableFuture<?>> calls = new LinkedHashMap<>();
        Map<String, Long> calledAt = new ConcurrentHashMap<>();
        Map<String, Long> doneAt = new ConcurrentHashMap<>();
        try (ZkSessionPool pool = pool(proxy.connectString(), 1, opTimeout, null);
                ZkLease lease = pool.lease()) {
            long session = lease.sessionId();
            proxy.latency(Duration.ofMillis(100));
            for (int i = 0; i < 800; i++) {
                String p = "/fz/n-" + i;
                if (i == 300) {
                    await().atMost(WAIT).until(calls.get("/fz/n-0")::isDone);
                    proxy.freeze(); // a batch in flight (n-0 went alone), the rest queued
                }
                calledAt.put(p, System.nanoTime());
                CompletableFuture<String> f = lease.createAsync(p, bytes(p), CreateMode.EPHEMERAL);
                f.whenComplete((v, e) -> doneAt.put(p, System.nanoTime()));
                calls.put(p, f);
            }
            Map<String, Throwable> got;
            try {
                got = outcomes(calls);
            } finally {
                proxy.unfreeze();
                proxy.latency(Duration.ZERO);
            }
            long live = lease.sessionId();
            // anything sent may still land after the thaw: a round trip on the session, then look
            await().atMost(WAIT).ignoreExceptions().until(() -> lease.getChildren("/fz") != null);
            ZooKeeper zk = observer.zk();
            sync(zk, "/fz");
            long worst = 0;
            Map<String, Integer> kinds = new java.util.TreeMap<>();
            List<String> problems = new ArrayList<>();
            for (Map.Entry<String, Throwable> o : got.entrySet()) {
                String p = o.getKey();
                long took = (doneAt.get(p) - calledAt.get(p)) / 1_000_000;
                worst = Math.max(worst, took);
                Throwable e = o.getValue();
                kinds.merge(
                        e == null ? "ok" : e.getClass().getSimpleName() + (unknown(e) ? "(unknown)" : ""),
                        1,
                        Integer::sum);
                Stat st = stat(zk, p);
                if (st != null && st.getEphemeralOwner() != live) {
                    problems.add(p + " owned by 0x" + Long.toHexString(st.getEphemeralOwner()));
                }
                if (e == null && st == null) {
                    problems.add(p + " ok, absent");
                }
                if (e != null && !unknown(e) && st != null) {
                    problems.add(p + " failed (" + e.getMessage() + ") but exists");
                }
            }
            // anything unknown may still land: give it time, then look again at who owns it
            System.out.printf(
                    "freeze: session 0x%x -> 0x%x; outcomes %s; slowest %d ms (timeout %d ms)%n",
                    session, live, kinds, worst, opTimeout.toMillis());
            assertThat(problems)
                    .as(
                            "%d problems, first: %s",
                            problems.size(), problems.stream().limit(10).toList())
                    .isEmpty();
            assertThat(worst).as("slowest call").isLessThan(opTimeout.toMillis() + 7_000);
        }
    }

    /**
     * Split at jute.maxbuffer with ephemeral creates: twenty of 400 KB each (any three over the limit together) and
     * one over the limit alone, in one stream. The big one fails alone (bad input, early, naming its path, nothing
     * sent); the others are ok, owned by the lease's session, which is never dropped.
     */
    @Test
    void ephemeralBatchesSplitAtJuteMaxbufferAndAnOversizedOneFailsAlone() throws Exception {
        mk(observer.zk(), "/big");
        try (ZkSessionPool pool = pool(server.getConnectString(), 1, Duration.ofSeconds(20), null);
                ZkLease lease = pool.lease()) {
            long session = lease.sessionId();
            Map<String, CompletableFuture<?>> calls = new LinkedHashMap<>();
            String huge = "/big/huge";
            Throwable thrown = null;
            for (int i = 0; i < 21; i++) {
                if (i == 10) {
                    try {
                        calls.put(huge, lease.createAsync(huge, new byte[1_200_000], CreateMode.EPHEMERAL));
                    } catch (RuntimeException e) {
                        thrown = e;
                    }
                }
                String p = "/big/n-" + i;
                calls.put(p, lease.createAsync(p, new byte[400_000], CreateMode.EPHEMERAL));
            }
            Map<String, Throwable> got = outcomes(calls);
            Throwable hugeError = thrown != null ? thrown : got.remove(huge);
            ZooKeeper zk = observer.zk();
            sync(zk, "/big");
            List<String> problems = new ArrayList<>();
            for (Map.Entry<String, Throwable> o : got.entrySet()) {
                if (o.getKey().equals(huge)) {
                    continue;
                }
                Stat st = stat(zk, o.getKey());
                if (o.getValue() != null || st == null || st.getEphemeralOwner() != session) {
                    problems.add(o.getKey() + ": " + o.getValue() + ", server " + st);
                }
            }
            System.out.printf(
                    "maxbuffer: huge one %s; %s; session 0x%x -> 0x%x%n",
                    hugeError, batchEvidence(), session, lease.sessionId());
            assertThat(problems)
                    .as(
                            "%d problems, first: %s",
                            problems.size(), problems.stream().limit(10).toList())
                    .isEmpty();
            assertThat(hugeError).as("the oversized create fails").isNotNull();
            assertThat(unknown(hugeError)).as("not sent, so not unknown").isFalse();
            assertThat(hugeError).as("bad input, early").isInstanceOf(IllegalArgumentException.class);
            assertThat(stat(zk, huge)).isNull();
            assertThat(lease.sessionId()).isEqualTo(session);
        }
    }

    /**
     * Many duplicates in one ephemeral batch over a link with 100 ms each way: a multi names only its first failure, so
     * each duplicate costs the rest one more round trip. The fresh creates, each of which alone would be answered in
     * one round trip, must not fail for their neighbours (nor exceed their operation timeout, 4 s from the call).
     */
    @Test
    void duplicatesInOneEphemeralBatchDoNotMakeTheirNeighboursFail() throws Exception {
        mk(observer.zk(), "/rt");
        mk(observer.zk(), "/rt/taken");
        Duration opTimeout = Duration.ofSeconds(4);
        // Control: the same calls on the same link without batching, each sent alone.
        mk(observer.zk(), "/rt0");
        mk(observer.zk(), "/rt0/taken");
        try (ZkSessionPool plain = pool(proxy.connectString(), 1, opTimeout, null, false);
                ZkLease lease = plain.lease()) {
            lease.sessionId();
            proxy.latency(Duration.ofMillis(100));
            Map<String, CompletableFuture<?>> calls = new LinkedHashMap<>();
            long t0 = System.nanoTime();
            for (int i = 0; i < 100; i++) {
                String p = i % 2 == 1 ? "/rt0/taken" : "/rt0/n-" + i;
                calls.put(p + "#" + i, lease.createAsync(p, bytes(p), CreateMode.EPHEMERAL));
            }
            Map<String, Throwable> got = outcomes(calls);
            long ms = (System.nanoTime() - t0) / 1_000_000;
            proxy.latency(Duration.ZERO);
            Map<String, Integer> kinds = new java.util.TreeMap<>();
            got.forEach((k, e) -> kinds.merge(
                    (k.startsWith("/rt0/taken") ? "dup " : "fresh ")
                            + (e == null ? "ok" : e.getClass().getSimpleName()),
                    1,
                    Integer::sum));
            System.out.printf("duplicates, unbatched control: %s, all done in %d ms%n", kinds, ms);
        }
        try (ZkSessionPool pool = pool(proxy.connectString(), 1, opTimeout, null);
                ZkLease lease = pool.lease()) {
            long session = lease.sessionId();
            proxy.latency(Duration.ofMillis(100));
            Map<String, CompletableFuture<?>> calls = new LinkedHashMap<>();
            Map<String, Long> calledAt = new ConcurrentHashMap<>();
            Map<String, Long> doneAt = new ConcurrentHashMap<>();
            for (int i = 0; i < 100; i++) {
                String key = i % 2 == 1 ? "/rt/taken#" + i : "/rt/n-" + i + "#" + i;
                String p = key.substring(0, key.indexOf('#'));
                calledAt.put(key, System.nanoTime());
                CompletableFuture<String> f = lease.createAsync(p, bytes(p), CreateMode.EPHEMERAL);
                f.whenComplete((v, e) -> doneAt.put(key, System.nanoTime()));
                calls.put(key, f);
            }
            Map<String, Throwable> got = outcomes(calls);
            proxy.latency(Duration.ZERO);
            ZooKeeper zk = observer.zk();
            sync(zk, "/rt");
            Map<String, Integer> kinds = new java.util.TreeMap<>();
            List<String> problems = new ArrayList<>();
            long worst = 0;
            for (Map.Entry<String, Throwable> o : got.entrySet()) {
                String key = o.getKey();
                String p = key.substring(0, key.indexOf('#'));
                Throwable e = o.getValue();
                long took = (doneAt.get(key) - calledAt.get(key)) / 1_000_000;
                worst = Math.max(worst, took);
                boolean dup = p.equals("/rt/taken");
                kinds.merge(
                        (dup ? "dup " : "fresh ")
                                + (e == null ? "ok" : e.getClass().getSimpleName() + (unknown(e) ? "(unknown)" : "")),
                        1,
                        Integer::sum);
                Stat st = stat(zk, p);
                if (dup) {
                    if (!(e instanceof ZkNodeExistsException)) {
                        problems.add(key + " (duplicate): " + e + " after " + took + " ms");
                    }
                } else if (e != null) {
                    problems.add(key + " (fresh) failed after " + took + " ms: " + e.getMessage() + "; on server: "
                            + (st == null ? "absent" : "owner 0x" + Long.toHexString(st.getEphemeralOwner())));
                } else if (st == null || st.getEphemeralOwner() != session) {
                    problems.add(key + " ok, server " + st);
                }
            }
            System.out.printf("duplicates: %s; slowest %d ms; %s%n", kinds, worst, batchEvidence());
            // The same with persistent creates (for the engineer: the chain is the batcher's, not the ephemerals')
            mk(zk, "/rtp");
            mk(zk, "/rtp/taken");
            proxy.latency(Duration.ofMillis(100));
            Map<String, CompletableFuture<?>> persistent = new LinkedHashMap<>();
            for (int i = 0; i < 100; i++) {
                String p = i % 2 == 1 ? "/rtp/taken" : "/rtp/n-" + i;
                persistent.put(p + "#" + i, lease.createAsync(p, bytes(p), CreateMode.PERSISTENT));
            }
            Map<String, Throwable> pgot = outcomes(persistent);
            proxy.latency(Duration.ZERO);
            Map<String, Integer> pkinds = new java.util.TreeMap<>();
            pgot.forEach((k, e) -> pkinds.merge(
                    (k.startsWith("/rtp/taken") ? "dup " : "fresh ")
                            + (e == null ? "ok" : e.getClass().getSimpleName() + (unknown(e) ? "(unknown)" : "")),
                    1,
                    Integer::sum));
            System.out.printf("duplicates, persistent creates batched: %s%n", pkinds);
            assertThat(problems)
                    .as(
                            "%d problems, first: %s",
                            problems.size(), problems.stream().limit(6).toList())
                    .isEmpty();
            assertThat(worst).isLessThan(opTimeout.toMillis() + 7_000);
        }
    }

    /**
     * Three sessions, a lease on each, all streaming ephemeral creates; one session is expired mid-stream. The leases on
     * the other two sessions are untouched by it (every create ok, owned by their unchanged session); on the expired
     * one, a node on the server is always owned by the live session and nobody told failed has one.
     */
    @Test
    void expiryOfOneOfThreeSessionsLeavesTheOthersAlone() throws Exception {
        mk(observer.zk(), "/three");
        try (ZkSessionPool pool = pool(server.getConnectString(), 3, Duration.ofSeconds(15), null)) {
            List<ZkLease> leases = new ArrayList<>();
            Map<Long, ZkLease> bySession = new LinkedHashMap<>();
            for (int i = 0; i < 12 && bySession.size() < 3; i++) {
                ZkLease l = pool.lease();
                leases.add(l);
                bySession.putIfAbsent(l.sessionId(), l);
            }
            assertThat(bySession).as("leases on three sessions").hasSize(3);
            List<ZkLease> three = new ArrayList<>(bySession.values());
            List<Long> before = new ArrayList<>(bySession.keySet());
            Map<String, CompletableFuture<?>> calls = new ConcurrentHashMap<>();
            Map<String, Integer> leaseOf = new ConcurrentHashMap<>();
            List<Thread> threads = new ArrayList<>();
            java.util.concurrent.CountDownLatch half = new java.util.concurrent.CountDownLatch(3);
            for (int l = 0; l < 3; l++) {
                ZkLease lease = three.get(l);
                int n = l;
                Thread t = new Thread(() -> {
                    for (int i = 0; i < 1200; i++) {
                        String p = "/three/l" + n + "-" + i;
                        leaseOf.put(p, n);
                        calls.put(p, lease.createAsync(p, bytes(p), CreateMode.EPHEMERAL));
                        if (i == 600) {
                            half.countDown();
                        }
                    }
                });
                threads.add(t);
                t.start();
            }
            half.await(60, TimeUnit.SECONDS);
            expire(server.getConnectString(), three.get(0));
            for (Thread t : threads) {
                t.join();
            }
            Map<String, Throwable> got = outcomes(calls);
            long live0 = await().atMost(WAIT).until(three.get(0)::sessionId, id -> id != 0 && id != before.get(0));
            List<Long> after =
                    List.of(live0, three.get(1).sessionId(), three.get(2).sessionId());
            ZooKeeper zk = observer.zk();
            sync(zk, "/three");
            List<String> problems = new ArrayList<>();
            int[] ok = new int[3];
            int[] expired = new int[3];
            for (Map.Entry<String, Throwable> o : got.entrySet()) {
                int n = leaseOf.get(o.getKey());
                Stat st = stat(zk, o.getKey());
                Throwable e = o.getValue();
                if (e == null) {
                    ok[n]++;
                } else if (e instanceof ZkSessionExpiredException) {
                    expired[n]++;
                }
                if (n > 0) {
                    if (e != null || st == null || st.getEphemeralOwner() != before.get(n)) {
                        problems.add(o.getKey() + " (a neighbour session's lease): " + e + ", server " + st);
                    }
                } else {
                    if (st != null && st.getEphemeralOwner() != live0) {
                        problems.add(o.getKey() + " owned by 0x" + Long.toHexString(st.getEphemeralOwner()));
                    }
                    if (e != null && st != null) {
                        problems.add(o.getKey() + " failed (" + e + ") but exists");
                    }
                    if (e != null && unknown(e)) {
                        problems.add(o.getKey() + " unknown with no cut: " + e.getMessage());
                    }
                }
            }
            System.out.printf(
                    "three sessions: before %s after %s; ok %s, expired %s; %s%n",
                    before, after, java.util.Arrays.toString(ok), java.util.Arrays.toString(expired), batchEvidence());
            assertThat(problems)
                    .as(
                            "%d problems, first: %s",
                            problems.size(), problems.stream().limit(10).toList())
                    .isEmpty();
            assertThat(after.subList(1, 3)).isEqualTo(before.subList(1, 3));
            for (ZkLease l : leases) {
                l.close();
            }
        }
    }

    /**
     * The core of the change, aimed: a batch of ephemeral creates with a duplicate every other one, over a 200 ms
     * round trip, so that its rest is sent again many times; the session expires (then, in a second round, is cut and
     * then expired) while that chain runs. Nothing of the chain may be created on the new session: each caller is ok
     * (its node was made on the old session), NodeExists (its own duplicate), or expired with no node; no "unknown"
     * without a cut.
     */
    @Test
    void aRollbackChainInterruptedByAnExpiryIsNotRedoneOnTheNewSession() throws Exception {
        mk(observer.zk(), "/ch");
        mk(observer.zk(), "/ch/taken");
        try (ZkSessionPool pool = pool(proxy.connectString(), 1, Duration.ofSeconds(30), null);
                ZkLease lease = pool.lease()) {
            List<String> problems = new ArrayList<>();
            for (int round = 0; round < 2; round++) {
                long old = lease.sessionId();
                proxy.latency(Duration.ofMillis(100));
                Map<String, CompletableFuture<?>> calls = new LinkedHashMap<>();
                for (int i = 0; i < 64; i++) {
                    String key = i % 2 == 1 ? "/ch/taken#" + round + "-" + i : "/ch/n-" + round + "-" + i + "#";
                    String p = key.substring(0, key.indexOf('#'));
                    calls.put(key, lease.createAsync(p, bytes(p), CreateMode.EPHEMERAL));
                }
                // a few round trips into the chain
                String third = "/ch/taken#" + round + "-5";
                await().atMost(WAIT).until(calls.get(third)::isDone);
                if (round == 1) {
                    proxy.closeAllConnections();
                }
                expire(server.getConnectString(), lease);
                Map<String, Throwable> got = outcomes(calls);
                proxy.latency(Duration.ZERO);
                long live = await().atMost(WAIT).until(lease::sessionId, id -> id != 0 && id != old);
                ZooKeeper zk = observer.zk();
                sync(zk, "/ch");
                Map<String, Integer> kinds = new java.util.TreeMap<>();
                for (Map.Entry<String, Throwable> o : got.entrySet()) {
                    String p = o.getKey().substring(0, o.getKey().indexOf('#'));
                    Throwable e = o.getValue();
                    boolean dup = p.equals("/ch/taken");
                    kinds.merge(
                            (dup ? "dup " : "fresh ")
                                    + (e == null
                                            ? "ok"
                                            : e.getClass().getSimpleName() + (unknown(e) ? "(unknown)" : "")),
                            1,
                            Integer::sum);
                    if (dup) {
                        if (!(e instanceof ZkNodeExistsException
                                || e instanceof ZkSessionExpiredException
                                || round == 1 && unknown(e))) {
                            problems.add("round " + round + " " + o.getKey() + ": " + e);
                        }
                        continue;
                    }
                    Stat st = stat(zk, p);
                    if (st != null) {
                        problems.add("round " + round + " " + p + " exists, owner 0x"
                                + Long.toHexString(st.getEphemeralOwner())
                                + (st.getEphemeralOwner() == live ? " (the NEW session)" : "") + "; caller told " + e);
                    }
                    if (e != null && !(e instanceof ZkSessionExpiredException) && !(round == 1 && unknown(e))) {
                        problems.add("round " + round + " " + p + ": " + e);
                    }
                }
                System.out.printf("chain round %d: 0x%x -> 0x%x: %s%n", round, old, live, kinds);
            }
            assertThat(problems)
                    .as(
                            "%d problems, first: %s",
                            problems.size(), problems.stream().limit(10).toList())
                    .isEmpty();
        }
    }

    /**
     * A chrooted connect string: each batched ephemeral create returns the path as the caller named it (as create
     * does), a duplicate or a missing parent names the caller's path (not the chrooted one), and the server holds each
     * node under the chroot, owned by the lease's session; the same after a cut mid-stream.
     */
    @Test
    void chrootedEphemeralBatchesReturnAndNameTheCallersPaths() throws Exception {
        mk(observer.zk(), "/chr");
        mk(observer.zk(), "/chr/app");
        mk(observer.zk(), "/chr/app/taken");
        try (ZkSessionPool pool = pool(proxy.connectString() + "/chr", 1, Duration.ofSeconds(15), null);
                ZkLease lease = pool.lease()) {
            long session = lease.sessionId();
            Map<String, CompletableFuture<String>> calls = new LinkedHashMap<>();
            for (int i = 0; i < 400; i++) {
                String p = i % 40 == 3 ? "/app/taken" : i % 40 == 9 ? "/app/none/x-" + i : "/app/n-" + i;
                calls.put(p + "#" + i, lease.createAsync(p, bytes(p), CreateMode.EPHEMERAL));
                if (i == 200) {
                    proxy.closeAllConnections();
                }
            }
            Map<String, Throwable> got = outcomes(calls);
            ZooKeeper zk = observer.zk();
            sync(zk, "/chr");
            List<String> problems = new ArrayList<>();
            int unknowns = 0;
            for (Map.Entry<String, Throwable> o : got.entrySet()) {
                String p = o.getKey().substring(0, o.getKey().indexOf('#'));
                Throwable e = o.getValue();
                Stat st = stat(zk, "/chr" + p);
                if (unknown(e)) {
                    unknowns++;
                    continue;
                }
                if (p.equals("/app/taken") || p.startsWith("/app/none")) {
                    Class<?> want = p.equals("/app/taken") ? ZkNodeExistsException.class : ZkNoNodeException.class;
                    if (!want.isInstance(e) || !p.equals(((ZkException) e).path())) {
                        problems.add(o.getKey() + ": " + e
                                + (e instanceof ZkException ? " naming " + ((ZkException) e).path() : ""));
                    }
                    continue;
                }
                if (e != null) {
                    problems.add(o.getKey() + ": " + e);
                    continue;
                }
                String returned = calls.get(o.getKey()).join();
                if (!p.equals(returned)) {
                    problems.add(o.getKey() + " returned " + returned);
                }
                if (st == null || st.getEphemeralOwner() != session) {
                    problems.add("/chr" + p + " on server: " + st);
                }
            }
            System.out.printf("chroot: %d calls, %d unknown; %s%n", got.size(), unknowns, batchEvidence());
            assertThat(problems)
                    .as(
                            "%d problems, first: %s",
                            problems.size(), problems.stream().limit(10).toList())
                    .isEmpty();
            assertThat(lease.sessionId()).isEqualTo(session);
        }
    }

    /**
     * A session listener that, on each new session, blocks on its own batched ephemeral creates (join) and makes a
     * synchronous ephemeral create after them, while the main stream keeps a batch queued on the same session. Nothing
     * deadlocks; every listener call ends ok on the session it saw (or expired if that one expired meanwhile).
     */
    @Test
    void aListenerBlockingOnItsOwnBatchedEphemeralCreates() throws Exception {
        mk(observer.zk(), "/bl");
        mk(observer.zk(), "/bl/l");
        List<String> listenerResults = new CopyOnWriteArrayList<>();
        Map<String, Long> listenerPaths = new ConcurrentHashMap<>();
        ZkLease[] forListener = new ZkLease[1];
        SessionListener listener = new SessionListener() {
            @Override
            public void onStateChange(SessionEvent event) {
                ZkLease l = forListener[0];
                if (l == null || event.sameSession() || event.state() != SessionState.RECONNECTED) {
                    return;
                }
                long sid = event.sessionIdAfter();
                List<CompletableFuture<String>> mine = new ArrayList<>();
                for (int i = 0; i < 30; i++) {
                    String p = "/bl/l/" + Long.toHexString(sid) + "-" + i;
                    listenerPaths.put(p, sid);
                    mine.add(l.createAsync(p, bytes(p), CreateMode.EPHEMERAL));
                }
                for (CompletableFuture<String> f : mine) {
                    try {
                        f.get(60, TimeUnit.SECONDS);
                        listenerResults.add("ok");
                    } catch (Exception e) {
                        listenerResults.add(String.valueOf(unwrap(e.getCause() != null ? e.getCause() : e)));
                    }
                }
                String sync = "/bl/l/" + Long.toHexString(sid) + "-sync";
                listenerPaths.put(sync, sid);
                try {
                    l.create(sync, bytes(sync), CreateMode.EPHEMERAL);
                    listenerResults.add("ok");
                } catch (RuntimeException e) {
                    listenerResults.add(String.valueOf(e));
                }
            }
        };
        try (ZkSessionPool pool = pool(server.getConnectString(), 1, Duration.ofSeconds(15), listener);
                ZkLease lease = pool.lease();
                ZkLease other = pool.lease()) {
            forListener[0] = other;
            Map<String, CompletableFuture<?>> calls = new ConcurrentHashMap<>();
            int i = 0;
            for (int round = 0; round < 2; round++) {
                long before = lease.sessionId();
                for (int j = 0; j < 400; j++, i++) {
                    String p = "/bl/n-" + i;
                    calls.put(p, lease.createAsync(p, bytes(p), CreateMode.EPHEMERAL));
                    if (j == 100) {
                        expire(server.getConnectString(), lease);
                    }
                }
                await().atMost(WAIT).until(() -> lease.sessionId() != before);
                await().atMost(WAIT).until(() -> listenerResults.size() == 31 * (listenerPathsSessions(listenerPaths)));
            }
            Map<String, Throwable> got = outcomes(calls);
            long live = lease.sessionId();
            await().atMost(WAIT).until(() -> listenerPaths.containsValue(live) && listenerResults.size() == 62);
            ZooKeeper zk = observer.zk();
            sync(zk, "/bl");
            List<String> problems = new ArrayList<>();
            for (Map.Entry<String, Long> e : listenerPaths.entrySet()) {
                Stat st = stat(zk, e.getKey());
                if (e.getValue() == live && (st == null || st.getEphemeralOwner() != live)) {
                    problems.add("listener's " + e.getKey() + " on the live session: " + st);
                }
            }
            for (String r : listenerResults) {
                if (!r.equals("ok")) {
                    problems.add("listener call: " + r);
                }
            }
            for (Map.Entry<String, Throwable> o : got.entrySet()) {
                Stat st = stat(zk, o.getKey());
                if (st != null && (o.getValue() != null || st.getEphemeralOwner() != live)) {
                    problems.add(o.getKey() + ": " + o.getValue() + ", server " + st);
                }
            }
            System.out.printf(
                    "blocking listener: %d listener calls, %d problems; main %d calls%n",
                    listenerResults.size(), problems.size(), got.size());
            assertThat(problems)
                    .as(
                            "%d problems, first: %s",
                            problems.size(), problems.stream().limit(10).toList())
                    .isEmpty();
        }
    }

    private static int listenerPathsSessions(Map<String, Long> paths) {
        return (int) paths.values().stream().distinct().count();
    }

    /**
     * Three separate-process servers; the leader is killed (kill -9) mid-stream of ephemeral creates, then restarted
     * and the new leader killed too. The session survives the elections: ok ⇒ exists owned by it; failed (not unknown)
     * ⇒ absent; nobody told expired while the session lives.
     */
    @Test
    void leaderKilledDuringEphemeralBatches() throws Exception {
        try (ProcessEnsemble ensemble = ProcessEnsemble.builder().size(3).start();
                RawZooKeeper obs = RawZooKeeper.connect(ensemble.connectString(), Duration.ofSeconds(30));
                ZkSessionPool pool = pool(ensemble.connectString(), 1, Duration.ofSeconds(20), null);
                ZkLease lease = pool.lease()) {
            ZooKeeper zk = obs.zk();
            mk(zk, "/kl");
            long session = lease.sessionId();
            Map<String, CompletableFuture<?>> calls = new LinkedHashMap<>();
            int i = 0;
            for (int round = 0; round < 2; round++) {
                List<CompletableFuture<?>> window = new ArrayList<>();
                for (int j = 0; j < 600; j++, i++) {
                    String p = "/kl/n-" + i;
                    CompletableFuture<String> f = lease.createAsync(p, bytes(p), CreateMode.EPHEMERAL);
                    calls.put(p, f);
                    window.add(f);
                    if (j == 300) {
                        ensemble.leader().kill9();
                    }
                }
                CompletableFuture.allOf(window.toArray(CompletableFuture[]::new))
                        .handle((v, e) -> null)
                        .orTimeout(WAIT.toMillis(), TimeUnit.MILLISECONDS)
                        .join();
                for (dev.zksdk.testing.ServerProcess sp : ensemble.servers()) {
                    if (!sp.isAlive()) {
                        sp.restart();
                    }
                }
                ensemble.awaitQuorum(WAIT);
            }
            Map<String, Throwable> got = outcomes(calls);
            long live = lease.sessionId();
            await().atMost(WAIT).ignoreExceptions().until(() -> {
                sync(zk, "/kl");
                return true;
            });
            int ok = 0;
            int unknown = 0;
            int failed = 0;
            List<String> problems = new ArrayList<>();
            for (Map.Entry<String, Throwable> o : got.entrySet()) {
                Stat st = stat(zk, o.getKey());
                Throwable e = o.getValue();
                if (st != null && st.getEphemeralOwner() != live) {
                    problems.add(o.getKey() + " owned by 0x" + Long.toHexString(st.getEphemeralOwner()));
                }
                if (e == null) {
                    ok++;
                    if (st == null && live == session) {
                        problems.add(o.getKey() + " ok, absent");
                    }
                } else if (unknown(e)) {
                    unknown++;
                } else {
                    failed++;
                    if (st != null) {
                        problems.add(o.getKey() + " failed (" + e + ") but exists");
                    }
                    if (e instanceof ZkSessionExpiredException && live == session) {
                        problems.add(o.getKey() + " told expired, session lives: " + e.getMessage());
                    }
                }
            }
            System.out.printf(
                    "leader kills: session 0x%x -> 0x%x; %d ok, %d unknown, %d failed; %s%n",
                    session, live, ok, unknown, failed, batchEvidence());
            assertThat(problems)
                    .as(
                            "%d problems, first: %s",
                            problems.size(), problems.stream().limit(10).toList())
                    .isEmpty();
        }
    }
}
