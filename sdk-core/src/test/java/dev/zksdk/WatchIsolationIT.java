package dev.zksdk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.zksdk.cache.ZkCache;
import dev.zksdk.metrics.micrometer.MicrometerMetricsTrackerFactory;
import dev.zksdk.testing.InProcessEnsembles;
import dev.zksdk.testing.RawZooKeeper;
import dev.zksdk.testing.Recorder;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.recipes.cache.CuratorCache;
import org.apache.curator.framework.recipes.cache.CuratorCacheListener;
import org.apache.curator.test.TestingServer;
import org.apache.zookeeper.AddWatchMode;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.WatchedEvent;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooDefs;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Watches of one session do not interfere: a slow watch listener delays only itself (not other listeners, not cache
 * invalidation), and closing a zk-sdk watch removes only its own watcher, never a Curator recipe's watch on the same
 * path of the same shared session. Changes are made by an observer with its own session.
 */
class WatchIsolationIT {

    /** Plenty for one notification on a local server; the blocked listener is held far longer. */
    static final Duration PROMPT = Duration.ofSeconds(2);

    static final Duration BLOCKED_FOR = Duration.ofSeconds(10);

    TestingServer server;
    RawZooKeeper observer;
    ZkSessionPool pool;
    ZkLease lease;
    final CountDownLatch release = new CountDownLatch(1);

    @BeforeEach
    void start() {
        server = InProcessEnsembles.startServer();
        observer = RawZooKeeper.connect(server.getConnectString(), Duration.ofSeconds(30));
        pool = ZkSessionPool.builder()
                .name("isolation")
                .connectString(server.getConnectString())
                .sessionTimeout(Duration.ofSeconds(4))
                .connectionTimeout(Duration.ofSeconds(3))
                .build();
        lease = pool.lease();
    }

    @AfterEach
    void stop() throws Exception {
        release.countDown();
        lease.close();
        pool.close();
        observer.close();
        server.close();
    }

    // ------------------------------------------------------------------------------ 7: slow listener isolation

