package dev.zksdk.routing;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.zksdk.EnsembleConfig;
import dev.zksdk.EphemeralNode;
import dev.zksdk.FencingToken;
import dev.zksdk.OperationPolicy;
import dev.zksdk.WatchEvent;
import dev.zksdk.WatchHandle;
import dev.zksdk.ZkConnectionLossException;
import dev.zksdk.ZkException;
import dev.zksdk.ZkLease;
import dev.zksdk.ZkLock;
import dev.zksdk.ZkSessionPool;
import dev.zksdk.ZkUnavailableException;
import dev.zksdk.cache.ZkCache;
import dev.zksdk.cache.ZkTreeCache;
import dev.zksdk.testing.ProcessEnsemble;
import dev.zksdk.testing.RawZooKeeper;
import dev.zksdk.testing.ServerProcess;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Op;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.data.Stat;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * One pool routing paths across two real ensembles, each a separate server process: every kind of operation lands on
 * the ensemble that owns its path (checked with a plain ZooKeeper handle on each server), a {@code multi} across them
 * is refused with nothing applied on either, one ensemble killed with {@code kill -9} leaves the other working, and a
 * prefix moved at runtime sends later operations to its new ensemble while what was made before stays behind.
 */
class RoutingIT {

    static final Duration SESSION_TIMEOUT = Duration.ofSeconds(10);
    static final byte[] DATA = "d".getBytes(UTF_8);

    static ProcessEnsemble ensembleA;
    static ProcessEnsemble ensembleB;
    static EnsembleConfig configA;
    static EnsembleConfig configB;

