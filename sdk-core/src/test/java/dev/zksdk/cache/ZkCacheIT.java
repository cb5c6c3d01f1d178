package dev.zksdk.cache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.zksdk.ZkLease;
import dev.zksdk.ZkNoNodeException;
import dev.zksdk.ZkSessionPool;
import dev.zksdk.internal.cache.WatchedCache;
import dev.zksdk.testing.InProcessEnsembles;
import dev.zksdk.testing.RawZooKeeper;
import dev.zksdk.testing.ServerConnections;
import dev.zksdk.testing.ZkProxy;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.curator.test.TestingServer;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.data.Stat;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Caches against a real server: changes by an independent client (not behind the proxy, not through the pool) reach
 * the cache through its watch; concurrent misses share one server read, counted by the server itself; the size bound
 * holds.
 */
class ZkCacheIT {

    TestingServer server;
    ZkProxy proxy;
    RawZooKeeper writer;
    ZkSessionPool pool;
    ZkLease lease;

    @BeforeEach
    void start() {
        server = InProcessEnsembles.startServer();
        proxy = ZkProxy.to(server.getConnectString());
        writer = RawZooKeeper.connect(server.getConnectString(), Duration.ofSeconds(30));
        pool = ZkSessionPool.builder()
                .connectString(proxy.connectString())
                .sessionTimeout(Duration.ofSeconds(10))
                .connectionTimeout(Duration.ofSeconds(5))
                .build();
        lease = pool.lease();
    }

    @AfterEach
    void stop() throws Exception {
        lease.close();
        pool.close();
        writer.close();
        proxy.close();
        server.close();
    }

    @Test
    void aWriteByAnIndependentClientBecomesVisible() throws Exception {
        lease.create("/config", bytes("v1"), CreateMode.PERSISTENT);
        try (ZkCache cache = lease.cache("/config")) {
            CachedNode first = cache.get();
            assertThat(text(first)).isEqualTo("v1");
            assertThat(cache.get("/config")).isSameAs(first);

            Stat written = writer.zk().setData("/config", bytes("v2"), first.version());

            await().atMost(Duration.ofSeconds(10)).until(() -> text(cache.get()).equals("v2"));
            CachedNode second = cache.get();
            assertThat(second.version()).isEqualTo(written.getVersion());
            assertThat(second.modifiedZxid()).isEqualTo(written.getMzxid());
            assertThat(second.stat()).isEqualTo(written);
        }
    }

    @Test
    void aNodeCreatedLaterIsSeenAndAnAbsentNodeIsCachedAsAbsent() throws Exception {
        try (ZkCache cache = lease.cache("/later")) {
            assertThat(cache.get()).isNull();
            assertThat(cache.get()).isNull();
            assertThat(cache.stats().missCount()).isEqualTo(1);
            assertThat(cache.stats().hitCount()).isEqualTo(1);

            writer.zk().create("/later", bytes("here"), ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);

            await().atMost(Duration.ofSeconds(10)).until(() -> cache.get() != null);
            assertThat(text(cache.get())).isEqualTo("here");
        }
    }

    @Test
    void cachesMadeWithoutTheirOwnConfigUseThePoolsCacheDefaults() throws Exception {
        lease.create("/defaults", bytes("v"), CreateMode.PERSISTENT);
        try (ZkSessionPool quiet = ZkSessionPool.builder()
                        .connectString(proxy.connectString())
                        .cacheDefaults(CacheConfig.builder().recordStats(false).build())
                        .build();
                ZkLease other = quiet.lease();
                ZkCache node = other.cache("/defaults");
                ZkTreeCache tree = other.treeCache("/defaults");
                ZkCache own = other.cache("/defaults", CacheConfig.defaults())) {
            for (ZkCache cache : List.of(node, tree, own)) {
                assertThat(text(cache.get("/defaults"))).isEqualTo("v");
                assertThat(text(cache.get("/defaults"))).isEqualTo("v");
            }
            assertThat(node.stats().hitCount())
                    .as("the pool's defaults record no stats")
                    .isZero();
            assertThat(tree.stats().hitCount())
                    .as("the pool's defaults record no stats")
                    .isZero();
            assertThat(own.stats().hitCount()).as("a cache's own config wins").isEqualTo(1);
        }
        assertThatThrownBy(() -> ZkSessionPool.builder().cacheDefaults(null))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("cacheDefaults");
    }

    @Test
    void aDeleteEvictsTheNode() throws Exception {
        lease.create("/tree", new byte[0], CreateMode.PERSISTENT);
        lease.create("/tree/a", bytes("a"), CreateMode.PERSISTENT);
        try (ZkTreeCache cache = lease.treeCache("/tree")) {
            assertThat(text(cache.get("/tree/a"))).isEqualTo("a");
            assertThat(cache.estimatedSize()).isEqualTo(1);

            writer.zk().delete("/tree/a", -1);

            await().atMost(Duration.ofSeconds(10)).until(() -> cache.estimatedSize() == 0);
            assertThat(cache.get("/tree/a")).isNull();
            assertThat(cache.stats().missCount())
                    .as("the absent node was read again, not served from memory")
                    .isEqualTo(2);
        }
    }

