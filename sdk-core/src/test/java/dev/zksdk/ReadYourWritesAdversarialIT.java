package dev.zksdk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.zksdk.cache.CachedNode;
import dev.zksdk.cache.ZkCache;
import dev.zksdk.testing.ForcedExpiry;
import dev.zksdk.testing.ProcessEnsemble;
import dev.zksdk.testing.QuorumLink;
import dev.zksdk.testing.ServerConnections;
import dev.zksdk.testing.ServerProcess;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.TimeUnit;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.Op;
import org.apache.zookeeper.ZooDefs.Ids;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.data.Stat;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Tries to break "a lease's reads see every write this pool completed before the lease was taken" with the writes
 * and reads {@code ReadYourWritesIT} does not pair: deletes then exists/getChildren, async writes and async reads,
 * multi, leases taken on different threads, {@link EphemeralNode} registration, setData and close, a new session
 * after an expiry, and caches made after the write. Setup as {@code ReadYourWritesIT}: a pool with two sessions, one
 * on a follower whose quorum link lags, one on the other follower; each pair writes on the healthy session and reads
 * on the lagging one.
 */
class ReadYourWritesAdversarialIT {

    static final int LAGGING = 1;
    static final Duration LATENCY = Duration.ofMillis(20);
    static final Duration SESSION_TIMEOUT = Duration.ofSeconds(15);
    static final Duration BUDGET = Duration.ofSeconds(5);
    static final int MIN_PAIRS = 60;

    static ProcessEnsemble ensemble;
    static QuorumLink link;
    static String lagging;
    static String healthy;
    static ZkSessionPool pool;
    static final Map<Long, String> serverOfSession = new ConcurrentHashMap<>();

    @BeforeAll
    static void start() {
        ensemble = ProcessEnsemble.builder()
                .size(3)
                .syncLimit(20)
                .proxiedQuorumLink(LAGGING)
                .start();
        link = ensemble.quorumLink(LAGGING);
        ServerProcess leader = ensemble.leader();
        ServerProcess other = ensemble.servers().stream()
                .filter(s -> s.id() != LAGGING && s.id() != leader.id())
                .findFirst()
                .orElseThrow();
        lagging = ensemble.server(LAGGING).address();
        healthy = other.address();
        pool = ZkSessionPool.builder()
                .name("adv-ryw")
                .connectString(ensemble.connectString(LAGGING, other.id()))
                .sessionsPerEnsemble(2)
                .sessionTimeout(SESSION_TIMEOUT)
                .connectionTimeout(Duration.ofSeconds(15))
                .followEnsembleChanges(false)
                .build();
        try (ZkLease lease = pool.lease()) {
            lease.create("/adv", new byte[0], CreateMode.PERSISTENT);
        }
        await().atMost(Duration.ofSeconds(30))
                .until(() -> pool.stats().connectionsPerServer().equals(Map.of(lagging, 1, healthy, 1)));
        link.latency(LATENCY);
    }

    @AfterAll
    static void stop() {
        if (pool != null) {
            pool.close();
        }
        if (ensemble != null) {
            ensemble.close();
        }
    }

    // ------------------------------------------------------------------------------------------ scenarios

    @Test
    void existsAndGetChildrenOnTheNextLeaseDoNotSeeANodeThePreviousLeaseDeleted() {
        String parent = prepare("/adv/del");
        Result result = pairs(
                "delete -> exists/getChildren",
                (w, i) -> {
                    w.create(parent + "/n" + i, new byte[0], CreateMode.PERSISTENT);
                    try (ZkLease r = leaseOn(lagging)) {
                        r.sync(parent); // the create is known on both, so that the delete is what the read can miss
                    }
                    w.delete(parent + "/n" + i, -1);
                },
                (r, i) -> {
                    Stat stat = r.exists(parent + "/n" + i);
                    List<String> children = r.getChildren(parent);
                    return stat == null && !children.contains("n" + i)
                            ? null
                            : "exists=" + (stat != null) + ", children contain n" + i + "="
                                    + children.contains("n" + i);
                });
        result.assertNoStaleRead();
    }