    RawZooKeeper rawA;
    RawZooKeeper rawB;
    ZkSessionPool pool;

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
        if (pool != null) {
            pool.close();
        }
        rawA.close();
        rawB.close();
    }

    /** A: "/a"; B: everything else ("/" is the builder's connect string). */
    ZkSessionPool routedPool(String name) {
        return ZkSessionPool.builder()
                .name(name)
                .connectString(ensembleB.connectString())
                .ensembleAlias("ens-b-default")
                .sessionTimeout(SESSION_TIMEOUT)
                .connectionTimeout(Duration.ofSeconds(5))
                .operationPolicy(OperationPolicy.builder()
                        .operationTimeout(Duration.ofSeconds(5))
                        .build())
                .route("/a", configA)
                .build();
    }

    static Stat stat(RawZooKeeper raw, String path) throws Exception {
        return raw.zk().exists(path, false);
    }

    static void createRaw(RawZooKeeper raw, String path) throws Exception {
        try {
            raw.zk().create(path, DATA, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        } catch (KeeperException.NodeExistsException e) {
            // left by an earlier test: fine
        }
    }

    @Test
    void everyKindOfOperationLandsOnTheEnsembleThatOwnsItsPath() throws Exception {
        pool = routedPool("route-kinds");
        createRaw(rawA, "/a");
        createRaw(rawB, "/b");
        try (ZkLease lease = pool.lease()) {
            // Plain writes and reads, synchronous and asynchronous.
            lease.create("/a/kinds", DATA, CreateMode.PERSISTENT);
            lease.create("/b/kinds", DATA, CreateMode.PERSISTENT);
            assertThat(stat(rawA, "/a/kinds")).isNotNull();
            assertThat(stat(rawB, "/a/kinds")).as("not on B").isNull();
            assertThat(stat(rawB, "/b/kinds")).isNotNull();
            assertThat(stat(rawA, "/b/kinds")).as("not on A").isNull();
            lease.createAsync("/a/kinds-async", DATA, CreateMode.PERSISTENT).get(10, TimeUnit.SECONDS);
            assertThat(stat(rawA, "/a/kinds-async")).isNotNull();
            assertThat(stat(rawB, "/a/kinds-async")).isNull();

            lease.setData("/a/kinds", "on-a".getBytes(UTF_8), -1);
            assertThat(rawA.zk().getData("/a/kinds", false, null)).isEqualTo("on-a".getBytes(UTF_8));
            rawA.zk().setData("/a/kinds", "from-a".getBytes(UTF_8), -1);
            rawB.zk().create("/b/only-on-b", DATA, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            assertThat(lease.getData("/a/kinds")).isEqualTo("from-a".getBytes(UTF_8));
            assertThat(lease.getDataAsync("/a/kinds").get(10, TimeUnit.SECONDS)).isEqualTo("from-a".getBytes(UTF_8));
            assertThat(lease.getNode("/a/kinds").data()).isEqualTo("from-a".getBytes(UTF_8));
            assertThat(lease.exists("/b/only-on-b")).isNotNull();
            assertThat(lease.existsAsync("/b/only-on-b").get(10, TimeUnit.SECONDS))
                    .isNotNull();
            assertThat(lease.getChildren("/a")).contains("kinds", "kinds-async");
            assertThat(lease.getChildren("/b")).contains("kinds", "only-on-b").doesNotContain("kinds-async");
            lease.sync("/a/kinds");
            lease.syncAsync("/b").get(10, TimeUnit.SECONDS);
            lease.setDataAsync("/b/kinds", "on-b".getBytes(UTF_8), -1).get(10, TimeUnit.SECONDS);
            assertThat(rawB.zk().getData("/b/kinds", false, null)).isEqualTo("on-b".getBytes(UTF_8));
            lease.delete("/a/kinds-async", -1);
            assertThat(stat(rawA, "/a/kinds-async")).isNull();
            lease.deleteAsync("/b/only-on-b", -1).get(10, TimeUnit.SECONDS);
            assertThat(stat(rawB, "/b/only-on-b")).isNull();

            // A multi within one ensemble.
            lease.multi(List.of(
                    Op.create("/a/multi-1", DATA, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT),
                    Op.create("/a/multi-2", DATA, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT)));
            assertThat(stat(rawA, "/a/multi-1")).isNotNull();
            assertThat(stat(rawA, "/a/multi-2")).isNotNull();
            assertThat(stat(rawB, "/a/multi-1")).isNull();
            lease.multiAsync(List.of(Op.create("/b/multi-3", DATA, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT)))
                    .get(10, TimeUnit.SECONDS);
            assertThat(stat(rawB, "/b/multi-3")).isNotNull();
            assertThat(stat(rawA, "/b/multi-3")).isNull();

            // Session ids: by path, and the default route's without one.
            long sessionA = lease.sessionId("/a/x");
            long sessionB = lease.sessionId("/b/x");
            assertThat(sessionA).isNotEqualTo(sessionB);
            assertThat(lease.sessionId()).as("the default route's (B)").isEqualTo(sessionB);

            // Ephemerals: on the owning ensemble, owned by that ensemble's session.
            try (EphemeralNode e = lease.ephemeral("/a/eph/member", DATA)) {
                Stat s = stat(rawA, "/a/eph/member");
                assertThat(s).isNotNull();
                assertThat(s.getEphemeralOwner()).isEqualTo(sessionA);
                assertThat(stat(rawB, "/a/eph/member")).isNull();
            }

            // Watches: the one on /a/w hears A's change, not B's.
            List<WatchEvent> events = new CopyOnWriteArrayList<>();
            try (WatchHandle w = lease.watch("/a/w", events::add);
                    WatchHandle t = lease.watchTree("/a/tree", events::add);
                    WatchHandle c = lease.watchChildren("/a", events::add)) {
                createRaw(rawB, "/a");
                rawB.zk().create("/a/w", DATA, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
                rawA.zk().create("/a/w", DATA, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
                rawA.zk().create("/a/tree", DATA, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
                rawA.zk().create("/a/tree/x", DATA, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
                await().atMost(Duration.ofSeconds(20))
                        .until(() -> events.contains(new WatchEvent(WatchEvent.Type.CREATED, "/a/w"))
                                && events.contains(new WatchEvent(WatchEvent.Type.CREATED, "/a/tree/x"))
                                && events.contains(new WatchEvent(WatchEvent.Type.CHILDREN_CHANGED, "/a")));
                // B's /a/w came first and was never heard of: only A's creates are in the list, once each.
                assertThat(events.stream()
                                .filter(e -> e.equals(new WatchEvent(WatchEvent.Type.CREATED, "/a/w")))
                                .count())
                        .isEqualTo(1);
            }

            // Caches: loaded from, and kept current by, the owning ensemble.
            rawA.zk().create("/a/cached", "a1".getBytes(UTF_8), ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            rawB.zk().create("/a/cached", "b1".getBytes(UTF_8), ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            try (ZkCache cache = lease.cache("/a/cached");
                    ZkTreeCache tree = lease.treeCache("/a/tree")) {
                assertThat(cache.get().data()).isEqualTo("a1".getBytes(UTF_8));
                rawA.zk().setData("/a/cached", "a2".getBytes(UTF_8), -1);
                await().atMost(Duration.ofSeconds(20))
                        .until(() -> new String(cache.get().data(), UTF_8).equals("a2"));
                assertThat(tree.get("/a/tree/x")).isNotNull();
                assertThat(tree.get("/a/tree/not-there")).isNull();
            }

            // A lock, its token, and writes fenced by it: all on A.
            try (ZkLock lock = lease.lock("/a/lock")) {
                FencingToken token = lock.acquire(Duration.ofSeconds(10));
                assertThat(token).isNotNull();
                assertThat(rawA.zk().getChildren("/a/lock", false)).hasSize(1);
                assertThat(stat(rawA, "/a/lock-epoch")).isNotNull();
                assertThat(stat(rawB, "/a/lock")).isNull();
                lease.fenced(token).create("/a/fenced", DATA, CreateMode.PERSISTENT);
                assertThat(stat(rawA, "/a/fenced")).isNotNull();
                assertThat(stat(rawB, "/a/fenced")).isNull();
                assertThatThrownBy(() -> lease.fenced(token).create("/b/fenced", DATA, CreateMode.PERSISTENT))
                        .isInstanceOf(IllegalArgumentException.class)
                        .hasMessageContaining("routes to ensemble 'ens-b-default'")
                        .hasMessageContaining("token's epoch is on 'ens-a'");
                assertThat(stat(rawB, "/b/fenced")).isNull();
                assertThat(stat(rawA, "/b/fenced")).isNull();
            }

            // An election on A.
            var election = lease.leaderElection("/a/election", new dev.zksdk.LeadershipListener() {});
            try (election) {
                await().atMost(Duration.ofSeconds(20)).until(election::isLeader);
                assertThat(stat(rawA, "/a/election-epoch")).isNotNull();
                assertThat(stat(rawB, "/a/election")).isNull();
            }

            // Curator: by path, and the default route's without one.
            CuratorFramework curatorA = lease.curator("/a");
            curatorA.create().forPath("/a/by-curator", DATA);
            assertThat(stat(rawA, "/a/by-curator")).isNotNull();
            lease.curator().create().forPath("/b/by-curator", DATA);
            assertThat(stat(rawB, "/b/by-curator")).isNotNull();
            assertThat(stat(rawA, "/b/by-curator")).isNull();

            // Curator by the ensemble's alias.
            lease.curatorOfEnsemble("ens-a").create().forPath("/a/by-alias", DATA);
            assertThat(stat(rawA, "/a/by-alias")).isNotNull();
            lease.curatorOfEnsemble("ens-b-default").create().forPath("/b/by-alias", DATA);
            assertThat(stat(rawB, "/b/by-alias")).isNotNull();
            assertThat(stat(rawA, "/b/by-alias")).isNull();
            assertThatThrownBy(() -> lease.curatorOfEnsemble("ens-c"))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("'ens-c'")
                    .hasMessageContaining("[ens-a, ens-b-default]");
        }
        assertThat(pool.stats().activeLeases())
                .as("both ensembles' leases closed with the routed lease")
                .isZero();
    }

    /** A pool without routes: its lease's Curator client by its own alias; any other alias refused, naming its own. */
    @Test
    void aLeaseOfOneEnsembleGivesItsCuratorByItsOwnAliasOnly() throws Exception {
        pool = ZkSessionPool.builder()
                .name("one-ensemble")
                .connectString(ensembleA.connectString())
                .ensembleAlias("ens-a-alone")
                .sessionTimeout(SESSION_TIMEOUT)
                .build();
        try (ZkLease lease = pool.lease()) {
            assertThat(lease.curatorOfEnsemble("ens-a-alone")).isSameAs(lease.curator());
            lease.curatorOfEnsemble("ens-a-alone").create().forPath("/alone-by-alias", DATA);
            assertThat(stat(rawA, "/alone-by-alias")).isNotNull();
            assertThatThrownBy(() -> lease.curatorOfEnsemble("ens-b"))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("'ens-a-alone', not 'ens-b'");
            assertThatThrownBy(() -> lease.curatorOfEnsemble(""))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("alias");
        }
    }

    /** Threads racing to the first use of each ensemble through one routed lease: one lease per ensemble is kept. */
    @Test
    void concurrentFirstUseKeepsOneLeasePerEnsemble() throws Exception {
        pool = routedPool("route-race");
        createRaw(rawA, "/a");
        createRaw(rawB, "/b");
        int threads = 8;
        var executor = java.util.concurrent.Executors.newFixedThreadPool(threads);
        try (ZkLease lease = pool.lease()) {
            var start = new java.util.concurrent.CountDownLatch(1);
            List<java.util.concurrent.Future<?>> done = new java.util.ArrayList<>();
            for (int t = 0; t < threads; t++) {
                String path = (t % 2 == 0 ? "/a/race-" : "/b/race-") + t;
                done.add(executor.submit(() -> {
                    start.await();
                    return lease.create(path, DATA, CreateMode.PERSISTENT);
                }));
            }
            start.countDown();
            for (var f : done) {
                f.get(30, TimeUnit.SECONDS);
            }
            assertThat(pool.stats().activeLeases()).as("one per ensemble").isEqualTo(2);
            for (int t = 0; t < threads; t++) {
                RawZooKeeper owner = t % 2 == 0 ? rawA : rawB;
                assertThat(stat(owner, (t % 2 == 0 ? "/a/race-" : "/b/race-") + t))
                        .isNotNull();
            }
        } finally {
            executor.shutdownNow();
        }
        assertThat(pool.stats().activeLeases()).isZero();
    }

    @Test
    void theLongestPrefixWinsAndPrefixesMatchWholeSegments() throws Exception {
        pool = ZkSessionPool.builder()
                .name("route-longest")
                .route("/", configA)
                .route("/t", configB)
                .route("/t/x", configA)
                .build();
        createRaw(rawA, "/t");
        createRaw(rawB, "/t");
        createRaw(rawA, "/t/x");
        createRaw(rawB, "/t/x");
        try (ZkLease lease = pool.lease()) {
            lease.create("/t/y", DATA, CreateMode.PERSISTENT);
            lease.create("/t/x/1", DATA, CreateMode.PERSISTENT);
            lease.create("/tx", DATA, CreateMode.PERSISTENT);
            lease.create("/t/xy", DATA, CreateMode.PERSISTENT);
            assertThat(stat(rawB, "/t/y")).as("/t").isNotNull();
            assertThat(stat(rawA, "/t/y")).isNull();
            assertThat(stat(rawA, "/t/x/1")).as("/t/x, longer than /t").isNotNull();
            assertThat(stat(rawB, "/t/x/1")).isNull();
            assertThat(stat(rawA, "/tx")).as("/tx is not under /t").isNotNull();
            assertThat(stat(rawB, "/tx")).isNull();
            assertThat(stat(rawB, "/t/xy")).as("/t/xy is not under /t/x").isNotNull();
            assertThat(stat(rawA, "/t/xy")).isNull();
        }
    }

    @Test
    void aMultiAcrossEnsemblesIsRefusedAndNothingIsAppliedOnEither() throws Exception {
        pool = routedPool("route-multi");
        createRaw(rawA, "/a");
        createRaw(rawB, "/b");
        try (ZkLease lease = pool.lease()) {
            lease.create("/a/warm", DATA, CreateMode.PERSISTENT); // both ensembles leased and connected
            lease.create("/b/warm", DATA, CreateMode.PERSISTENT);
            List<Op> ops = List.of(
                    Op.create("/a/m1", DATA, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT),
                    Op.create("/b/m2", DATA, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT));
            assertThatThrownBy(() -> lease.multi(ops))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("ops[0] /a/m1 -> ensemble 'ens-a' (route /a)")
                    .hasMessageContaining("ops[1] /b/m2 -> ensemble 'ens-b-default' (route /)");
            assertThatThrownBy(() -> lease.multiAsync(ops)).isInstanceOf(IllegalArgumentException.class);
            for (RawZooKeeper raw : List.of(rawA, rawB)) {
                assertThat(stat(raw, "/a/m1")).isNull();
                assertThat(stat(raw, "/b/m2")).isNull();
            }
        }
    }

    @Test
    void oneEnsembleKilledLeavesTheOtherWorkingAndComesBack() throws Exception {
        pool = routedPool("route-independent");
        createRaw(rawA, "/a");
        createRaw(rawB, "/b");
        ServerProcess serverB = ensembleB.server(1);
        try (ZkLease lease = pool.lease()) {
            lease.create("/a/before", DATA, CreateMode.PERSISTENT);
            lease.create("/b/before", DATA, CreateMode.PERSISTENT);

            serverB.kill9();
            try {
                for (int i = 0; i < 20; i++) {
                    String path = "/a/while-b-down-" + i;
                    lease.create(path, DATA, CreateMode.PERSISTENT);
                    assertThat(lease.getData(path)).isEqualTo(DATA);
                }
                assertThat(stat(rawA, "/a/while-b-down-19")).isNotNull();
                for (int i = 0; i < 3; i++) {
                    // The usual errors: the first call waits out its operation timeout, later ones fail fast.
                    assertThatThrownBy(() -> lease.getData("/b/before"))
                            .isInstanceOfAny(ZkConnectionLossException.class, ZkUnavailableException.class)
                            .satisfies(e -> assertThat(((ZkException) e).code())
                                    .isIn(KeeperException.Code.CONNECTIONLOSS, KeeperException.Code.OPERATIONTIMEOUT));
                }
                // A still works after B's calls failed (its breaker and budget are its own).
                lease.setData("/a/before", "still".getBytes(UTF_8), -1);
                assertThat(rawA.zk().getData("/a/before", false, null)).isEqualTo("still".getBytes(UTF_8));
                // A routed lease taken now (B, the default route, is down) serves A: it waits for no ensemble until
                // an operation needs it.
                try (ZkLease fresh = pool.lease()) {
                    fresh.create("/a/fresh-while-b-down", DATA, CreateMode.PERSISTENT);
                    assertThat(stat(rawA, "/a/fresh-while-b-down")).isNotNull();
                }
                // Health per ensemble: A connected, B not.
                assertThat(pool.ensembles())
                        .anySatisfy(e -> {
                            assertThat(e.connectString()).isEqualTo(ensembleA.connectString());
                            assertThat(e.isConnected()).isTrue();
                        })
                        .anySatisfy(e -> {
                            assertThat(e.connectString()).isEqualTo(ensembleB.connectString());
                            assertThat(e.isConnected()).isFalse();
                        });
            } finally {
                serverB.restart();
                serverB.awaitServing(Duration.ofSeconds(60));
            }
            await().atMost(Duration.ofSeconds(60))
                    .ignoreExceptionsInstanceOf(ZkException.class)
                    .until(() -> lease.exists("/b/before") != null);
            lease.create("/b/after", DATA, CreateMode.PERSISTENT);
            RawZooKeeper freshB = RawZooKeeper.connect(ensembleB.connectString(), SESSION_TIMEOUT);
            try (freshB) {
                assertThat(stat(freshB, "/b/after")).isNotNull();
                assertThat(stat(freshB, "/b/before")).isNotNull();
            }
            assertThat(stat(rawA, "/b/after")).isNull();
        }
    }

    @Test
    void aPrefixMovedAtRuntimeSendsLaterOperationsToItsNewEnsembleThroughOpenLeases() throws Exception {
        pool = routedPool("route-move");
        createRaw(rawA, "/m");
        createRaw(rawB, "/m");
        try (ZkLease lease = pool.lease()) {
            pool.routes().route("/m", configA);
            long sessionA = lease.sessionId("/m");
            EphemeralNode before = lease.ephemeral("/m/member-before", DATA);
            List<WatchEvent> events = new CopyOnWriteArrayList<>();
            WatchHandle watch = lease.watch("/m/watched", events::add);
            lease.create("/m/data-before", DATA, CreateMode.PERSISTENT);
            assertThat(stat(rawA, "/m/data-before")).isNotNull();

            pool.routes().route("/m", configB); // the migration
            assertThat(pool.routes().ensembleFor("/m/x")).isEqualTo(configB);

            lease.create("/m/data-after", DATA, CreateMode.PERSISTENT);
            assertThat(stat(rawB, "/m/data-after"))
                    .as("through the lease already open")
                    .isNotNull();
            assertThat(stat(rawA, "/m/data-after")).isNull();
            assertThat(lease.exists("/m/data-before")).as("reads go to B too").isNull();
            EphemeralNode after = lease.ephemeral("/m/member-after", DATA);
            assertThat(stat(rawB, "/m/member-after").getEphemeralOwner()).isEqualTo(lease.sessionId("/m"));
            assertThat(stat(rawA, "/m/member-after")).isNull();

            // What was made before stays on A's session until closed, as documented.
            Stat kept = stat(rawA, "/m/member-before");
            assertThat(kept).isNotNull();
            assertThat(kept.getEphemeralOwner()).isEqualTo(sessionA);
            before.close();
            assertThat(stat(rawA, "/m/member-before"))
                    .as("closing the old handle deletes it on A")
                    .isNull();
            // The watch made before the move still watches A: it hears A's create, never B's (made first).
            rawB.zk().create("/m/watched", DATA, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            rawA.zk().create("/m/watched", DATA, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            await().atMost(Duration.ofSeconds(20))
                    .until(() -> events.contains(new WatchEvent(WatchEvent.Type.CREATED, "/m/watched")));
            rawA.zk().delete("/m/watched", -1);
            await().atMost(Duration.ofSeconds(20))
                    .until(() -> events.contains(new WatchEvent(WatchEvent.Type.DELETED, "/m/watched")));
            assertThat(events)
                    .as("one create heard (A's)")
                    .containsOnlyOnce(new WatchEvent(WatchEvent.Type.CREATED, "/m/watched"));
            watch.close();
            after.close();

            try (ZkLease later = pool.lease()) {
                later.create("/m/later", DATA, CreateMode.PERSISTENT);
                assertThat(stat(rawB, "/m/later")).isNotNull();
            }

            // Removing the route sends /m to the default route (B here): unchanged; moving "/" to A changes it.
            assertThat(pool.routes().remove("/m")).isTrue();
            pool.routes().route("/", configA);
            lease.create("/m/after-remove", DATA, CreateMode.PERSISTENT);
            assertThat(stat(rawA, "/m/after-remove")).isNotNull();
            assertThat(stat(rawB, "/m/after-remove")).isNull();
        }
    }

    @Test
    void chrootsInARoutesConnectStringApply() throws Exception {
        createRaw(rawA, "/chroot-1");
        createRaw(rawA, "/chroot-2");
        createRaw(rawA, "/chroot-2/p");
        pool = ZkSessionPool.builder()
                .name("route-chroot")
                .route("/", config(ensembleA.connectString() + "/chroot-1", "chroot-1"))
                .route("/p", config(ensembleA.connectString() + "/chroot-2", "chroot-2"))
                .build();
        try (ZkLease lease = pool.lease()) {
            lease.create("/p/x", DATA, CreateMode.PERSISTENT);
            lease.create("/q", DATA, CreateMode.PERSISTENT);
            assertThat(stat(rawA, "/chroot-2/p/x"))
                    .as("the path is sent unchanged, under the chroot")
                    .isNotNull();
            assertThat(stat(rawA, "/chroot-1/q")).isNotNull();
            assertThat(stat(rawA, "/p/x")).isNull();
            assertThat(lease.getChildren("/p")).containsExactly("x");
            ZooKeeper zk = rawA.zk();
            assertThat(zk.exists("/chroot-1/p/x", false)).isNull();
        }
    }
}