    @Test
    void aChildAddedAnywhereInTheSubtreeAppearsInTheTreeCache() throws Exception {
        lease.create("/members", new byte[0], CreateMode.PERSISTENT);
        lease.create("/members/a", bytes("host-a"), CreateMode.PERSISTENT);
        lease.create("/members/a/deep", new byte[0], CreateMode.PERSISTENT);
        try (ZkTreeCache cache = lease.treeCache("/members")) {
            assertThat(cache.getChildren("/members")).containsExactly("a");
            assertThat(cache.getChildren("/members/a/deep")).isEmpty();

            writer.zk().create("/members/b", bytes("host-b"), ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.EPHEMERAL);
            writer.zk().create("/members/a/deep/x", new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);

            await().atMost(Duration.ofSeconds(10))
                    .until(() -> cache.getChildren("/members").equals(List.of("a", "b")));
            await().atMost(Duration.ofSeconds(10))
                    .until(() -> cache.getChildren("/members/a/deep").equals(List.of("x")));
            assertThat(text(cache.get("/members/b"))).isEqualTo("host-b");

            writer.zk().delete("/members/b", -1);
            await().atMost(Duration.ofSeconds(10))
                    .until(() -> cache.getChildren("/members").equals(List.of("a")));
            assertThat(cache.get("/members/b")).isNull();
            assertThatThrownBy(() -> cache.getChildren("/members/b"))
                    .isInstanceOf(ZkNoNodeException.class)
                    .satisfies(e -> assertThat(((ZkNoNodeException) e).path()).isEqualTo("/members/b"));
        }
    }

    @Test
    void aThousandConcurrentReadsOfAnUncachedNodeCauseOneServerRead() throws Exception {
        lease.create("/single", new byte[0], CreateMode.PERSISTENT);
        lease.create("/single/node", bytes("value"), CreateMode.PERSISTENT);
        try (ZkTreeCache cache = lease.treeCache("/single")) {
            long readsBefore = serverReads("single");
            // Frozen, the one server read cannot answer: every read below is issued while it is in flight.
            proxy.freeze();
            List<CompletableFuture<CachedNode>> reads = new ArrayList<>();
            ExecutorService threads = Executors.newFixedThreadPool(16);
            try {
                CountDownLatch go = new CountDownLatch(1);
                List<Future<List<CompletableFuture<CachedNode>>>> perThread = new ArrayList<>();
                for (int t = 0; t < 16; t++) {
                    int n = t < 8 ? 63 : 62; // 8 * 63 + 8 * 62 = 1000
                    perThread.add(threads.submit(() -> {
                        go.await();
                        List<CompletableFuture<CachedNode>> mine = new ArrayList<>();
                        for (int i = 0; i < n; i++) {
                            mine.add(cache.getAsync("/single/node"));
                        }
                        return mine;
                    }));
                }
                go.countDown();
                for (Future<List<CompletableFuture<CachedNode>>> f : perThread) {
                    reads.addAll(f.get(10, TimeUnit.SECONDS));
                }
            } finally {
                threads.shutdownNow();
            }
            assertThat(reads).hasSize(1000);
            assertThat(reads).noneMatch(CompletableFuture::isDone);
            proxy.unfreeze();

            for (CompletableFuture<CachedNode> read : reads) {
                assertThat(text(read.get(10, TimeUnit.SECONDS))).isEqualTo("value");
            }
            assertThat(serverReads("single") - readsBefore)
                    .as("reads of /single/* the server answered")
                    .isEqualTo(1);
            assertThat(cache.stats().missCount()).isEqualTo(1);
            assertThat(cache.stats().hitCount()).isEqualTo(999);
            assertThat(cache.stats().loadSuccessCount()).isEqualTo(1);
        }
    }

    @Test
    void fillingBeyondTheMaximumSizeEvicts() throws Exception {
        lease.create("/many", new byte[0], CreateMode.PERSISTENT);
        for (int i = 0; i < 200; i++) {
            lease.create("/many/n" + i, bytes("value-" + i), CreateMode.PERSISTENT);
        }
        try (ZkTreeCache cache =
                lease.treeCache("/many", CacheConfig.builder().maximumSize(50).build())) {
            for (int i = 0; i < 200; i++) {
                assertThat(text(cache.get("/many/n" + i))).isEqualTo("value-" + i);
            }
            ((WatchedCache) cache).cleanUp();
            assertThat(cache.estimatedSize()).isLessThanOrEqualTo(50);
            assertThat(cache.stats().evictionCount()).isGreaterThanOrEqualTo(150);
            assertThat(cache.stats().loadSuccessCount()).isEqualTo(200);
        }
    }