    @Test
    void asyncReadsOnTheNextLeaseSeeAsyncWritesOfThePreviousOne() {
        String parent = prepare("/adv/async");
        Result result = pairs(
                "createAsync/setDataAsync/deleteAsync -> existsAsync/getChildrenAsync/getDataAsync",
                (w, i) -> {
                    w.createAsync(parent + "/n" + i, bytes(i), CreateMode.PERSISTENT)
                            .get(30, TimeUnit.SECONDS);
                    w.setDataAsync(parent, bytes(i), -1).get(30, TimeUnit.SECONDS);
                    if (i > 0) {
                        w.deleteAsync(parent + "/n" + (i - 1), -1).get(30, TimeUnit.SECONDS);
                    }
                },
                (r, i) -> {
                    Stat stat = r.existsAsync(parent + "/n" + i).get(30, TimeUnit.SECONDS);
                    List<String> children = r.getChildrenAsync(parent).get(30, TimeUnit.SECONDS);
                    String data = new String(r.getDataAsync(parent).get(30, TimeUnit.SECONDS), StandardCharsets.UTF_8);
                    boolean fresh = stat != null
                            && children.contains("n" + i)
                            && (i == 0 || !children.contains("n" + (i - 1)))
                            && Integer.parseInt(data) >= i;
                    return fresh ? null : "exists=" + (stat != null) + ", children=" + children + ", data=" + data;
                });
        result.assertNoStaleRead();
    }

    @Test
    void aReadOnTheNextLeaseSeesAMultiOfThePreviousOne() {
        String parent = prepare("/adv/multi");
        Result result = pairs(
                "multi -> getData",
                (w, i) -> w.multi(List.of(
                        Op.create(parent + "/m" + i, bytes(i), Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT),
                        Op.setData(parent, bytes(i), -1))),
                (r, i) -> {
                    String data = new String(r.getData(parent), StandardCharsets.UTF_8);
                    Stat stat = r.exists(parent + "/m" + i);
                    return stat != null && Integer.parseInt(data) >= i
                            ? null
                            : "data=" + data + ", m" + i + " exists=" + (stat != null);
                });
        result.assertNoStaleRead();
    }

    @Test
    void aLeaseTakenOnAnotherThreadAfterTheWriteCompletedSeesIt() throws Exception {
        String key = prepare("/adv/threads");
        SynchronousQueue<Integer> handOver = new SynchronousQueue<>();
        ExecutorService reader = Executors.newSingleThreadExecutor();
        Result result = new Result("write on thread A -> lease and read on thread B");
        try {
            Future<?> readerDone = reader.submit(() -> {
                while (true) {
                    int i = handOver.take();
                    if (i < 0) {
                        return null;
                    }
                    try (ZkLease r = leaseOn(lagging)) {
                        String got = new String(r.getData(key), StandardCharsets.UTF_8);
                        result.record(i, Integer.parseInt(got) >= i ? null : "got " + got);
                    }
                    handOver.put(i);
                }
            });
            long deadline = System.nanoTime() + BUDGET.toNanos();
            for (int i = 0; System.nanoTime() < deadline || i < MIN_PAIRS; i++) {
                try (ZkLease w = leaseOn(healthy)) {
                    w.setData(key, bytes(i), -1);
                }
                handOver.put(i);
                assertThat(handOver.poll(30, TimeUnit.SECONDS)).isEqualTo(i);
            }
            handOver.put(-1);
            readerDone.get(30, TimeUnit.SECONDS);
        } finally {
            reader.shutdownNow();
        }
        result.assertNoStaleRead();
    }