    /**
     * A listener that falls more than the queue's bound behind does not make the pool hold every event for it: what is
     * queued is replaced by one RESYNC (re-read), counted as an overflow, and later events follow in order.
     */
    @Test
    void aListenerThatFallsTooFarBehindGetsOneResyncInsteadOfAnUnboundedQueue() throws Exception {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        pool.close();
        pool = ZkSessionPool.builder()
                .name("overflow")
                .connectString(server.getConnectString())
                .metricsTrackerFactory(new MicrometerMetricsTrackerFactory(registry))
                .build();
        lease = pool.lease();
        observer.zk().create("/flood", new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        List<WatchEvent> events = new CopyOnWriteArrayList<>();
        CountDownLatch firstSeen = new CountDownLatch(1);
        lease.watch("/flood", event -> {
            events.add(event);
            if (firstSeen.getCount() > 0) {
                firstSeen.countDown();
                try {
                    release.await(30, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        });
        int changes = 10_500;
        AtomicInteger answered = new AtomicInteger();
        for (int i = 0; i < changes; i++) {
            observer.zk()
                    .setData(
                            "/flood",
                            new byte[] {(byte) i},
                            -1,
                            (rc, p2, ctx, stat) -> answered.incrementAndGet(),
                            null);
        }
        await().atMost(Duration.ofSeconds(30)).until(() -> answered.get() == changes);
        assertThat(firstSeen.await(10, TimeUnit.SECONDS)).isTrue();
        await().atMost(Duration.ofSeconds(10))
                .until(() -> registry.find("zksdk.callbacks.overflows").functionCounter() != null
                        && registry.find("zksdk.callbacks.overflows")
                                        .functionCounter()
                                        .count()
                                > 0);
        release.countDown();
        await().atMost(Duration.ofSeconds(10))
                .until(() -> events.stream().anyMatch(e -> e.type() == WatchEvent.Type.RESYNC));
        assertThat(events.size()).isLessThan(changes);
        // The watch goes on delivering after the overflow: a change made now arrives (counted before it is made, since
        // its event can arrive before the setData returns).
        int before = events.size();
        observer.zk().setData("/flood", new byte[] {1}, -1);
        await().atMost(PROMPT.multipliedBy(5))
                .until(() -> events.subList(before, events.size()).stream()
                        .anyMatch(e -> e.type() == WatchEvent.Type.DATA_CHANGED));
    }

    /** A listener that blocks on its first event until released (or {@link #BLOCKED_FOR} passed). */
    private final class BlockingListener implements WatchListener {
        final CountDownLatch blocked = new CountDownLatch(1);
        final AtomicBoolean returned = new AtomicBoolean();

        @Override
        public void onEvent(WatchEvent event) {
            if (blocked.getCount() == 0) {
                return;
            }
            blocked.countDown();
            try {
                release.await(BLOCKED_FOR.toMillis(), TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                returned.set(true);
            }
        }
    }

    private BlockingListener blockAListener() throws Exception {
        lease.create("/slow", bytes("0"), CreateMode.PERSISTENT);
        BlockingListener slow = new BlockingListener();
        lease.watch("/slow", slow);
        observer.zk().setData("/slow", bytes("1"), -1);
        assertThat(slow.blocked.await(5, TimeUnit.SECONDS))
                .as("the slow listener got its first event")
                .isTrue();
        return slow;
    }

    @Test
    void aBlockedWatchListenerDoesNotDelayCacheInvalidationOnTheSameSession() throws Exception {
        lease.create("/cached", bytes("v0"), CreateMode.PERSISTENT);
        ZkCache cache = lease.cache("/cached");
        assertThat(text(cache.get().data())).isEqualTo("v0");
        BlockingListener slow = blockAListener();

        observer.zk().setData("/cached", bytes("v1"), -1);

        await().atMost(PROMPT)
                .untilAsserted(() -> assertThat(text(cache.get().data()))
                        .as(
                                "cache of /cached after an observer changed it, while another watch listener of the session is "
                                        + "blocked")
                        .isEqualTo("v1"));
        assertThat(slow.returned).as("the slow listener is still blocked").isFalse();
        cache.close();
    }

    @Test
    void aBlockedWatchListenerDoesNotDelayAnotherWatchListenerOnTheSameSession() throws Exception {
        lease.create("/fast", bytes("0"), CreateMode.PERSISTENT);
        Recorder fast = new Recorder();
        lease.watch("/fast", fast);
        BlockingListener slow = blockAListener();

        observer.zk().setData("/fast", bytes("1"), -1);

        await().atMost(PROMPT)
                .untilAsserted(() -> assertThat(fast.watchEvents())
                        .as("events of the watch on /fast, while another watch listener of the session is blocked")
                        .contains(new WatchEvent(WatchEvent.Type.DATA_CHANGED, "/fast")));
        assertThat(slow.returned).as("the slow listener is still blocked").isFalse();
    }

    // ----------------------------------------------------------------- 8: closing removes only its own watcher

    @Test
    void closingATreeWatchLeavesACuratorPersistentRecursiveWatchOnTheSamePathWatching() throws Exception {
        lease.create("/t", bytes("0"), CreateMode.PERSISTENT);
        CuratorFramework curator = lease.curator();
        List<WatchedEvent> curatorSaw = new CopyOnWriteArrayList<>();
        Watcher curatorWatcher = curatorSaw::add;
        curator.watchers()
                .add()
                .withMode(AddWatchMode.PERSISTENT_RECURSIVE)
                .usingWatcher(curatorWatcher)
                .forPath("/t");
        observer.zk().setData("/t", bytes("1"), -1);
        await().atMost(PROMPT).until(() -> curatorSaw.size() == 1);

        WatchHandle sdkWatch = lease.watchTree("/t", event -> {});
        sdkWatch.close();
        observer.zk().create("/t/child", bytes("c"), ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);

        await().atMost(PROMPT)
                .untilAsserted(() -> assertThat(curatorSaw)
                        .as(
                                "events of a Curator persistent recursive watch on /t after a zk-sdk tree watch on /t of the same "
                                        + "session was closed")
                        .anyMatch(e ->
                                e.getType() == Watcher.Event.EventType.NodeCreated && "/t/child".equals(e.getPath())));
    }

    /**
     * The recipe itself (CuratorCache, which runs on a persistent recursive watch) on the lease's Curator client. Its
     * {@code start()} needs a client Curator can use as its own ({@code CuratorFrameworkBase}).
     */
    @Test
    void closingATreeWatchLeavesACuratorCacheOnTheSamePathWatching() throws Exception {
        lease.create("/x", bytes("0"), CreateMode.PERSISTENT);
        CuratorFramework curator = lease.curator();
        List<String> curatorSaw = new CopyOnWriteArrayList<>();
        CountDownLatch initialized = new CountDownLatch(1);
        try (CuratorCache curatorCache = CuratorCache.build(curator, "/x")) {
            curatorCache
                    .listenable()
                    .addListener(CuratorCacheListener.builder()
                            .forCreates(node -> curatorSaw.add("created " + node.getPath()))
                            .forChanges((before, after) -> curatorSaw.add("changed " + after.getPath()))
                            .forInitialized(initialized::countDown)
                            .build());
            curatorCache.start();
            assertThat(initialized.await(5, TimeUnit.SECONDS))
                    .as("the CuratorCache initialized")
                    .isTrue();
            observer.zk().setData("/x", bytes("1"), -1);
            await().atMost(PROMPT).until(() -> curatorSaw.contains("changed /x"));

            WatchHandle sdkWatch = lease.watchTree("/x", event -> {});
            sdkWatch.close();
            observer.zk().create("/x/child", bytes("c"), ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);

            await().atMost(PROMPT)
                    .untilAsserted(() -> assertThat(curatorSaw)
                            .as(
                                    "what the CuratorCache on /x saw after a zk-sdk tree watch on /x of the same session was closed")
                            .contains("created /x/child"));
        }
    }

    @Test
    void closingANodeWatchLeavesACuratorPersistentWatchOnTheSamePathWatching() throws Exception {
        lease.create("/y", bytes("0"), CreateMode.PERSISTENT);
        CuratorFramework curator = lease.curator();
        List<WatchedEvent> curatorSaw = new CopyOnWriteArrayList<>();
        Watcher curatorWatcher = curatorSaw::add;
        curator.watchers()
                .add()
                .withMode(AddWatchMode.PERSISTENT)
                .usingWatcher(curatorWatcher)
                .forPath("/y");
        observer.zk().setData("/y", bytes("1"), -1);
        await().atMost(PROMPT).until(() -> curatorSaw.size() == 1);

        WatchHandle sdkWatch = lease.watch("/y", event -> {});
        sdkWatch.close();
        observer.zk().setData("/y", bytes("2"), -1);

        await().atMost(PROMPT)
                .untilAsserted(() -> assertThat(curatorSaw)
                        .as(
                                "events of a Curator persistent watch on /y after a zk-sdk watch on /y of the same session was closed")
                        .filteredOn(e -> e.getType() == Watcher.Event.EventType.NodeDataChanged)
                        .hasSize(2));
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static String text(byte[] data) {
        return new String(data, StandardCharsets.UTF_8);
    }
}