    @Test
    void getCurrentReturnsTheServersValueEvenWhileTheCacheHoldsAnOlderOne() throws Exception {
        lease.create("/cur", bytes("v1"), CreateMode.PERSISTENT);
        try (ZkCache cache = lease.cache("/cur")) {
            assertThat(text(cache.get())).isEqualTo("v1");
            // Frozen, the cache cannot hear of the write; unfrozen just before getCurrent, which must not trust memory.
            proxy.freeze();
            writer.zk().setData("/cur", bytes("v2"), -1);
            proxy.unfreeze();
            assertThat(text(cache.getCurrent("/cur"))).isEqualTo("v2");
            assertThat(text(cache.get())).as("getCurrent refreshed the entry").isEqualTo("v2");
            assertThat(text(cache.getCurrentAsync("/cur").get(10, TimeUnit.SECONDS)))
                    .isEqualTo("v2");
        }
    }

    @Test
    void badArgumentsAreRefusedBeforeAnythingIsSent() {
        assertThatThrownBy(() -> lease.cache(null))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("path");
        assertThatThrownBy(() -> lease.cache("no-slash"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("no-slash");
        assertThatThrownBy(() -> lease.cache("/x", null))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("config");
        try (ZkTreeCache tree = lease.treeCache("/t");
                ZkCache node = lease.cache("/n")) {
            assertThatThrownBy(() -> tree.get("/other"))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("/other")
                    .hasMessageContaining("/t");
            assertThatThrownBy(() -> tree.get("/tx"))
                    .as("a sibling sharing the prefix is outside")
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("/tx");
            assertThatThrownBy(() -> tree.getChildren("/t/")).isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> node.get("/n/child"))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("/n/child");
            assertThatThrownBy(() -> node.getAsync(null)).isInstanceOf(IllegalArgumentException.class);
            assertThat(tree.stats().requestCount()).isZero();
        }
    }

    @Test
    void aCacheArmsOneWatchAndRefusesReadsOnceItOrThePoolIsClosed() throws Exception {
        lease.create("/closing", bytes("x"), CreateMode.PERSISTENT);
        int watchesBefore = ServerConnections.watchCount(server.getConnectString());
        ZkCache cache = lease.cache("/closing");
        assertThat(ServerConnections.watchCount(server.getConnectString())).isEqualTo(watchesBefore + 1);
        cache.get();
        cache.close();
        cache.close();
        assertThatThrownBy(cache::get).isInstanceOf(IllegalStateException.class).hasMessageContaining("closed");
        assertThatThrownBy(() -> cache.getAsync("/closing")).isInstanceOf(IllegalStateException.class);

        ZkCache outlivesLease = lease.cache("/closing");
        lease.close();
        assertThat(text(outlivesLease.get()))
                .as("a cache outlives its lease, as a watch does")
                .isEqualTo("x");
        pool.close();
        assertThatThrownBy(outlivesLease::get)
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("pool");
    }

    @Test
    void statisticsReachMicrometerThroughTheCaffeineBinder() throws Exception {
        lease.create("/metered", bytes("m"), CreateMode.PERSISTENT);
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        try (ZkCache cache = lease.cache("/metered")) {
            CacheMetrics.monitor(registry, cache, "config", Tags.of("team", "core"));
            cache.get();
            cache.get();
            cache.get();
            assertThat(registry.get("cache.gets")
                            .tags("cache", "config", "result", "hit", "team", "core")
                            .functionCounter()
                            .count())
                    .isEqualTo(2.0);
            assertThat(registry.get("cache.gets")
                            .tags("cache", "config", "result", "miss")
                            .functionCounter()
                            .count())
                    .isEqualTo(1.0);
            assertThat(registry.get("cache.load")
                            .tags("cache", "config", "result", "success")
                            .functionCounter()
                            .count())
                    .isEqualTo(1.0);
            assertThat(registry.get("cache.size")
                            .tags("cache", "config")
                            .gauge()
                            .value())
                    .isEqualTo(1.0);
            assertThat(registry.get("cache.evictions")
                            .tags("cache", "config")
                            .functionCounter()
                            .count())
                    .isZero();
        }
        assertThatThrownBy(() -> CacheMetrics.monitor(registry, null, "x", Tags.empty()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("cache");
    }

    @Test
    void statisticsCanBeTurnedOff() throws Exception {
        lease.create("/quiet", bytes("q"), CreateMode.PERSISTENT);
        try (ZkCache cache =
                lease.cache("/quiet", CacheConfig.builder().recordStats(false).build())) {
            cache.get();
            cache.get();
            assertThat(cache.stats().requestCount()).isZero();
            assertThat(cache.stats().loadCount()).isZero();
        }
    }

    /** Reads (getData, exists, getChildren) the server answered below the top-level node {@code /namespace}. */
    private long serverReads(String namespace) {
        String value =
                ServerConnections.mntr(server.getConnectString()).get("zk_cnt_" + namespace + "_read_per_namespace");
        return value == null ? 0 : Long.parseLong(value);
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static String text(CachedNode node) {
        return node == null ? null : new String(node.data(), StandardCharsets.UTF_8);
    }
}
