package dev.zksdk.compat;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.awaitility.Awaitility.await;

import dev.zksdk.EnsembleConfig;
import dev.zksdk.EphemeralNode;
import dev.zksdk.SessionState;
import dev.zksdk.WatchEvent;
import dev.zksdk.WatchHandle;
import dev.zksdk.ZkAuthException;
import dev.zksdk.ZkException;
import dev.zksdk.ZkLease;
import dev.zksdk.ZkNoNodeException;
import dev.zksdk.ZkSessionPool;
import dev.zksdk.ZkUnsupportedException;
import dev.zksdk.cache.ZkCache;
import dev.zksdk.diagnostics.DiagnosticsReport;
import dev.zksdk.diagnostics.EnsembleDoctor;
import dev.zksdk.diagnostics.FindingCode;
import dev.zksdk.diagnostics.ServerReport;
import dev.zksdk.testing.ForcedExpiry;
import dev.zksdk.testing.InProcessEnsembles;
import dev.zksdk.testing.ProcessEnsemble;
import dev.zksdk.testing.Recorder;
import dev.zksdk.testing.ServerProcess;
import dev.zksdk.testing.SessionLeases;
import dev.zksdk.testing.TxnLogOracle;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.api.ACLProvider;
import org.apache.curator.framework.api.CuratorEvent;
import org.apache.curator.framework.recipes.atomic.DistributedAtomicLong;
import org.apache.curator.framework.recipes.cache.ChildData;
import org.apache.curator.framework.recipes.cache.CuratorCache;
import org.apache.curator.framework.recipes.cache.NodeCache;
import org.apache.curator.framework.recipes.cache.PathChildrenCache;
import org.apache.curator.framework.recipes.cache.TreeCache;
import org.apache.curator.framework.recipes.leader.LeaderLatch;
import org.apache.curator.framework.recipes.leader.LeaderSelector;
import org.apache.curator.framework.recipes.leader.LeaderSelectorListenerAdapter;
import org.apache.curator.framework.recipes.locks.InterProcessMutex;
import org.apache.curator.framework.recipes.locks.InterProcessReadWriteLock;
import org.apache.curator.framework.recipes.locks.InterProcessSemaphoreV2;
import org.apache.curator.framework.recipes.locks.Lease;
import org.apache.curator.framework.recipes.nodes.GroupMember;
import org.apache.curator.framework.recipes.nodes.PersistentNode;
import org.apache.curator.framework.recipes.queue.DistributedQueue;
import org.apache.curator.framework.recipes.queue.QueueBuilder;
import org.apache.curator.framework.recipes.queue.QueueConsumer;
import org.apache.curator.framework.recipes.queue.QueueSerializer;
import org.apache.curator.framework.recipes.shared.SharedCount;
import org.apache.curator.framework.state.ConnectionState;
import org.apache.curator.retry.RetryOneTime;
import org.apache.zookeeper.AddWatchMode;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Op;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.data.ACL;
import org.apache.zookeeper.data.Stat;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Adversarial review of "every ZooKeeper server in production, 3.4 to 3.9": a user's workload against real 3.4.14 and
 * 3.5.10 servers (each a separate process from that version's own jars), beyond {@link ServerCompatibilityContract}.
 * The ground truth of "a request the server did not know" is the server's own log line ("Received packet at server
 * of unknown type N"); 3.4 and 3.5 close the connection after each.
 *
 * <p>Every case asserts the promise, not the current behaviour: at the time of writing about half of them fail (see
 * each case's Javadoc and the evidence its assertion message prints); the rest are regression tests.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class OldServerAdversarialIT {

    static final byte[] V = "v".getBytes(UTF_8);
    static final byte[] W = "w".getBytes(UTF_8);
    static final String UNKNOWN = ServerLogs.UNKNOWN;
    static final String FAILED = "Failed to process";

    ProcessEnsemble zk34;
    ProcessEnsemble zk35;
    ProcessEnsemble ens34;

    @BeforeAll
    void startServers() throws Exception {
        CompletableFuture<ProcessEnsemble> f34 = CompletableFuture.supplyAsync(
                () -> ProcessEnsemble.builder().serverVersion("3.4.14").size(1).start());
        CompletableFuture<ProcessEnsemble> f35 = CompletableFuture.supplyAsync(
                () -> ProcessEnsemble.builder().serverVersion("3.5.10").size(1).start());
        CompletableFuture<ProcessEnsemble> fens = CompletableFuture.supplyAsync(
                () -> ProcessEnsemble.builder().serverVersion("3.4.14").size(3).start());
        zk34 = f34.get();
        zk35 = f35.get();
        ens34 = fens.get();
    }

    @AfterAll
    void stopServers() {
        for (ProcessEnsemble e : new ProcessEnsemble[] {zk34, zk35, ens34}) {
            if (e != null) {
                e.close();
            }
        }
    }

    // ------------------------------------------------------------------------------------------------------------
    // helpers

    /**
     * The pool's own version probe on a new connection (getAllChildrenNumber, opcode 104, ZooKeeper 3.6), which a 3.5
     * server answers by closing that connection before anyone used it: not counted here, but by
     * {@link #zk35_theFirstConnectionsProbeIsTheOnlyUnknownRequestAndNobodySeesItsReconnect}.
     */
    static boolean isProbe(String needle, String line) {
        return needle.equals(UNKNOWN) && line.endsWith("unknown type 104");
    }

    static long probeLines(ProcessEnsemble e) {
        return ServerLogs.lines(e, l -> isProbe(UNKNOWN, l)).size();
    }

    static long logLines(ProcessEnsemble e, String needle) {
        return logLinesList(e, needle).size();
    }

    static List<String> logLinesList(ProcessEnsemble e, String needle) {
        return ServerLogs.lines(e, l -> l.contains(needle) && !isProbe(needle, l));
    }

    /** Counts unknown requests and "Failed to process" errors of one ensemble from a starting point. */
    static final class ServerTruth {
        final ProcessEnsemble ensemble;
        final long unknown0;
        final long failed0;

        ServerTruth(ProcessEnsemble ensemble) {
            this.ensemble = ensemble;
            this.unknown0 = logLines(ensemble, UNKNOWN);
            this.failed0 = logLines(ensemble, FAILED);
        }

        long unknown() {
            return logLines(ensemble, UNKNOWN) - unknown0;
        }

        long failed() {
            return logLines(ensemble, FAILED) - failed0;
        }

        String unknownLines() {
            List<String> all = logLinesList(ensemble, UNKNOWN);
            return String.join("\n", all.subList((int) Math.min(unknown0, all.size()), all.size()));
        }

        String failedLines() {
            List<String> all = logLinesList(ensemble, FAILED);
            return String.join("\n", all.subList((int) Math.min(failed0, all.size()), all.size()));
        }
    }

    static ZkSessionPool pool(String name, String connect, Recorder events) {
        return pool(name, connect, events, 1);
    }

    static ZkSessionPool pool(String name, String connect, Recorder events, int sessions) {
        return ZkSessionPool.builder()
                .name(name)
                .connectString(connect)
                .sessionsPerEnsemble(sessions)
                .sessionTimeout(Duration.ofSeconds(8))
                .connectionTimeout(Duration.ofSeconds(10))
                .listener(events)
                .build();
    }

    static long suspended(Recorder events) {
        return events.callbacks(SessionState.SUSPENDED).size();
    }

    static String unique(String name) {
        return "/adv-" + name + "-" + System.nanoTime();
    }

    static void expire(ZkLease lease, String connect) throws Exception {
        ZooKeeper zk = lease.curator().getZookeeperClient().getZooKeeper();
        ForcedExpiry.expireSession(connect, zk.getSessionId(), zk.getSessionPasswd());
    }

    static boolean createdAsContainer(ProcessEnsemble e, String serverPath) {
        for (ServerProcess s : e.servers()) {
            Path dataDir = s.directory().resolve("data");
            var found = TxnLogOracle.read(dataDir.toFile()).txns().stream()
                    .filter(t -> t.applied()
                            && t.ops().stream()
                                    .anyMatch(op -> op.type() == TxnLogOracle.OpType.CREATE
                                            && op.path().equals(serverPath)))
                    .map(t -> t.opCode() == ZooDefs.OpCode.createContainer)
                    .findFirst();
            if (found.isPresent()) {
                return found.get();
            }
        }
        throw new AssertionError("no create of " + serverPath + " in the transaction log");
    }

    static Map<String, Long> unknownByType(ServerTruth truth) {
        Map<String, Long> byType = new TreeMap<>();
        for (String line : truth.unknownLines().split("\n")) {
            if (line.contains(UNKNOWN)) {
                String type =
                        line.substring(line.indexOf(UNKNOWN) + UNKNOWN.length()).trim();
                byType.merge(type, 1L, Long::sum);
            }
        }
        return byType;
    }

    interface Call {
        Object run() throws Exception;
    }

    /** Runs a call and describes how it ended, with its duration. */
    static String outcome(String what, Call call) {
        long t0 = System.nanoTime();
        try {
            Object r = call.run();
            return what + " -> returned " + r + " in " + ms(t0);
        } catch (Throwable t) {
            return what + " -> " + t.getClass().getName() + ": " + t.getMessage() + " in " + ms(t0);
        }
    }

    static String ms(long t0) {
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0) + " ms";
    }

    static Throwable unwrap(Throwable t) {
        while (t instanceof ExecutionException || t instanceof CompletionException) {
            t = t.getCause();
        }
        return t;
    }

    static void closeAll(List<? extends AutoCloseable> closeables) {
        for (AutoCloseable c : closeables) {
            try {
                c.close();
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        }
    }

    // ============================================================================================================
    // A. Curator recipes on lease.curator() beyond mutex / leader latch / atomic long

    /**
     * LeaderSelector, InterProcessSemaphoreV2, InterProcessReadWriteLock, SharedCount, DistributedQueue, PersistentNode,
     * NodeCache, PathChildrenCache, TreeCache, creatingParentContainersIfNeeded with a Stat on a protected ephemeral
     * sequential node, a background create's Stat, orSetData, and a transaction: all must work, with no request the
     * server does not know and no reconnect (every recipe is closed, as an application does).
     */
    void moreCuratorRecipes(ProcessEnsemble server, String version) throws Exception {
        ServerTruth truth = new ServerTruth(server);
        Recorder events = new Recorder();
        String base = unique("recipes-" + version);
        try (ZkSessionPool pool = pool("adv-recipes-" + version, server.connectString(), events, 2);
                ZkLease a = pool.lease();
                ZkLease b = pool.lease()) {
            CuratorFramework ca = a.curator();
            CuratorFramework cb = b.curator();

            Stat stat = new Stat();
            String seq = ca.create()
                    .storingStatIn(stat)
                    .creatingParentContainersIfNeeded()
                    .withProtection()
                    .withMode(CreateMode.EPHEMERAL_SEQUENTIAL)
                    .forPath(base + "/x/y/seq-", V);
            assertThat(seq).startsWith(base + "/x/y/").contains("seq-");
            assertThat(stat.getEphemeralOwner())
                    .as("Stat of " + seq)
                    .isEqualTo(ca.getZookeeperClient().getZooKeeper().getSessionId());
            assertThat(stat.getCzxid()).isEqualTo(a.exists(seq).getCzxid());

            AtomicReference<CuratorEvent> bg = new AtomicReference<>();
            ca.create().inBackground((c, e) -> bg.set(e)).forPath(base + "/bg", V);
            await().atMost(Duration.ofSeconds(10)).until(() -> bg.get() != null);
            assertThat(bg.get().getResultCode()).isZero();
            assertThat(bg.get().getStat()).as("Stat of a background create").isNotNull();
            assertThat(bg.get().getStat().getCzxid())
                    .isEqualTo(a.exists(base + "/bg").getCzxid());

            ca.create().orSetData().forPath(base + "/bg", W);
            assertThat(a.getData(base + "/bg")).isEqualTo(W);

            var results = ca.transaction()
                    .forOperations(
                            ca.transactionOp().create().forPath(base + "/tx1", V),
                            ca.transactionOp()
                                    .create()
                                    .withMode(CreateMode.EPHEMERAL)
                                    .forPath(base + "/tx2", V),
                            ca.transactionOp().setData().forPath(base + "/tx1", W));
            assertThat(results).hasSize(3);
            assertThat(a.getData(base + "/tx1")).isEqualTo(W);

            CountDownLatch led = new CountDownLatch(1);
            try (LeaderSelector selector =
                    new LeaderSelector(ca, base + "/selector", new LeaderSelectorListenerAdapter() {
                        @Override
                        public void takeLeadership(CuratorFramework client) {
                            led.countDown();
                        }
                    })) {
                selector.start();
                assertThat(led.await(10, TimeUnit.SECONDS))
                        .as("LeaderSelector led")
                        .isTrue();
            }

            InterProcessSemaphoreV2 sa = new InterProcessSemaphoreV2(ca, base + "/sem", 1);
            InterProcessSemaphoreV2 sb = new InterProcessSemaphoreV2(cb, base + "/sem", 1);
            Lease held = sa.acquire(10, TimeUnit.SECONDS);
            assertThat(held).isNotNull();
            assertThat(sb.acquire(200, TimeUnit.MILLISECONDS))
                    .as("semaphore full")
                    .isNull();
            sa.returnLease(held);
            Lease second = sb.acquire(10, TimeUnit.SECONDS);
            assertThat(second).isNotNull();
            sb.returnLease(second);

            InterProcessReadWriteLock rwa = new InterProcessReadWriteLock(ca, base + "/rw");
            InterProcessReadWriteLock rwb = new InterProcessReadWriteLock(cb, base + "/rw");
            assertThat(rwa.readLock().acquire(10, TimeUnit.SECONDS)).isTrue();
            assertThat(rwb.readLock().acquire(10, TimeUnit.SECONDS)).isTrue();
            rwa.readLock().release();
            rwb.readLock().release();
            assertThat(rwb.writeLock().acquire(10, TimeUnit.SECONDS)).isTrue();
            rwb.writeLock().release();

            try (SharedCount ca1 = new SharedCount(ca, base + "/count", 0);
                    SharedCount cb1 = new SharedCount(cb, base + "/count", 0)) {
                ca1.start();
                cb1.start();
                assertThat(ca1.trySetCount(ca1.getVersionedValue(), 7)).isTrue();
                await().atMost(Duration.ofSeconds(10)).until(() -> cb1.getCount() == 7);
            }

            List<String> consumed = new CopyOnWriteArrayList<>();
            try (DistributedQueue<String> q = QueueBuilder.builder(
                            cb, new ListConsumer(consumed), new StringSerializer(), base + "/queue")
                    .buildQueue()) {
                q.start();
                q.put("one");
                q.put("two");
                await().atMost(Duration.ofSeconds(10)).until(() -> consumed.size() == 2);
            }

            try (PersistentNode node = new PersistentNode(ca, CreateMode.EPHEMERAL, false, base + "/pn/a/b", V)) {
                node.start();
                assertThat(node.waitForInitialCreate(10, TimeUnit.SECONDS)).isTrue();
                assertThat(a.exists(base + "/pn/a/b")).isNotNull();
            }

            a.create(base + "/cached", V, CreateMode.PERSISTENT);
            try (NodeCache nc = new NodeCache(cb, base + "/cached");
                    PathChildrenCache pcc = new PathChildrenCache(cb, base + "/cached", true);
                    TreeCache tc = TreeCache.newBuilder(cb, base + "/cached").build()) {
                nc.start(true);
                pcc.start(PathChildrenCache.StartMode.BUILD_INITIAL_CACHE);
                tc.start();
                a.setData(base + "/cached", W, -1);
                a.create(base + "/cached/c", V, CreateMode.PERSISTENT);
                a.create(base + "/cached/c/d", V, CreateMode.PERSISTENT);
                await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
                    assertThat(nc.getCurrentData().getData()).isEqualTo(W);
                    assertThat(pcc.getCurrentData())
                            .extracting(ChildData::getPath)
                            .contains(base + "/cached/c");
                    assertThat(tc.getCurrentData(base + "/cached/c/d")).isNotNull();
                });
            }
            a.setData(base + "/cached", V, -1); // the leases still work
            assertThat(suspended(events))
                    .as("reconnects; unknown requests " + unknownByType(truth) + ":\n" + truth.unknownLines())
                    .isZero();
        }
        assertThat(truth.unknown())
                .as("unknown requests " + unknownByType(truth) + ":\n" + truth.unknownLines())
                .isZero();
        assertThat(truth.failed()).as("server errors:\n" + truth.failedLines()).isZero();
    }

    /**
     * 3.5: what the pool's version probe costs. Each pool probes once, on its first connection (a session connecting
     * while that probe is in flight waits for its answer instead of sending its own); the server answers by closing
     * that connection before anyone used it: no SUSPENDED reaches a listener, no call fails, and later watches send no
     * addWatch.
     */
    @Test
    void zk35_theFirstConnectionsProbeIsTheOnlyUnknownRequestAndNobodySeesItsReconnect() throws Exception {
        long probes0 = probeLines(zk35);
        ServerTruth truth = new ServerTruth(zk35);
        int pools = 3;
        int sessions = 2;
        List<Recorder> recorders = new ArrayList<>();
        for (int p = 0; p < pools; p++) {
            Recorder events = new Recorder();
            recorders.add(events);
            String base = unique("probe-" + p);
            try (ZkSessionPool pool = pool("adv-probe-" + p, zk35.connectString(), events, sessions);
                    ZkLease a = pool.lease();
                    ZkLease b = pool.lease()) {
                a.create(base, V, CreateMode.PERSISTENT);
                List<WatchEvent> seen = new CopyOnWriteArrayList<>();
                try (WatchHandle w1 = a.watch(base, seen::add);
                        WatchHandle w2 = b.watchChildren(base, seen::add)) {
                    b.setData(base, V, -1);
                    a.create(base + "/c", V, CreateMode.PERSISTENT);
                    await().atMost(Duration.ofSeconds(10)).until(() -> seen.size() >= 2);
                }
            }
        }
        long probes = probeLines(zk35) - probes0;
        String evidence = "probes " + probes + " for " + pools + " pools of " + sessions + " sessions; other unknown "
                + unknownByType(truth) + "; SUSPENDED "
                + recorders.stream()
                        .mapToLong(OldServerAdversarialIT::suspended)
                        .sum();
        System.out.println("[adv] " + evidence);
        assertThat(probes).as(evidence).isEqualTo(pools);
        assertThat(truth.unknown()).as(evidence).isZero();
        assertThat(recorders)
                .as(evidence)
                .allSatisfy(r -> assertThat(suspended(r)).isZero());
    }

    @Test
    void zk34_moreCuratorRecipesWorkWithoutUnknownRequests() throws Exception {
        moreCuratorRecipes(zk34, "3.4");
    }

    @Test
    void zk35_moreCuratorRecipesWorkWithoutUnknownRequests() throws Exception {
        moreCuratorRecipes(zk35, "3.5");
    }

    /**
     * The smallest reproducer of the previous case on 3.4: a LeaderLatch that is not the leader watches its
     * predecessor; closing it makes Curator remove that watch (a guaranteed removeWatches, opcode 17 checkWatches),
     * which 3.4 does not know: the server closes the connection under every lease of that session, and Curator sends
     * the guaranteed removal again after each reconnect. Every recipe that watches does the same on close (NodeCache,
     * PathChildrenCache, TreeCache, SharedCount, PersistentNode, DistributedQueue, semaphores, a lock waiter).
     */
    @Test
    void zk34_closingAWaitingLeaderLatchSendsNoUnknownRequest() throws Exception {
        ServerTruth truth = new ServerTruth(zk34);
        Recorder events = new Recorder();
        String base = unique("latch-close");
        try (ZkSessionPool pool = pool("adv-latch-close", zk34.connectString(), events);
                ZkLease lease = pool.lease();
                LeaderLatch leader = new LeaderLatch(lease.curator(), base, "leader")) {
            leader.start();
            assertThat(leader.await(10, TimeUnit.SECONDS)).isTrue();
            LeaderLatch follower = new LeaderLatch(lease.curator(), base, "follower");
            follower.start();
            await().atMost(Duration.ofSeconds(10))
                    .until(() -> lease.getChildren(base).size() == 2);
            follower.close();
            long closedAt = System.nanoTime();
            // how long the consequences last: until nothing new happens for a second (at most 5 s)
            Throwable settled = catchThrowable(() -> {
                long[] last = {-1};
                await().atMost(Duration.ofSeconds(5))
                        .pollInterval(Duration.ofSeconds(1))
                        .until(() -> {
                            long now = truth.unknown() + suspended(events) * 1000;
                            boolean same = now == last[0];
                            last[0] = now;
                            return same;
                        });
            });
            String evidence = "after closing one waiting LeaderLatch: unknown requests " + unknownByType(truth)
                    + ", reconnects of the shared session " + suspended(events) + ", "
                    + (settled == null ? "settled" : "still going") + " " + ms(closedAt) + " later\n"
                    + truth.unknownLines();
            System.out.println("[adv] " + evidence);
            SoftAssertions soft = new SoftAssertions();
            soft.assertThat(truth.unknown()).as(evidence).isZero();
            soft.assertThat(suspended(events)).as(evidence).isZero();
            soft.assertAll();
        }
    }

    /**
     * The root of the next cases: lease.curator() tells Curator's recipes whether the servers have persistent watches
     * ({@code getZookeeperCompatibility()}); CuratorCache.bridgeBuilder (and GroupMember, which uses it) choose
     * persistent watches or a TreeCache by it.
     */
    @Test
    void zk34_zk35_leaseCuratorDoesNotClaimPersistentWatchers() {
        List<String> claims = new ArrayList<>();
        for (ProcessEnsemble server : List.of(zk34, zk35)) {
            try (ZkSessionPool pool = pool("adv-compat-flag", server.connectString(), new Recorder());
                    ZkLease lease = pool.lease()) {
                lease.exists("/"); // connected, capabilities read
                if (lease.curator().getZookeeperCompatibility().hasPersistentWatchers()) {
                    claims.add(server.servers().get(0).version());
                }
            }
        }
        assertThat(claims)
                .as("versions on which lease.curator().getZookeeperCompatibility().hasPersistentWatchers() is true")
                .isEmpty();
    }

    /**
     * GroupMember (Curator 5: a PersistentNode plus CuratorCache.bridgeBuilder, which picks persistent watches when
     * the client claims them): two members on two sessions must see each other, with no request the server does not
     * know.
     */
    void groupMember(ProcessEnsemble server, String version) throws Exception {
        ServerTruth truth = new ServerTruth(server);
        Recorder events = new Recorder();
        String base = unique("group-" + version);
        try (ZkSessionPool pool = pool("adv-group-" + version, server.connectString(), events, 2);
                ZkLease a = pool.lease();
                ZkLease b = pool.lease()) {
            a.exists("/");
            b.exists("/");
            try (GroupMember m1 = new GroupMember(a.curator(), base, "m1", V);
                    GroupMember m2 = new GroupMember(b.curator(), base, "m2", V)) {
                m1.start();
                m2.start();
                Throwable seen = catchThrowable(() -> await().atMost(Duration.ofSeconds(3))
                        .until(() -> m1.getCurrentMembers().containsKey("m2")
                                && m2.getCurrentMembers().containsKey("m1")));
                String evidence = "GroupMember on " + version + ": m1 sees "
                        + m1.getCurrentMembers().keySet()
                        + ", m2 sees " + m2.getCurrentMembers().keySet() + ", group nodes "
                        + (a.exists(base) == null ? "none" : a.getChildren(base)) + "; unknown requests "
                        + unknownByType(truth) + ", reconnects " + suspended(events);
                System.out.println("[adv] " + evidence);
                SoftAssertions soft = new SoftAssertions();
                soft.assertThat(seen).as("members see each other: " + evidence).isNull();
                soft.assertThat(truth.unknown())
                        .as("unknown requests: " + evidence)
                        .isZero();
                soft.assertAll();
            }
        }
    }

    @Test
    void zk34_groupMemberSeesItsGroup() throws Exception {
        groupMember(zk34, "3.4");
    }

    @Test
    void zk35_groupMemberSeesItsGroup() throws Exception {
        groupMember(zk35, "3.5");
    }

    /**
     * 3.5: once the pool knows the servers lack addWatch (it learnt it from a watch), a CuratorCache (the 3.6 API) on
     * lease.curator() must not send addWatch again: each one costs a reconnect of the shared session. Curator's
     * PersistentWatcher retries a failed addWatch at once, for ever.
     */
    @Test
    void zk35_curatorCacheAfterThePoolLearntSendsNoFurtherAddWatch() throws Exception {
        ServerTruth truth = new ServerTruth(zk35);
        Recorder events = new Recorder();
        String base = unique("cc");
        try (ZkSessionPool pool = pool("adv-cc", zk35.connectString(), events);
                ZkLease lease = pool.lease()) {
            lease.create(base, V, CreateMode.PERSISTENT);
            try (WatchHandle w = lease.watch(base, e -> {})) {
                assertThat(w).isNotNull(); // the pool learns here: one unknown request, one reconnect allowed
            }
            long unknown0 = truth.unknown();
            long suspended0 = suspended(events);
            try (CuratorCache cache = CuratorCache.build(lease.curator(), base)) {
                cache.start();
                Throwable quiet = catchThrowable(() -> await().during(Duration.ofSeconds(2))
                        .atMost(Duration.ofSeconds(3))
                        .until(() -> truth.unknown() == unknown0 && suspended(events) == suspended0));
                String evidence = "after the pool learnt: " + (truth.unknown() - unknown0)
                        + " more unknown requests " + unknownByType(truth) + " and "
                        + (suspended(events) - suspended0) + " more reconnects within ~3 s of a CuratorCache";
                System.out.println("[adv] " + evidence);
                assertThat(quiet).as(evidence).isNull();
            }
            lease.setData(base, V, -1);
        }
    }

    // ============================================================================================================
    // B. Requests the server lacks, through the handle under lease.curator()

    /**
     * 3.4: Curator's addWatch (watchers().add(), the 3.6 API) and a TTL create (Curator's withTtl) on lease.curator(),
     * twice each. The pool knows the server is older than 3.5: both must fail at once, nothing sent, no reconnect.
     */
    @Test
    void zk34_curatorAddWatchAndTtlCreateAreRefusedWithoutSending() throws Exception {
        ServerTruth truth = new ServerTruth(zk34);
        Recorder events = new Recorder();
        String base = unique("refused");
        List<String> outcomes = new ArrayList<>();
        try (ZkSessionPool pool = pool("adv-refused", zk34.connectString(), events);
                ZkLease lease = pool.lease()) {
            lease.create(base, V, CreateMode.PERSISTENT);
            CuratorFramework curator = lease.curator();
            for (int round = 1; round <= 2; round++) {
                outcomes.add(outcome(
                        "#" + round + " curator.watchers().add()",
                        () -> curator.watchers()
                                .add()
                                .withMode(AddWatchMode.PERSISTENT_RECURSIVE)
                                .usingWatcher((Watcher) e -> {})
                                .forPath(base)));
                outcomes.add(outcome(
                        "#" + round + " curator.create().withTtl()",
                        () -> curator.create()
                                .withTtl(10_000)
                                .withMode(CreateMode.PERSISTENT_WITH_TTL)
                                .forPath(base + "/ttl", V)));
                lease.setData(base, V, -1);
            }
            String evidence = "unknown requests " + unknownByType(truth) + ", reconnects " + suspended(events) + "\n"
                    + String.join("\n", outcomes) + "\n" + truth.unknownLines();
            System.out.println("[adv] refused on 3.4: " + evidence);
            SoftAssertions soft = new SoftAssertions();
            soft.assertThat(outcomes)
                    .as(evidence)
                    .allMatch(o -> o.contains("UnimplementedException")
                            || o.contains("KeeperErrorCode = Unimplemented")
                            // Curator's own refusal once told the servers lack persistent watches: local, nothing sent
                            || o.contains("IllegalStateException: watchers() is not supported"));
            soft.assertThat(lease.exists(base + "/ttl")).isNull();
            soft.assertThat(truth.unknown()).as("unknown requests: " + evidence).isZero();
            soft.assertThat(suspended(events)).as("reconnects: " + evidence).isZero();
            soft.assertAll();
        }
    }

    /**
     * 3.4: the other requests of ZooKeeper's client API that 3.4 lacks, through the handle of lease.curator(), each
     * called twice: removeWatches (Curator's watchers().remove()), addWatch, getEphemerals, getAllChildrenNumber and
     * whoAmI. The pool knows it talks to a 3.4 server, yet each is sent, each time: every one is an unknown request
     * and a dropped connection under every lease of the session.
     */
    @Test
    void zk34_requestsTheServerLacksAreNotSentTwice() throws Exception {
        ServerTruth truth = new ServerTruth(zk34);
        Recorder events = new Recorder();
        String base = unique("raw");
        List<String> outcomes = new ArrayList<>();
        try (ZkSessionPool pool = pool("adv-raw", zk34.connectString(), events);
                ZkLease lease = pool.lease()) {
            lease.create(base, V, CreateMode.PERSISTENT);
            CuratorFramework curator = lease.curator();
            ZooKeeper zk = curator.getZookeeperClient().getZooKeeper();
            Watcher watcher = e -> {};
            for (int round = 1; round <= 2; round++) {
                outcomes.add(outcome("#" + round + " curator.watchers().remove()", () -> {
                    curator.getData().usingWatcher(watcher).forPath(base);
                    return curator.watchers().remove(watcher).forPath(base);
                }));
                outcomes.add(outcome("#" + round + " zk.addWatch", () -> {
                    zk.addWatch(base, watcher, AddWatchMode.PERSISTENT);
                    return null;
                }));
                outcomes.add(outcome("#" + round + " zk.getEphemerals", zk::getEphemerals));
                outcomes.add(outcome("#" + round + " zk.getAllChildrenNumber", () -> zk.getAllChildrenNumber(base)));
                outcomes.add(outcome("#" + round + " zk.whoAmI", zk::whoAmI));
                lease.setData(base, V, -1);
            }
            long unknown = truth.unknown();
            long reconnects = suspended(events);
            // no retry loop either
            await().during(Duration.ofSeconds(1))
                    .atMost(Duration.ofSeconds(2))
                    .until(() -> truth.unknown() == unknown && suspended(events) == reconnects);
            String evidence = "unknown requests " + unknownByType(truth) + ", reconnects " + reconnects + "\n"
                    + String.join("\n", outcomes) + "\n" + truth.unknownLines();
            System.out.println("[adv] raw calls on 3.4: " + evidence);
            assertThat(unknownByType(truth).values())
                    .as("a 3.4 server sees no unknown request twice: " + evidence)
                    .allMatch(n -> n <= 1);
            assertThat(reconnects)
                    .as("reconnects: " + evidence)
                    .isLessThanOrEqualTo(unknownByType(truth).size());
        }
    }

    /** 3.5 refuses TTL nodes unless extendedTypesEnabled: the server's answer, no reconnect, nothing created. */
    @Test
    void zk35_ttlCreateWithoutExtendedTypesFailsWithoutReconnect() throws Exception {
        ServerTruth truth = new ServerTruth(zk35);
        Recorder events = new Recorder();
        String base = unique("ttl35");
        try (ZkSessionPool pool = pool("adv-ttl35", zk35.connectString(), events);
                ZkLease lease = pool.lease()) {
            lease.create(base, V, CreateMode.PERSISTENT);
            Throwable viaCurator = catchThrowable(() -> lease.curator()
                    .create()
                    .withTtl(10_000)
                    .withMode(CreateMode.PERSISTENT_WITH_TTL)
                    .forPath(base + "/ttl", V));
            Throwable viaMulti = catchThrowable(() -> lease.multi(List.of(Op.create(
                    base + "/ttl2", V, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT_WITH_TTL, 10_000))));
            System.out.println(
                    "[adv] TTL create on 3.5 via curator: " + viaCurator + " | via lease.multi: " + viaMulti);
            assertThat(viaCurator).isInstanceOf(KeeperException.class);
            assertThat(viaMulti).isInstanceOf(ZkException.class);
            assertThat(((ZkException) viaMulti).code()).isEqualTo(KeeperException.Code.UNIMPLEMENTED);
            assertThat(lease.getChildren(base)).isEmpty();
            assertThat(suspended(events)).as("reconnects").isZero();
        }
        assertThat(truth.unknown())
                .as("unknown requests:\n" + truth.unknownLines())
                .isZero();
    }

    /**
     * A TTL create on a server that has TTL nodes switched off (extendedTypesEnabled is false by default on every
     * version) is answered with the error UNIMPLEMENTED, an ordinary answer: the connection stays. The pool must not
     * take that answer for "this server has no create2" and treat a 3.5 ensemble as 3.4 for the rest of its life
     * (containers refused, container parents made persistent, create2 emulated).
     */
    @Test
    void zk35_aRefusedTtlCreateDoesNotTurnTheEnsembleInto34() throws Exception {
        ServerTruth truth = new ServerTruth(zk35);
        Recorder events = new Recorder();
        String base = unique("ttl-downgrade35");
        try (ZkSessionPool pool = pool("adv-ttl-downgrade35", zk35.connectString(), events);
                ZkLease lease = pool.lease()) {
            lease.create(base, V, CreateMode.PERSISTENT);
            assertThatThrownBy(() -> lease.curator()
                            .create()
                            .withTtl(10_000)
                            .withMode(CreateMode.PERSISTENT_WITH_TTL)
                            .forPath(base + "/ttl", V))
                    .isInstanceOf(KeeperException.UnimplementedException.class);
            Throwable container = catchThrowable(() -> lease.create(base + "/box", V, CreateMode.CONTAINER));
            try (EphemeralNode node = lease.ephemeral(base + "/p/member", V)) {
                assertThat(node.isPresent()).isTrue();
            }
            String evidence = "after one refused TTL create on 3.5.10: create(CONTAINER) -> "
                    + (container == null ? "created" : container.toString()) + "; ephemeral's parent created as "
                    + (createdAsContainer(zk35, base + "/p") ? "a container" : "a PERSISTENT node");
            System.out.println("[adv] " + evidence);
            SoftAssertions soft = new SoftAssertions();
            soft.assertThat(container).as(evidence).isNull();
            soft.assertThat(createdAsContainer(zk35, base + "/p")).as(evidence).isTrue();
            soft.assertThat(suspended(events)).as("reconnects").isZero();
            soft.assertThat(truth.unknown())
                    .as("unknown requests:\n" + truth.unknownLines())
                    .isZero();
            soft.assertAll();
        }
    }

    /** The same on the project's own server version (3.9): a refused TTL create must not cost tree watches. */
    @Test
    void zk39_aRefusedTtlCreateDoesNotTurnTheEnsembleIntoAnOldOne() throws Exception {
        Recorder events = new Recorder();
        String base = unique("ttl-downgrade39");
        var own = InProcessEnsembles.startServer();
        try (own;
                ZkSessionPool pool = pool("adv-ttl-downgrade39", own.getConnectString(), events);
                ZkLease lease = pool.lease()) {
            lease.create(base, V, CreateMode.PERSISTENT);
            Throwable ttl = catchThrowable(() -> lease.curator()
                    .create()
                    .withTtl(10_000)
                    .withMode(CreateMode.PERSISTENT_WITH_TTL)
                    .forPath(base + "/ttl", V));
            Assumptions.assumeTrue(
                    ttl instanceof KeeperException.UnimplementedException,
                    "TTL nodes are enabled on this server: " + ttl);
            Throwable tree = catchThrowable(() -> lease.watchTree(base, e -> {}).close());
            Throwable container = catchThrowable(() -> lease.create(base + "/box", V, CreateMode.CONTAINER));
            String evidence = "after one refused TTL create on 3.9: watchTree -> "
                    + (tree == null ? "armed" : tree.toString()) + "; create(CONTAINER) -> "
                    + (container == null ? "created" : container.toString());
            System.out.println("[adv] " + evidence);
            SoftAssertions soft = new SoftAssertions();
            soft.assertThat(tree).as(evidence).isNull();
            soft.assertThat(container).as(evidence).isNull();
            soft.assertThat(suspended(events)).as("reconnects").isZero();
            soft.assertAll();
        }
    }

    // ============================================================================================================
    // C. multi and async forms with container / TTL creates on 3.4

    @Test
    void zk34_multiAndAsyncWithAContainerCreateFailClearly() throws Exception {
        ServerTruth truth = new ServerTruth(zk34);
        Recorder events = new Recorder();
        String base = unique("multi");
        try (ZkSessionPool pool = pool("adv-multi", zk34.connectString(), events);
                ZkLease lease = pool.lease()) {
            lease.create(base, V, CreateMode.PERSISTENT);
            Throwable multi = catchThrowable(() -> lease.multi(List.of(
                    Op.create(base + "/ok", V, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT),
                    Op.create(base + "/c", V, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.CONTAINER))));
            Throwable multiAsync = unwrap(catchThrowable(() -> lease.multiAsync(
                            List.of(Op.create(base + "/ca", V, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.CONTAINER)))
                    .get(10, TimeUnit.SECONDS)));
            Throwable createAsync = unwrap(catchThrowable(() ->
                    lease.createAsync(base + "/cc", V, CreateMode.CONTAINER).get(10, TimeUnit.SECONDS)));
            Throwable noTtl = catchThrowable(() -> lease.create(base + "/tt", V, CreateMode.PERSISTENT_WITH_TTL));
            for (Throwable t : List.of(multi, multiAsync, createAsync)) {
                assertThat(t)
                        .isInstanceOf(ZkUnsupportedException.class)
                        .hasMessageContaining("container")
                        .hasMessageContaining("3.5");
                assertThat(((ZkUnsupportedException) t).server()).isNotBlank();
            }
            assertThat(noTtl).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("TTL");
            assertThat(lease.getChildren(base)).as("nothing created").isEmpty();
            assertThat(suspended(events)).as("reconnects").isZero();
        }
        assertThat(truth.unknown())
                .as("unknown requests:\n" + truth.unknownLines())
                .isZero();
        assertThat(truth.failed()).as("server errors:\n" + truth.failedLines()).isZero();
    }

    /**
     * 3.4: lease.multi with a TTL create. A TTL create alone (through Curator) fails at once with "TTL nodes need
     * ZooKeeper 3.5.3 or later"; inside a multi it must fail as clearly: ZkUnsupportedException naming the feature.
     */
    @Test
    void zk34_multiWithATtlCreateFailsClearly() throws Exception {
        ServerTruth truth = new ServerTruth(zk34);
        Recorder events = new Recorder();
        String base = unique("multi-ttl");
        try (ZkSessionPool pool = pool("adv-multi-ttl", zk34.connectString(), events);
                ZkLease lease = pool.lease()) {
            lease.create(base, V, CreateMode.PERSISTENT);
            long t0 = System.nanoTime();
            Throwable ttl = catchThrowable(() -> lease.multi(List.of(
                    Op.create(base + "/t", V, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT_WITH_TTL, 10_000))));
            String evidence = "lease.multi(TTL create) on 3.4: " + ttl + " after " + ms(t0) + "; server errors "
                    + truth.failed() + ", unknown requests " + truth.unknown() + ", reconnects " + suspended(events);
            System.out.println("[adv] " + evidence);
            assertThat(lease.getChildren(base)).as("nothing created").isEmpty();
            assertThat(ttl)
                    .as(evidence)
                    .isInstanceOf(ZkUnsupportedException.class)
                    .hasMessageContaining("TTL");
            assertThat(suspended(events)).as("reconnects").isZero();
        }
        assertThat(truth.unknown())
                .as("unknown requests:\n" + truth.unknownLines())
                .isZero();
    }

    // ============================================================================================================
    // D. Ephemeral sequential under missing parents, and its recovery after expiry (3.4)

    @Test
    void zk34_ephemeralSequentialWithMissingParentsSurvivesExpiry() throws Exception {
        ServerTruth truth = new ServerTruth(zk34);
        Recorder events = new Recorder();
        String base = unique("eseq");
        try (ZkSessionPool pool = pool("adv-eseq", zk34.connectString(), events);
                ZkLease lease = pool.lease();
                EphemeralNode node = lease.ephemeral(base + "/a/b/member-", V, CreateMode.EPHEMERAL_SEQUENTIAL)) {
            List<String> paths = new CopyOnWriteArrayList<>();
            node.onPathChange(paths::add);
            String first = node.path();
            long s1 = lease.sessionId();
            assertThat(first).startsWith(base + "/a/b/").contains("member-");
            assertThat(lease.exists(first).getEphemeralOwner()).isEqualTo(s1);
            assertThat(createdAsContainer(zk34, base + "/a")).isFalse();
            expire(lease, zk34.connectString());
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
                assertThat(lease.sessionId()).isNotEqualTo(s1);
                assertThat(node.isPresent()).isTrue();
                assertThat(node.path()).isNotEqualTo(first);
                assertThat(lease.exists(node.path()).getEphemeralOwner()).isEqualTo(lease.sessionId());
                assertThat(paths).contains(node.path());
            });
            await().atMost(Duration.ofSeconds(10)).until(() -> lease.exists(first) == null);
            assertThat(lease.getChildren(base + "/a/b")).hasSize(1);
        }
        assertThat(truth.unknown())
                .as("unknown requests:\n" + truth.unknownLines())
                .isZero();
    }

    // ============================================================================================================
    // E. Races against the capability read, and what the pool learnt

    /** 3.4: the first calls of fresh pools, concurrent, right after build(): nothing unknown is ever sent. */
    @Test
    void zk34_concurrentFirstCallsRightAfterStartSendNothingUnknown() throws Exception {
        ServerTruth truth = new ServerTruth(zk34);
        String base = unique("race34");
        ExecutorService exec = Executors.newFixedThreadPool(8);
        List<Recorder> recorders = new ArrayList<>();
        List<String> nullCurators = new CopyOnWriteArrayList<>();
        try {
            for (int p = 0; p < 4; p++) {
                Recorder events = new Recorder();
                recorders.add(events);
                String root = base + "-" + p;
                try (ZkSessionPool pool = pool("adv-race34-" + p, zk34.connectString(), events, 2)) {
                    List<Future<?>> fs = new ArrayList<>();
                    for (int i = 0; i < 8; i++) {
                        int n = i;
                        fs.add(exec.submit(() -> {
                            try (ZkLease lease = pool.lease()) {
                                switch (n % 4) {
                                    case 0 -> {
                                        CuratorFramework curator = lease.curator();
                                        if (curator == null) {
                                            nullCurators.add("pool " + root + " lease " + n);
                                            curator = pool.lease().curator();
                                        }
                                        curator.create()
                                                .creatingParentContainersIfNeeded()
                                                .forPath(root + "/curator/" + n, V);
                                    }
                                    case 1 ->
                                        lease.ephemeral(root + "/eph/" + n, V).close();
                                    case 2 ->
                                        lease.watch(root + "/w" + n, e -> {}).close();
                                    default -> lease.cache(root + "/c" + n).close();
                                }
                            }
                            return null;
                        }));
                    }
                    for (Future<?> f : fs) {
                        f.get(30, TimeUnit.SECONDS);
                    }
                }
            }
        } finally {
            exec.shutdownNow();
        }
        long reconnects =
                recorders.stream().mapToLong(OldServerAdversarialIT::suspended).sum();
        SoftAssertions soft = new SoftAssertions();
        soft.assertThat(truth.unknown())
                .as("unknown requests:\n" + truth.unknownLines())
                .isZero();
        soft.assertThat(reconnects).as("reconnects").isZero();
        soft.assertThat(nullCurators)
                .as("lease.curator() returned null (see leaseCuratorIsNeverNullRightAfterStart)")
                .isEmpty();
        soft.assertAll();
    }

    /**
     * lease.curator() of leases taken concurrently the moment the pool is built. SharedSession.start() marks the
     * session started before it has made the client it hands out, so a second caller can get null.
     */
    @Test
    void leaseCuratorIsNeverNullRightAfterStart() throws Exception {
        ExecutorService exec = Executors.newFixedThreadPool(8);
        List<String> nulls = new CopyOnWriteArrayList<>();
        try {
            for (int p = 0; p < 50 && nulls.isEmpty(); p++) {
                try (ZkSessionPool pool = pool("adv-null-curator-" + p, zk34.connectString(), new Recorder(), 2)) {
                    CountDownLatch go = new CountDownLatch(1);
                    List<Future<?>> fs = new ArrayList<>();
                    for (int i = 0; i < 8; i++) {
                        int n = i;
                        int poolNumber = p;
                        fs.add(exec.submit(() -> {
                            go.await();
                            try (ZkLease lease = pool.lease()) {
                                if (lease.curator() == null) {
                                    nulls.add("pool " + poolNumber + " thread " + n);
                                }
                            }
                            return null;
                        }));
                    }
                    go.countDown();
                    for (Future<?> f : fs) {
                        f.get(30, TimeUnit.SECONDS);
                    }
                }
            }
        } finally {
            exec.shutdownNow();
        }
        assertThat(nulls)
                .as("leases whose curator() was null (8 leases per pool, up to 50 pools)")
                .isEmpty();
    }

    /**
     * 3.4: what an application does first thing after building the pool, with Curator's background API (LeaderLatch
     * starts with a background create; so do many recipes): the handle's asynchronous creates must wait for the
     * capability read like its synchronous ones, or the first create2 reaches the 3.4 server.
     */
    @Test
    void zk34_backgroundCuratorCreatesRightAfterPoolStartSendNothingUnknown() throws Exception {
        ServerTruth truth = new ServerTruth(zk34);
        String base = unique("bg-race34");
        List<String> results = new CopyOnWriteArrayList<>();
        List<Recorder> recorders = new ArrayList<>();
        for (int p = 0; p < 5; p++) {
            Recorder events = new Recorder();
            recorders.add(events);
            String root = base + "-" + p;
            try (ZkSessionPool pool = pool("adv-bg-race34-" + p, zk34.connectString(), events);
                    ZkLease lease = pool.lease()) {
                CuratorFramework curator = lease.curator();
                CountDownLatch done = new CountDownLatch(4);
                for (int i = 0; i < 4; i++) {
                    curator.create()
                            .creatingParentContainersIfNeeded()
                            .inBackground((c, e) -> {
                                results.add(e.getPath() + " rc=" + e.getResultCode() + " stat="
                                        + (e.getStat() == null
                                                ? "null"
                                                : "czxid " + e.getStat().getCzxid()));
                                done.countDown();
                            })
                            .forPath(root + "/n" + i, V);
                }
                try (LeaderLatch latch = new LeaderLatch(curator, root + "/latch")) {
                    latch.start();
                    assertThat(latch.await(10, TimeUnit.SECONDS)).isTrue();
                }
                assertThat(done.await(10, TimeUnit.SECONDS)).isTrue();
            }
        }
        long reconnects =
                recorders.stream().mapToLong(OldServerAdversarialIT::suspended).sum();
        String evidence = "unknown requests " + unknownByType(truth) + ", reconnects " + reconnects + "\n"
                + String.join("\n", results) + "\n" + truth.unknownLines();
        System.out.println("[adv] background creates at start on 3.4: " + evidence);
        SoftAssertions soft = new SoftAssertions();
        soft.assertThat(results).as(evidence).allMatch(r -> r.contains("rc=0") && !r.contains("stat=null"));
        soft.assertThat(truth.unknown()).as(evidence).isZero();
        soft.assertThat(reconnects).as(evidence).isZero();
        soft.assertAll();
    }

    /**
     * 3.5, three sessions, twelve leases right after the pool starts: six arm their first watch while six write. The
     * ensemble's capabilities are learnt once: at most one addWatch reaches the server, at most one reconnect, and no
     * unrelated write fails for it.
     */
    @Test
    void zk35_concurrentFirstWatchesOnSeveralSessionsAreLearntOnce() throws Exception {
        ServerTruth truth = new ServerTruth(zk35);
        Recorder events = new Recorder();
        String base = unique("race35");
        ExecutorService exec = Executors.newFixedThreadPool(12);
        List<String> errors = new CopyOnWriteArrayList<>();
        try (ZkSessionPool pool = pool("adv-race35", zk35.connectString(), events, 3)) {
            try (ZkLease setup = pool.lease()) {
                setup.create(base, V, CreateMode.PERSISTENT);
            }
            List<Future<?>> fs = new ArrayList<>();
            List<List<WatchEvent>> seen = new CopyOnWriteArrayList<>();
            List<WatchHandle> handles = new CopyOnWriteArrayList<>();
            List<ZkLease> leases = new CopyOnWriteArrayList<>();
            for (int i = 0; i < 12; i++) {
                int n = i;
                fs.add(exec.submit(() -> {
                    ZkLease lease = pool.lease();
                    leases.add(lease);
                    if (n % 2 == 0) {
                        List<WatchEvent> mine = new CopyOnWriteArrayList<>();
                        seen.add(mine);
                        handles.add(lease.watch(base + "/n" + n, mine::add));
                    } else {
                        for (int k = 0; k < 5; k++) {
                            try {
                                lease.create(base + "/w" + n + "-" + k, V, CreateMode.PERSISTENT);
                                lease.setData(base + "/w" + n + "-" + k, V, 0);
                            } catch (RuntimeException e) {
                                errors.add(e.toString());
                            }
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> f : fs) {
                f.get(60, TimeUnit.SECONDS);
            }
            try (ZkLease lease = pool.lease()) {
                for (int n = 0; n < 12; n += 2) {
                    lease.create(base + "/n" + n, V, CreateMode.PERSISTENT);
                }
            }
            await().atMost(Duration.ofSeconds(10))
                    .until(() ->
                            seen.stream().allMatch(l -> l.stream().anyMatch(e -> e.type() == WatchEvent.Type.CREATED)));
            handles.forEach(WatchHandle::close);
            leases.forEach(ZkLease::close);
            String evidence = "unknown requests " + truth.unknown() + ", reconnects " + suspended(events)
                    + ", failed writes " + errors.size() + ":\n" + String.join("\n", errors) + "\n"
                    + truth.unknownLines();
            System.out.println("[adv] 3.5 race: " + evidence);
            SoftAssertions soft = new SoftAssertions();
            soft.assertThat(truth.unknown()).as("unknown requests (addWatch)").isLessThanOrEqualTo(1);
            soft.assertThat(suspended(events)).as("reconnects").isLessThanOrEqualTo(1);
            soft.assertThat(errors)
                    .as("unrelated writes failed while the pool learnt")
                    .isEmpty();
            soft.assertAll();
        } finally {
            exec.shutdownNow();
        }
    }

    /** 3.5, three sessions, one first watch after another: the second and third session learn nothing again. */
    @Test
    void zk35_firstWatchOnEachSessionIsLearntOncePerEnsemble() throws Exception {
        ServerTruth truth = new ServerTruth(zk35);
        Recorder events = new Recorder();
        String base = unique("seq35");
        try (ZkSessionPool pool = pool("adv-seq35", zk35.connectString(), events, 3)) {
            List<ZkLease> leases = SessionLeases.oneOnEachSession(pool, 3);
            List<ZkLease> onDistinctSessions = new ArrayList<>();
            for (ZkLease l : leases) {
                if (onDistinctSessions.stream().noneMatch(o -> o.sessionId() == l.sessionId())) {
                    onDistinctSessions.add(l);
                }
            }
            assertThat(onDistinctSessions).hasSize(3);
            onDistinctSessions.get(0).create(base, V, CreateMode.PERSISTENT);
            for (ZkLease l : onDistinctSessions) {
                l.watch(base, e -> {}).close();
            }
            String evidence = "unknown requests " + truth.unknown() + ", reconnects " + suspended(events) + "\n"
                    + truth.unknownLines();
            assertThat(truth.unknown()).as(evidence).isLessThanOrEqualTo(1);
            assertThat(suspended(events)).as(evidence).isLessThanOrEqualTo(1);
            closeAll(leases);
        }
    }

    /** 3.5: what the pool learnt survives an expiry (a new session): no second addWatch. */
    @Test
    void zk35_knowledgeSurvivesExpiry() throws Exception {
        ServerTruth truth = new ServerTruth(zk35);
        Recorder events = new Recorder();
        String base = unique("learn35");
        try (ZkSessionPool pool = pool("adv-learn35", zk35.connectString(), events);
                ZkLease lease = pool.lease()) {
            lease.create(base, V, CreateMode.PERSISTENT);
            List<WatchEvent> seen = new CopyOnWriteArrayList<>();
            try (WatchHandle w = lease.watchChildren(base, seen::add);
                    ZkCache cache = lease.cache(base)) {
                long s1 = lease.sessionId();
                expire(lease, zk35.connectString());
                await().atMost(Duration.ofSeconds(30))
                        .until(() -> seen.stream().anyMatch(e -> e.type() == WatchEvent.Type.RESYNC));
                assertThat(lease.sessionId()).isNotEqualTo(s1);
                try (WatchHandle again = lease.watch(base + "/later", seen::add)) {
                    lease.create(base + "/later", V, CreateMode.PERSISTENT);
                    await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
                        assertThat(seen).contains(new WatchEvent(WatchEvent.Type.CREATED, base + "/later"));
                        assertThat(seen).contains(new WatchEvent(WatchEvent.Type.CHILDREN_CHANGED, base));
                    });
                }
                lease.setData(base, W, -1);
                await().atMost(Duration.ofSeconds(10))
                        .until(() ->
                                cache.get() != null && Arrays.equals(cache.get().data(), W));
            }
        }
        assertThat(truth.unknown())
                .as("unknown requests:\n" + truth.unknownLines())
                .isLessThanOrEqualTo(1);
    }

    /**
     * 3.4 with a node at /zookeeper/config (an operator or a tool made one; 3.4 lets a client create it; contrived):
     * the pool decides the server's version by that node's existence, so it sends create2 once and learns from the
     * answer. That one unknown request is within the promise; the user's create that carried it must still succeed
     * (it is what the emulation exists for), not fail with UNIMPLEMENTED.
     */
    @Test
    void zk34_withAUserMadeZookeeperConfigNodeSendsNothingUnknown() throws Exception {
        String config = "/zookeeper/config";
        try (ZkSessionPool admin = pool("adv-fake-config-admin", zk34.connectString(), new Recorder());
                ZkLease l = admin.lease()) {
            Throwable made = catchThrowable(() -> l.create(
                    config,
                    "server.1=127.0.0.1:2888:3888:participant\nversion=0".getBytes(UTF_8),
                    CreateMode.PERSISTENT));
            System.out.println("[adv] creating " + config + " on 3.4: " + (made == null ? "created" : made.toString()));
            Assumptions.assumeTrue(made == null, "3.4 refused a node at " + config);
        }
        ServerTruth truth = new ServerTruth(zk34);
        Recorder events = new Recorder();
        String base = unique("fake-config");
        try (ZkSessionPool pool = pool("adv-fake-config", zk34.connectString(), events);
                ZkLease lease = pool.lease()) {
            List<String> outcomes = new ArrayList<>();
            outcomes.add(outcome(
                    "curator create",
                    () -> lease.curator()
                            .create()
                            .creatingParentContainersIfNeeded()
                            .forPath(base + "/a/b", V)));
            outcomes.add(outcome("ephemeral", () -> lease.ephemeral(base + "/e/f", V)));
            outcomes.add(outcome("watch", () -> lease.watch(base, e -> {})));
            outcomes.add(outcome(
                    "second curator create",
                    () -> lease.curator()
                            .create()
                            .creatingParentContainersIfNeeded()
                            .forPath(base + "/c/d", V)));
            String evidence = "unknown requests " + unknownByType(truth) + ", reconnects " + suspended(events) + "\n"
                    + String.join("\n", outcomes) + "\n" + truth.unknownLines();
            System.out.println("[adv] 3.4 with " + config + ": " + evidence);
            SoftAssertions soft = new SoftAssertions();
            soft.assertThat(truth.unknown())
                    .as("at most the first: " + evidence)
                    .isLessThanOrEqualTo(1);
            soft.assertThat(outcomes).as("every call succeeds: " + evidence).allMatch(o -> o.contains("returned"));
            soft.assertAll();
        } finally {
            try (ZkSessionPool admin = pool("adv-fake-config-admin", zk34.connectString(), new Recorder());
                    ZkLease l = admin.lease()) {
                l.delete(config, -1);
            }
        }
    }

    // ============================================================================================================
    // F. chroot connect strings

    void chroot(ProcessEnsemble server, String version) throws Exception {
        String app = unique("app" + version.replace(".", ""));
        try (ZkSessionPool admin = pool("adv-chroot-admin", server.connectString(), new Recorder());
                ZkLease l = admin.lease()) {
            l.create(app, V, CreateMode.PERSISTENT);
        }
        ServerTruth truth = new ServerTruth(server);
        Recorder events = new Recorder();
        try (ZkSessionPool pool = pool("adv-chroot-" + version, server.connectString() + app, events);
                ZkLease lease = pool.lease();
                EphemeralNode node = lease.ephemeral("/svc/a/member", V)) {
            assertThat(lease.exists("/svc/a/member")).isNotNull();
            boolean containers = !version.equals("3.4");
            assertThat(createdAsContainer(server, app + "/svc"))
                    .as("parent created as a container on " + version + " under a chroot")
                    .isEqualTo(containers);
            if (containers) {
                lease.create("/box", V, CreateMode.CONTAINER);
                assertThat(createdAsContainer(server, app + "/box")).isTrue();
            } else {
                assertThatThrownBy(() -> lease.create("/box", V, CreateMode.CONTAINER))
                        .isInstanceOf(ZkUnsupportedException.class);
            }
            List<WatchEvent> seen = new CopyOnWriteArrayList<>();
            try (WatchHandle w = lease.watchChildren("/svc", seen::add)) {
                lease.create("/svc/b", V, CreateMode.PERSISTENT);
                await().atMost(Duration.ofSeconds(10))
                        .until(() -> seen.contains(new WatchEvent(WatchEvent.Type.CHILDREN_CHANGED, "/svc")));
            }
            InterProcessMutex mutex = new InterProcessMutex(lease.curator(), "/locks/m");
            assertThat(mutex.acquire(10, TimeUnit.SECONDS)).isTrue();
            mutex.release();
            assertThat(lease.curator().checkExists().forPath("/locks/m")).isNotNull();
        }
        assertThat(truth.unknown())
                .as("unknown requests:\n" + truth.unknownLines())
                .isLessThanOrEqualTo(version.equals("3.5") ? 1 : 0);
    }

    @Test
    void zk34_chroot() throws Exception {
        chroot(zk34, "3.4");
    }

    @Test
    void zk35_chrootIsNotMistakenForAnOldServer() throws Exception {
        chroot(zk35, "3.5");
    }

    @Test
    void zk34_ephemeralUnderAMissingChrootFailsAtOnce() {
        ServerTruth truth = new ServerTruth(zk34);
        String app = unique("nochroot");
        try (ZkSessionPool pool = pool("adv-nochroot", zk34.connectString() + app, new Recorder());
                ZkLease lease = pool.lease()) {
            long t0 = System.nanoTime();
            assertThatThrownBy(() -> lease.ephemeral("/svc/member", V)).isInstanceOf(ZkNoNodeException.class);
            assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0)).isLessThan(5_000);
            assertThat(lease.exists("/svc")).isNull();
        }
        assertThat(truth.unknown())
                .as("unknown requests:\n" + truth.unknownLines())
                .isZero();
    }

    // ============================================================================================================
    // G. One pool, a 3.9 ensemble and a 3.4 ensemble: capabilities are per ensemble

    @Test
    void capabilitiesArePerEnsembleNotPerPool() throws Exception {
        ServerTruth truth = new ServerTruth(zk34);
        var own = InProcessEnsembles.startServer();
        try (own;
                ZkSessionPool pool = pool("adv-mixed", own.getConnectString(), new Recorder())) {
            String base = unique("mixed");
            EnsembleConfig old = EnsembleConfig.builder()
                    .connectString(zk34.connectString())
                    .sessionTimeout(Duration.ofSeconds(8))
                    .build();
            try (ZkLease modern = pool.lease();
                    ZkLease ancient = pool.lease(old)) {
                try (WatchHandle w = modern.watchTree("/", e -> {})) {
                    assertThat(w).isNotNull();
                }
                modern.create(base, V, CreateMode.CONTAINER);
                InterProcessMutex mutex = new InterProcessMutex(ancient.curator(), base + "/lock");
                assertThat(mutex.acquire(10, TimeUnit.SECONDS)).isTrue();
                mutex.release();
                try (EphemeralNode e = ancient.ephemeral(base + "/p/q", V)) {
                    assertThat(ancient.exists(base + "/p/q")).isNotNull();
                }
                assertThatThrownBy(() -> ancient.watchTree(base, e -> {})).isInstanceOf(ZkUnsupportedException.class);
                assertThatThrownBy(() -> ancient.create(base + "/c", V, CreateMode.CONTAINER))
                        .isInstanceOf(ZkUnsupportedException.class);
                try (WatchHandle w = modern.watchTree(base, e -> {})) {
                    assertThat(w).isNotNull();
                }
                modern.create(base + "-2", V, CreateMode.CONTAINER);
            }
        }
        assertThat(truth.unknown())
                .as("unknown requests:\n" + truth.unknownLines())
                .isZero();
    }

    // ============================================================================================================
    // H. The circuit breaker does not count "unsupported" as a failure of the ensemble; the exception is clear

    @Test
    void zk34_unsupportedCallsDoNotOpenTheBreaker() {
        ServerTruth truth = new ServerTruth(zk34);
        Recorder events = new Recorder();
        String base = unique("breaker");
        try (ZkSessionPool pool = pool("adv-breaker", zk34.connectString(), events);
                ZkLease lease = pool.lease()) {
            lease.create(base, V, CreateMode.PERSISTENT);
            for (int i = 0; i < 30; i++) {
                assertThatThrownBy(() -> lease.watchTree(base, e -> {})).isInstanceOf(ZkUnsupportedException.class);
                assertThatThrownBy(() -> lease.create(base + "/c", V, CreateMode.CONTAINER))
                        .isInstanceOf(ZkUnsupportedException.class);
            }
            assertThat(pool.ensembles().get(0).isCircuitOpen())
                    .as("circuit open")
                    .isFalse();
            for (int i = 0; i < 10; i++) {
                assertThat(lease.getData(base)).isEqualTo(V);
            }
            Throwable t = catchThrowable(() -> lease.treeCache(base));
            assertThat(t).isInstanceOf(ZkUnsupportedException.class);
            ZkUnsupportedException u = (ZkUnsupportedException) t;
            System.out.println("[adv] treeCache on 3.4: " + u.getMessage() + " | feature=" + u.feature() + " | server="
                    + u.server() + " | code=" + u.code());
            assertThat(u.code()).isEqualTo(KeeperException.Code.UNIMPLEMENTED);
            assertThat(u.server()).contains("before ZooKeeper 3.5");
            assertThat(u.feature()).contains("tree");
            assertThat(u.getMessage()).contains("3.6").contains(zk34.connectString());
        }
        assertThat(truth.unknown())
                .as("unknown requests:\n" + truth.unknownLines())
                .isZero();
    }

    // ============================================================================================================
    // I. Digest auth + creator ACL: ephemeral with missing parents, expiry, re-creation under the identity

    @Test
    void zk34_digestAuthEphemeralAcrossExpiry() throws Exception {
        ServerTruth truth = new ServerTruth(zk34);
        Recorder events = new Recorder();
        String base = unique("auth");
        try (ZkSessionPool authed = ZkSessionPool.builder()
                        .name("adv-auth")
                        .connectString(zk34.connectString())
                        .sessionTimeout(Duration.ofSeconds(8))
                        .digest("alice", "secret")
                        .aclProvider(new CreatorAllAcl())
                        .listener(events)
                        .build();
                ZkSessionPool anonymous = pool("adv-anon", zk34.connectString(), new Recorder());
                ZkLease a = authed.lease();
                ZkLease n = anonymous.lease();
                EphemeralNode node = a.ephemeral(base + "/x/member", V)) {
            assertThatThrownBy(() -> n.getData(base + "/x")).isInstanceOf(ZkAuthException.class);
            InterProcessMutex mutex = new InterProcessMutex(a.curator(), base + "/lock");
            assertThat(mutex.acquire(10, TimeUnit.SECONDS)).isTrue();
            mutex.release();
            long s1 = a.sessionId();
            expire(a, zk34.connectString());
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
                assertThat(a.sessionId()).isNotEqualTo(s1);
                assertThat(node.isPresent()).isTrue();
                assertThat(a.exists(base + "/x/member").getEphemeralOwner()).isEqualTo(a.sessionId());
            });
            assertThat(events.missingPaths()).isEmpty();
            assertThatThrownBy(() -> n.getData(base + "/x/member")).isInstanceOf(ZkAuthException.class);
        }
        assertThat(truth.unknown())
                .as("unknown requests:\n" + truth.unknownLines())
                .isZero();
    }

    // ============================================================================================================
    // J. Re-armed one-shot watches on 3.4: delete / re-create cycles and a burst converge

    @Test
    void zk34_oneShotWatchesSeeDeleteRecreateAndConverge() throws Exception {
        ServerTruth truth = new ServerTruth(zk34);
        Recorder events = new Recorder();
        String base = unique("oneshot");
        try (ZkSessionPool pool = pool("adv-oneshot", zk34.connectString(), events, 2);
                ZkLease w = pool.lease();
                ZkLease x = pool.lease()) {
            List<WatchEvent> seen = new CopyOnWriteArrayList<>();
            try (WatchHandle h = w.watch(base, seen::add);
                    ZkCache cache = w.cache(base)) {
                for (int i = 0; i < 3; i++) {
                    int n = i;
                    x.create(base, V, CreateMode.PERSISTENT);
                    await().atMost(Duration.ofSeconds(10))
                            .until(() -> seen.stream()
                                            .filter(e -> e.type() == WatchEvent.Type.CREATED)
                                            .count()
                                    > n);
                    x.delete(base, -1);
                    await().atMost(Duration.ofSeconds(10))
                            .until(() -> seen.stream()
                                            .filter(e -> e.type() == WatchEvent.Type.DELETED)
                                            .count()
                                    > n);
                }
                x.create(base, V, CreateMode.PERSISTENT);
                for (int i = 0; i < 100; i++) {
                    x.setDataAsync(base, ("d" + i).getBytes(UTF_8), -1);
                }
                byte[] last = "last".getBytes(UTF_8);
                x.setData(base, last, -1);
                await().atMost(Duration.ofSeconds(10))
                        .until(() ->
                                cache.get() != null && Arrays.equals(cache.get().data(), last));
            }
            assertThat(suspended(events)).isZero();
        }
        assertThat(truth.unknown())
                .as("unknown requests:\n" + truth.unknownLines())
                .isZero();
    }

    // ============================================================================================================
    // K. A 3-member 3.4.14 ensemble: sessions over several servers, kill -9, expiry, the doctor

    /**
     * Three sessions (one per member), each with a plain and a sequential ephemeral under missing parents, a children
     * and a node watch, and a LeaderLatch on lease.curator(). kill -9 of a member: every session reconnects, nothing
     * is lost, one leader. Forced expiry of one session: its ephemerals come back, its watches get RESYNC, one leader.
     * Then later changes are seen by every watch. No request the servers do not know, until the recipes are closed
     * (closing a waiting LeaderLatch is case {@link #zk34_closingAWaitingLeaderLatchSendsNoUnknownRequest()}).
     */
    @Test
    void ens34_sessionsOverSeveralServersSurviveKill9AndExpiry() throws Exception {
        ServerTruth truth = new ServerTruth(ens34);
        Recorder events = new Recorder();
        String base = unique("ens");
        String connect = ens34.connectString();
        ServerProcess victim = null;
        try (ZkSessionPool pool = ZkSessionPool.builder()
                .name("adv-ens34")
                .connectString(connect)
                .sessionsPerEnsemble(3)
                .sessionTimeout(Duration.ofSeconds(6))
                .connectionTimeout(Duration.ofSeconds(10))
                .listener(events)
                .build()) {
            List<ZkLease> leases = SessionLeases.oneOnEachSession(pool, 3);
            List<EphemeralNode> nodes = new ArrayList<>();
            List<List<WatchEvent>> seen = new ArrayList<>();
            List<WatchHandle> handles = new ArrayList<>();
            List<LeaderLatch> latches = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                ZkLease l = leases.get(i);
                nodes.add(l.ephemeral(base + "/plain/s" + i, V));
                nodes.add(l.ephemeral(base + "/seq/m-", V, CreateMode.EPHEMERAL_SEQUENTIAL));
                List<WatchEvent> mine = new CopyOnWriteArrayList<>();
                seen.add(mine);
                handles.add(l.watchChildren(base + "/seq", mine::add));
                handles.add(l.watch(base + "/data", mine::add));
                LeaderLatch latch = new LeaderLatch(l.curator(), base + "/latch", "l" + i);
                latch.start();
                latches.add(latch);
            }
            await().atMost(Duration.ofSeconds(10))
                    .until(() ->
                            latches.stream().filter(LeaderLatch::hasLeadership).count() == 1);

            String busiest = pool.stats().connectionsPerServer().entrySet().stream()
                    .max(Map.Entry.comparingByValue())
                    .orElseThrow()
                    .getKey();
            victim = ens34.servers().stream()
                    .filter(s -> busiest.endsWith(":" + s.clientPort()))
                    .findFirst()
                    .orElseThrow(() -> new AssertionError(busiest + " among " + ens34.servers()));
            victim.kill9();
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
                assertThat(events.callbacks(SessionState.RECONNECTED)).isNotEmpty();
                for (EphemeralNode node : nodes) {
                    assertThat(node.isPresent()).as(node.path()).isTrue();
                }
                assertThat(latches.stream().filter(LeaderLatch::hasLeadership).count())
                        .isEqualTo(1);
            });
            DiagnosticsReport degraded = EnsembleDoctor.probe(connect, Duration.ofSeconds(5));
            assertThat(degraded.findings(FindingCode.UNREACHABLE))
                    .as(degraded.toText())
                    .hasSize(1);
            assertThat(degraded.findings(FindingCode.CONFIG_DRIFT))
                    .as(degraded.toText())
                    .isEmpty();
            assertThat(degraded.findings(FindingCode.NO_LEADER))
                    .as(degraded.toText())
                    .isEmpty();

            ZkLease expired = leases.get(1);
            long before = expired.sessionId();
            expire(expired, connect);
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
                assertThat(expired.sessionId()).isNotEqualTo(before);
                assertThat(seen.get(1)).anyMatch(e -> e.type() == WatchEvent.Type.RESYNC);
                for (EphemeralNode node : nodes) {
                    assertThat(node.isPresent()).as(node.path()).isTrue();
                }
                assertThat(latches.stream().filter(LeaderLatch::hasLeadership).count())
                        .isEqualTo(1);
            });
            ZkLease writer = leases.get(0);
            writer.create(base + "/data", V, CreateMode.PERSISTENT);
            writer.create(base + "/seq/extra", V, CreateMode.PERSISTENT);
            await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
                for (List<WatchEvent> mine : seen) {
                    assertThat(mine).contains(new WatchEvent(WatchEvent.Type.CREATED, base + "/data"));
                    assertThat(mine).contains(new WatchEvent(WatchEvent.Type.CHILDREN_CHANGED, base + "/seq"));
                }
                assertThat(writer.getChildren(base + "/seq")).hasSize(4);
                assertThat(writer.getChildren(base + "/plain")).hasSize(3);
                assertThat(writer.getChildren(base + "/latch")).hasSize(3);
            });
            DistributedAtomicLong counter =
                    new DistributedAtomicLong(leases.get(2).curator(), base + "/counter", new RetryOneTime(10));
            assertThat(counter.increment().succeeded()).isTrue();
            assertThat(counter.get().postValue()).isEqualTo(1L);

            assertThat(truth.unknown())
                    .as("unknown requests before the recipes are closed:\n" + truth.unknownLines())
                    .isZero();
            closeAll(latches);
            closeAll(handles);
            closeAll(nodes);
            closeAll(leases);
        } finally {
            if (victim != null) {
                victim.restart();
            }
        }
    }

    @Test
    void ens34_doctorOnAHealthyThreeMemberEnsemble() {
        ens34.servers().forEach(s -> s.awaitServing(Duration.ofSeconds(30)));
        DiagnosticsReport report = EnsembleDoctor.probe(ens34.connectString(), Duration.ofSeconds(10));
        String text = report.toText();
        assertThat(report.servers()).as(text).hasSize(3);
        assertThat(report.servers()).as(text).allMatch(ServerReport::reachable).allMatch(ServerReport::serving);
        assertThat(report.servers().stream().map(ServerReport::mode).sorted().toList())
                .as(text)
                .containsExactly("follower", "follower", "leader");
        assertThat(report.servers()).as(text).allMatch(s -> s.version().startsWith("3.4.14"));
        for (FindingCode code : List.of(
                FindingCode.CONFIG_DRIFT,
                FindingCode.NO_LEADER,
                FindingCode.MULTIPLE_LEADERS,
                FindingCode.UNREACHABLE,
                FindingCode.VERSION_MISMATCH,
                FindingCode.MEMBER_NOT_IN_CONNECT_STRING,
                FindingCode.STANDALONE_MEMBER,
                FindingCode.FOUR_LETTER_WORDS_DISABLED,
                FindingCode.LAGGING_MEMBER)) {
            assertThat(report.findings(code))
                    .as(code + " on a healthy 3.4 ensemble:\n" + text)
                    .isEmpty();
        }
    }

    // ============================================================================================================
    // small helpers for recipes

    static final class StringSerializer implements QueueSerializer<String> {
        @Override
        public byte[] serialize(String item) {
            return item.getBytes(UTF_8);
        }

        @Override
        public String deserialize(byte[] bytes) {
            return new String(bytes, UTF_8);
        }
    }

    static final class ListConsumer implements QueueConsumer<String> {
        private final List<String> consumed;

        ListConsumer(List<String> consumed) {
            this.consumed = consumed;
        }

        @Override
        public void consumeMessage(String message) {
            consumed.add(message);
        }

        @Override
        public void stateChanged(CuratorFramework client, ConnectionState newState) {}
    }

    static final class CreatorAllAcl implements ACLProvider {
        @Override
        public List<ACL> getDefaultAcl() {
            return ZooDefs.Ids.CREATOR_ALL_ACL;
        }

        @Override
        public List<ACL> getAclForPath(String path) {
            return ZooDefs.Ids.CREATOR_ALL_ACL;
        }
    }
}