    @Test
    void aReadOnAnotherSessionSeesAnEphemeralRegistrationItsSetDataAndItsClose() {
        String parent = prepare("/adv/eph");
        List<String> stale = new ArrayList<>();
        Result result = new Result("ephemeral()/setData/close -> exists/getData");
        long deadline = System.nanoTime() + BUDGET.plusSeconds(3).toNanos();
        for (int i = 0; System.nanoTime() < deadline || i < MIN_PAIRS; i++) {
            String path = parent + "/e" + i;
            EphemeralNode node;
            try (ZkLease w = leaseOn(healthy)) {
                node = w.ephemeral(path, bytes(0));
            }
            String problem = null;
            try (ZkLease r = leaseOn(lagging)) {
                if (r.exists(path) == null) {
                    problem = "registration not seen";
                }
            }
            node.setData(bytes(1));
            try (ZkLease r = leaseOn(lagging)) {
                if (problem == null) {
                    try {
                        String got = new String(r.getData(path), StandardCharsets.UTF_8);
                        if (!got.equals("1")) {
                            problem = "EphemeralNode.setData(1) not seen: got " + got;
                        }
                    } catch (ZkNoNodeException e) {
                        problem = "EphemeralNode.setData(1) not seen: NONODE";
                    }
                }
            }
            node.close();
            try (ZkLease r = leaseOn(lagging)) {
                if (problem == null && r.exists(path) != null) {
                    problem = "EphemeralNode.close() not seen: the node still exists";
                    try (ZkLease h = leaseOn(healthy)) {
                        problem += h.exists(path) != null
                                ? " (and on the healthy session too: close() returned before the "
                                        + "delete was applied there)"
                                : " (the healthy session no longer sees it)";
                    }
                }
            }
            result.record(i, problem);
        }
        result.assertNoStaleRead();
    }

    @Test
    void aNewSessionAfterAnExpiryReadsEveryEarlierWriteOfThePool() throws Exception {
        String key = prepare("/adv/expiry");
        Result result = new Result("write -> read on the lagging server's new session after an expiry");
        int i = 0;
        for (int round = 0; round < 3; round++) {
            long old;
            byte[] password;
            try (ZkLease r = leaseOn(lagging)) {
                ZooKeeper zk = r.curator().getZookeeperClient().getZooKeeper();
                old = zk.getSessionId();
                password = zk.getSessionPasswd();
            }
            ForcedExpiry.expireSession(lagging, old, password);
            // The replacement session: it starts with no history on its server.
            await().atMost(Duration.ofSeconds(30)).until(() -> {
                long now = sessionServers().getOrDefault(lagging, 0L);
                return now != 0L
                        && now != old
                        && pool.stats().connectionsPerServer().getOrDefault(lagging, 0) == 1;
            });
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
            for (int n = 0; n < 40 || System.nanoTime() < end; n++, i++) {
                try (ZkLease w = leaseOn(healthy)) {
                    w.setData(key, bytes(i), -1);
                }
                try (ZkLease r = leaseOn(lagging)) {
                    String got = new String(r.getData(key), StandardCharsets.UTF_8);
                    result.record(i, Integer.parseInt(got) >= i ? null : "round " + round + ": got " + got);
                }
            }
        }
        result.assertNoStaleRead();
    }

    /**
     * A cache made on a lease taken after a write: its first read loads through the lease's session, so by the lease's
     * promise it must see the write. {@code getCurrent} (sync + read) must always see it.
     */
    @Test
    void aCacheMadeOnALeaseTakenAfterAWriteLoadsThatWrite() {
        cacheScenario("/adv/cache1", true);
    }

    @Test
    void cacheGetCurrentAlwaysSeesTheLatestWriteOfThePool() {
        cacheScenario("/adv/cache2", false);
    }

