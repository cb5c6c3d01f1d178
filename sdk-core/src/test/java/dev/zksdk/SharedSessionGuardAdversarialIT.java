package dev.zksdk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.awaitility.Awaitility.await;

import dev.zksdk.testing.ForcedExpiry;
import dev.zksdk.testing.InProcessEnsembles;
import dev.zksdk.testing.RawZooKeeper;
import dev.zksdk.testing.Recorder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.recipes.atomic.AtomicValue;
import org.apache.curator.framework.recipes.atomic.DistributedAtomicLong;
import org.apache.curator.framework.recipes.cache.CuratorCache;
import org.apache.curator.framework.recipes.cache.CuratorCacheListener;
import org.apache.curator.framework.recipes.leader.LeaderLatch;
import org.apache.curator.framework.recipes.locks.InterProcessMutex;
import org.apache.curator.framework.recipes.watch.PersistentWatcher;
import org.apache.curator.retry.RetryOneTime;
import org.apache.curator.test.TestingServer;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.WatchedEvent;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.data.Stat;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Tries every way a lease holder could close or replace the shared session through {@link ZkLease#curator()} ("its
 * {@code close()} throws {@link UnsupportedOperationException}, and it stays usable until the pool closes"; the
 * issue: "the shared Curator client's ZooKeeper client and handle refuse close from lease holders"), and checks that
 * Curator recipes on {@code lease.curator()} keep working, across a session expiry too ("every Curator recipe works
 * on it").
 */
class SharedSessionGuardAdversarialIT {

    static final byte[] DATA = "data".getBytes(StandardCharsets.UTF_8);

    TestingServer server;
    RawZooKeeper observer;
    Recorder recorder;
    ZkSessionPool pool;

    @BeforeEach
    void start() {
        server = InProcessEnsembles.startServer();
        observer = RawZooKeeper.connect(server.getConnectString(), Duration.ofSeconds(30));
        recorder = new Recorder();
        pool = ZkSessionPool.builder()
                .name("adv-guard")
                .connectString(server.getConnectString())
                .sessionTimeout(Duration.ofSeconds(4))
                .connectionTimeout(Duration.ofSeconds(3))
                .operationPolicy(OperationPolicy.builder()
                        .operationTimeout(Duration.ofSeconds(5))
                        .build())
                .listener(recorder)
                .build();
    }

    @AfterEach
    void stop() throws Exception {
        pool.close();
        observer.close();
        server.close();
    }

    // --------------------------------------------------------------------------------------- the guard

    interface Attempt {
        void run(ZkLease lease) throws Exception;
    }

    @Test
    void closingTheHandleWithATimeoutIsRefusedAndTheSessionSurvives() throws Exception {
        attemptLeavesTheSessionIntact(
                "getZooKeeper().close(1000)",
                l -> l.curator().getZookeeperClient().getZooKeeper().close(1000));
    }

    @Test
    void tryWithResourcesOnTheHandleIsRefusedAndTheSessionSurvives() throws Exception {
        attemptLeavesTheSessionIntact("try (ZooKeeper zk = getZooKeeper()) {...}", l -> {
            try (ZooKeeper zk = l.curator().getZookeeperClient().getZooKeeper()) {
                zk.exists("/", false);
            }
        });
    }

    @Test
    void resettingTheZookeeperClientIsRefusedAndTheSessionSurvives() throws Exception {
        attemptLeavesTheSessionIntact(
                "getZookeeperClient().reset()",
                l -> l.curator().getZookeeperClient().reset());
    }

    @Test
    void startingTheZookeeperClientAgainLeavesTheSessionIntact() throws Exception {
        attemptLeavesTheSessionIntact(
                "getZookeeperClient().start()",
                l -> l.curator().getZookeeperClient().start());
    }

    @Test
    void closingANamespaceViewIsRefusedAndTheSessionSurvives() throws Exception {
        attemptLeavesTheSessionIntact(
                "usingNamespace(\"x\").close()",
                l -> l.curator().usingNamespace("x").close());
    }

    @Test
    void closingAWatcherRemovingViewLeavesTheSessionIntact() throws Exception {
        attemptLeavesTheSessionIntact(
                "newWatcherRemoveCuratorFramework().removeWatchers()",
                l -> l.curator().newWatcherRemoveCuratorFramework().removeWatchers());
    }

    /**
     * {@code ZooKeeper.register(Watcher)} replaces the handle's default watcher, through which Curator (and so the pool)
     * learns of disconnections and expiry. If a lease holder may do it, the pool no longer sees its own session.
     */
    @Test
    void replacingTheHandlesDefaultWatcherIsRefusedOrHarmless() throws Exception {
        List<WatchedEvent> stolen = new CopyOnWriteArrayList<>();
        try (ZkLease lease = pool.lease()) {
            EphemeralNode node = lease.ephemeral("/member", DATA);
            long session = lease.sessionId();
            Throwable refused = catchThrowable(
                    () -> lease.curator().getZookeeperClient().getZooKeeper().register(stolen::add));
            System.out.println("register(watcher) on the shared handle: " + (refused == null ? "accepted" : refused));
            // Whether refused or not, the pool must still follow its session: an expiry must be recovered.
            ForcedExpiry.expireSession(server.getConnectString(), session, password(lease));
            await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
                assertThat(recorder.recoveries())
                        .as(
                                "recoveries after an expiry, once a lease holder called register(...) "
                                        + "on the handle (%s)",
                                refused == null ? "accepted" : "refused: " + refused)
                        .isNotEmpty();
                Stat stat = observer.zk().exists("/member", false);
                assertThat(stat).as("/member re-created").isNotNull();
                assertThat(stat.getEphemeralOwner()).isNotEqualTo(session);
                assertThat(node.isPresent()).isTrue();
            });
        }
    }

    /** {@code updateServerList} on the shared handle moves the pool's session to a server of the caller's choice. */
    @Test
    void pointingTheHandleAtAnotherServerListIsRefusedOrHarmless() throws Exception {
        try (ZkLease lease = pool.lease()) {
            lease.create("/x", DATA, CreateMode.PERSISTENT);
            long session = lease.sessionId();
            Throwable refused = catchThrowable(
                    () -> lease.curator().getZookeeperClient().getZooKeeper().updateServerList("127.0.0.1:1"));
            System.out.println("updateServerList on the shared handle: " + (refused == null ? "accepted" : refused));
            // A reconnect must still find the real server.
            server.restart();
            await().atMost(Duration.ofSeconds(25)).ignoreExceptions().untilAsserted(() -> {
                try (ZkLease other = pool.lease()) {
                    assertThat(other.getData("/x"))
                            .as(
                                    "a lease's read after updateServerList(\"127.0.0.1:1\") (%s) and a "
                                            + "server restart",
                                    refused == null ? "accepted" : "refused")
                            .isEqualTo(DATA);
                }
            });
            assertThat(lease.sessionId())
                    .as(
                            "the session after updateServerList(\"127.0.0.1:1\") (%s) and a server " + "restart",
                            refused == null ? "accepted" : "refused")
                    .isEqualTo(session);
        }
    }

    private void attemptLeavesTheSessionIntact(String how, Attempt attempt) throws Exception {
        long session;
        try (ZkLease lease = pool.lease()) {
            lease.create("/guard", DATA, CreateMode.PERSISTENT);
            lease.ephemeral("/guard-member", DATA);
            session = lease.sessionId();
            Throwable outcome = catchThrowable(() -> attempt.run(lease));
            System.out.println("lease.curator()." + how + ": " + (outcome == null ? "returned" : outcome));
            if (outcome != null) {
                assertThat(outcome)
                        .as("lease.curator().%s, if refused", how)
                        .isInstanceOfAny(UnsupportedOperationException.class, IllegalStateException.class);
            }
        }
        // A close or reset would show within half a second: the pool's session stays the same, connected, throughout.
        long expected = session;
        await().during(Duration.ofMillis(500))
                .atMost(Duration.ofSeconds(2))
                .untilAsserted(() -> assertThat(pool.ensembles().get(0).sessions())
                        .as("the pool's sessions after lease.curator().%s", how)
                        .allMatch(s -> s.sessionId() == expected && s.connected()));
        try (ZkLease other = pool.lease()) {
            assertThat(other.getData("/guard")).isEqualTo(DATA);
            assertThat(other.sessionId())
                    .as("the pool's session after lease.curator().%s", how)
                    .isEqualTo(session);
            assertThat(other.curator().checkExists().forPath("/guard"))
                    .as("curator() after %s", how)
                    .isNotNull();
        }
        Stat member = observer.zk().exists("/guard-member", false);
        assertThat(member)
                .as("the pool's ephemeral after lease.curator().%s", how)
                .isNotNull();
        assertThat(member.getEphemeralOwner()).isEqualTo(session);
        assertThat(pool.stats().sessionsOpened())
                .as("sessions opened after %s", how)
                .isEqualTo(1);
        assertThat(recorder.sessionEvents().stream()
                        .filter(e -> e.state() != SessionState.CONNECTED)
                        .toList())
                .as("session events after lease.curator().%s", how)
                .isEmpty();
    }

    // ------------------------------------------------------------------------------ recipes across an expiry

    @Test
    void curatorRecipesOnALeaseKeepWorkingAcrossAnExpiry() throws Exception {
        ZkLease lease = pool.lease();
        CuratorFramework curator = lease.curator();
        observer.zk().create("/r", new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        observer.zk().create("/r/cache", new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        observer.zk().create("/r/pw", new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        List<String> cacheEvents = new CopyOnWriteArrayList<>();
        CuratorCache cache = CuratorCache.build(curator, "/r/cache");
        cache.listenable()
                .addListener(CuratorCacheListener.builder()
                        .forCreates(n -> cacheEvents.add("created " + n.getPath()))
                        .build());
        cache.start();
        List<String> persistent = new CopyOnWriteArrayList<>();
        PersistentWatcher watcher = new PersistentWatcher(curator, "/r/pw", true);
        watcher.getListenable().addListener(e -> persistent.add(e.getType() + " " + e.getPath()));
        watcher.start();
        LeaderLatch latch = new LeaderLatch(curator, "/r/latch", "pool");
        latch.start();
        InterProcessMutex mutex = new InterProcessMutex(curator, "/r/lock");
        DistributedAtomicLong counter = new DistributedAtomicLong(curator, "/r/counter", new RetryOneTime(10));
        try (CuratorFramework rival =
                CuratorFrameworkFactory.newClient(server.getConnectString(), 30_000, 10_000, new RetryOneTime(100))) {
            rival.start();
            LeaderLatch rivalLatch = new LeaderLatch(rival, "/r/latch", "rival");
            InterProcessMutex rivalMutex = new InterProcessMutex(rival, "/r/lock");

            assertThat(latch.await(10, TimeUnit.SECONDS))
                    .as("the pool's latch leads before the expiry")
                    .isTrue();
            rivalLatch.start();
            assertThat(mutex.acquire(5, TimeUnit.SECONDS)).isTrue();
            mutex.release();
            assertThat(counter.increment().succeeded()).isTrue();
            observer.zk().create("/r/cache/a", DATA, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            observer.zk().create("/r/pw/a", DATA, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            await().atMost(Duration.ofSeconds(5))
                    .until(() -> cacheEvents.contains("created /r/cache/a")
                            && persistent.stream().anyMatch(e -> e.contains("/r/pw/a")));

            long old = lease.sessionId();
            ForcedExpiry.expireSession(server.getConnectString(), old, password(lease));
            await().atMost(Duration.ofSeconds(20))
                    .until(() -> !recorder.recoveries().isEmpty());
            // Leadership moves to the rival (the pool's latch node went with the session).
            await().atMost(Duration.ofSeconds(10)).until(rivalLatch::hasLeadership);
            assertThat(latch.hasLeadership())
                    .as("the pool's latch right after losing its session")
                    .isFalse();

            // After the expiry, on the same curator() taken before it:
            observer.zk().create("/r/cache/b", DATA, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            observer.zk().create("/r/pw/b", DATA, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
                assertThat(cacheEvents)
                        .as("CuratorCache events after the expiry")
                        .contains("created /r/cache/b");
                assertThat(persistent)
                        .as("PersistentWatcher events after the expiry")
                        .anyMatch(e -> e.contains("/r/pw/b"));
            });
            AtomicValue<Long> after = counter.increment();
            assertThat(after.succeeded()).isTrue();
            assertThat(after.postValue()).isEqualTo(2L);
            assertThat(contendedAcquire(mutex, rivalMutex))
                    .as("the pool's mutex (on curator() taken before the expiry) "
                            + "once the rival releases, after the expiry")
                    .isTrue();
            rivalLatch.close();
            assertThat(latch.await(10, TimeUnit.SECONDS))
                    .as("the pool's latch leads again once the rival leaves")
                    .isTrue();
        } finally {
            latch.close();
            watcher.close();
            cache.close();
            lease.close();
        }
    }

    /** A lease's watch on the same node as a Curator lock waiter: closing the watch must not strand the waiter. */
    @Test
    void closingAWatchOnALockNodeDoesNotStrandAMutexWaitingOnIt() throws Exception {
        try (ZkLease lease = pool.lease();
                CuratorFramework rival = CuratorFrameworkFactory.newClient(
                        server.getConnectString(), 30_000, 10_000, new RetryOneTime(100))) {
            rival.start();
            InterProcessMutex rivalMutex = new InterProcessMutex(rival, "/lock");
            InterProcessMutex mutex = new InterProcessMutex(lease.curator(), "/lock");
            rivalMutex.acquire();
            String held = "/lock/" + observer.zk().getChildren("/lock", false).get(0);
            CompletableFuture<Boolean> waiting = CompletableFuture.supplyAsync(() -> {
                try {
                    boolean got = mutex.acquire(15, TimeUnit.SECONDS);
                    if (got) {
                        mutex.release();
                    }
                    return got;
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            });
            await().atMost(Duration.ofSeconds(5))
                    .until(() -> observer.zk().getChildren("/lock", false).size() == 2);
            // The same node, watched and unwatched through the SDK on the same session, every kind of watch.
            lease.watch(held, e -> {}).close();
            lease.watchTree(held, e -> {}).close();
            lease.watchChildren(held, e -> {}).close();
            lease.watchChildren("/lock", e -> {}).close();
            rivalMutex.release();
            assertThat(waiting.get(20, TimeUnit.SECONDS))
                    .as("the lease's mutex acquired once the rival released")
                    .isTrue();
        }
    }

    /** A mutex on a lease's curator() waiting for the rival's: it must get the lock once the rival releases. */
    @Test
    void aContendedMutexOnALeaseIsAcquiredOnceTheRivalReleasesBeforeAndAfterAnExpiry() throws Exception {
        try (ZkLease lease = pool.lease();
                CuratorFramework rival = CuratorFrameworkFactory.newClient(
                        server.getConnectString(), 30_000, 10_000, new RetryOneTime(100))) {
            rival.start();
            InterProcessMutex mutex = new InterProcessMutex(lease.curator(), "/lock2");
            InterProcessMutex rivalMutex = new InterProcessMutex(rival, "/lock2");
            assertThat(contendedAcquire(mutex, rivalMutex))
                    .as("contended acquire before any expiry")
                    .isTrue();
            long old = lease.sessionId();
            ForcedExpiry.expireSession(server.getConnectString(), old, password(lease));
            await().atMost(Duration.ofSeconds(20))
                    .until(() -> !recorder.recoveries().isEmpty());
            assertThat(contendedAcquire(mutex, rivalMutex))
                    .as("contended acquire after an expiry, same curator()")
                    .isTrue();
            InterProcessMutex fresh = new InterProcessMutex(pool.lease().curator(), "/lock2");
            assertThat(contendedAcquire(fresh, rivalMutex))
                    .as("contended acquire after an expiry, a new lease's " + "curator()")
                    .isTrue();
        }
    }

    /** The rival holds the lock; the mutex waits for it; the rival releases after 500 ms. */
    private static boolean contendedAcquire(InterProcessMutex mutex, InterProcessMutex rivalMutex) throws Exception {
        CountDownLatch held = new CountDownLatch(1);
        Thread releaser = new Thread(() -> {
            try {
                rivalMutex.acquire();
                held.countDown();
                Thread.sleep(500);
                rivalMutex.release();
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
        releaser.start();
        assertThat(held.await(10, TimeUnit.SECONDS))
                .as("the rival holds the lock")
                .isTrue();
        boolean got = mutex.acquire(10, TimeUnit.SECONDS);
        if (got) {
            mutex.release();
        }
        releaser.join();
        return got;
    }

    private static byte[] password(ZkLease lease) throws Exception {
        return lease.curator().getZookeeperClient().getZooKeeper().getSessionPasswd();
    }
}