    void cacheScenario(String root, boolean checkFirst) {
        String parent = prepare(root);
        Result first = new Result("write -> new cache's first get()");
        Result current = new Result("write -> cache.getCurrent()");
        List<ZkCache> caches = new ArrayList<>();
        try {
            long deadline = System.nanoTime() + BUDGET.toNanos();
            for (int i = 0; System.nanoTime() < deadline || i < MIN_PAIRS; i++) {
                String path = parent + "/c" + i;
                try (ZkLease w = leaseOn(healthy)) {
                    w.create(path, bytes(i), CreateMode.PERSISTENT);
                }
                try (ZkLease r = leaseOn(lagging)) {
                    ZkCache cache = r.cache(path);
                    caches.add(cache);
                    CachedNode got = cache.get();
                    first.record(i, got != null ? null : "null (absent)");
                }
                try (ZkLease w = leaseOn(healthy)) {
                    w.setData(path, bytes(i + 1), -1);
                }
                CachedNode now = caches.get(caches.size() - 1).getCurrent(path);
                current.record(
                        i,
                        now != null && new String(now.data(), StandardCharsets.UTF_8).equals(Integer.toString(i + 1))
                                ? null
                                : "getCurrent returned "
                                        + (now == null ? "null" : new String(now.data(), StandardCharsets.UTF_8)));
                if (caches.size() > 20) {
                    caches.remove(0).close();
                }
            }
        } finally {
            caches.forEach(ZkCache::close);
        }
        if (checkFirst) {
            first.assertNoStaleRead();
        } else {
            current.assertNoStaleRead();
        }
    }

    // ------------------------------------------------------------------------------------------- helpers

    interface Write {
        void run(ZkLease w, int i) throws Exception;
    }

    interface Read {
        /** Null when fresh, else what was seen. */
        String run(ZkLease r, int i) throws Exception;
    }

    static Result pairs(String name, Write write, Read read) {
        Result result = new Result(name);
        long deadline = System.nanoTime() + BUDGET.toNanos();
        for (int i = 0; System.nanoTime() < deadline || i < MIN_PAIRS; i++) {
            try (ZkLease w = leaseOn(healthy)) {
                write.run(w, i);
            } catch (Exception e) {
                throw new AssertionError(name + ": write " + i + " failed", e);
            }
            try (ZkLease r = leaseOn(lagging)) {
                result.record(i, read.run(r, i));
            } catch (Exception e) {
                throw new AssertionError(name + ": read " + i + " failed", e);
            }
        }
        return result;
    }

    static final class Result {
        final String name;
        int pairs;
        final List<String> stale = new ArrayList<>();

        Result(String name) {
            this.name = name;
        }

        synchronized void record(int i, String problem) {
            pairs++;
            if (problem != null) {
                stale.add("pair " + i + ": " + problem);
            }
        }

        synchronized void assertNoStaleRead() {
            System.out.println(name + ": " + pairs + " pairs, " + stale.size() + " stale");
            assertThat(pairs).isGreaterThanOrEqualTo(MIN_PAIRS);
            assertThat(stale)
                    .as("%s: stale reads on the lagging session's lease in %d pairs (first 10)", name, pairs)
                    .hasSize(0);
        }
    }

    static String prepare(String path) {
        try (ZkLease lease = pool.lease()) {
            lease.create(path, bytes(-1), CreateMode.PERSISTENT);
        }
        for (int i = 0; i < 2; i++) {
            try (ZkLease lease = pool.lease()) {
                lease.sync(path);
            }
        }
        return path;
    }

    static ZkLease leaseOn(String server) {
        for (int attempt = 0; attempt < 4; attempt++) {
            ZkLease lease = pool.lease();
            if (server.equals(serverOf(lease.sessionId()))) {
                return lease;
            }
            lease.close();
        }
        throw new AssertionError("no lease on " + server + " in four tries; " + pool.stats());
    }

    static String serverOf(long sessionId) {
        String server = serverOfSession.get(sessionId);
        if (server == null) {
            sessionServers().forEach((s, id) -> serverOfSession.put(id, s));
            server = serverOfSession.getOrDefault(sessionId, "unknown server");
        }
        return server;
    }

    /** Server to the pool's session on it (the observer's own are not there: the test has none). */
    static Map<String, Long> sessionServers() {
        Map<String, Long> found = new HashMap<>();
        for (String server : List.of(lagging, healthy)) {
            for (Long id : ServerConnections.sessionIds(server)) {
                found.put(server, id);
            }
        }
        return found;
    }

    static byte[] bytes(int value) {
        return Integer.toString(value).getBytes(StandardCharsets.UTF_8);
    }
}
