package dev.zksdk.cache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.github.benmanes.caffeine.cache.Ticker;
import dev.zksdk.OperationPolicy;
import dev.zksdk.SessionState;
import dev.zksdk.ZkLease;
import dev.zksdk.ZkSessionPool;
import dev.zksdk.testing.ForcedExpiry;
import dev.zksdk.testing.InProcessEnsembles;
import dev.zksdk.testing.RawZooKeeper;
import dev.zksdk.testing.Recorder;
import dev.zksdk.testing.ZkProxy;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.curator.framework.state.ConnectionState;
import org.apache.curator.test.TestingServer;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The staleness guarantee across disconnections: within the bound a disconnected cache serves what it held; past it,
 * reads go to the server; after a reconnection, same session or new, nothing from before is served. The writer is an
 * independent client connected straight to the server, so it keeps writing while the cache's connection is frozen.
 */
class CacheReconnectIT {

    static final Duration SESSION_TIMEOUT = Duration.ofSeconds(4); // the client notices a freeze after ~2.7 s

    TestingServer server;
    ZkProxy proxy;
    RawZooKeeper writer;
    ZkSessionPool pool;
    ZkLease lease;
    final Recorder events = new Recorder();

    @BeforeEach
    void start() {
        server = InProcessEnsembles.startServer();
        proxy = ZkProxy.to(server.getConnectString());
        writer = RawZooKeeper.connect(server.getConnectString(), Duration.ofSeconds(30));
        pool = ZkSessionPool.builder()
                .connectString(proxy.connectString())
                .sessionTimeout(SESSION_TIMEOUT)
                .connectionTimeout(Duration.ofSeconds(10))
                .operationPolicy(OperationPolicy.builder()
                        .operationTimeout(Duration.ofSeconds(30))
                        .breakerFailureRateThreshold(100f)
                        .build())
                .listener(events)
                .build();
        lease = pool.lease();
    }

    @AfterEach
    void stop() throws Exception {
        proxy.unfreeze();
        lease.close();
        pool.close();
        writer.close();
        proxy.close();
        server.close();
    }

    @Test
    void aChangeMadeWhileDisconnectedIsSeenAfterAReconnectWithinTheSameSession() throws Exception {
        lease.create("/cfg", bytes("v1"), CreateMode.PERSISTENT);
        long session = lease.sessionId();
        try (ZkCache cache = lease.cache(
                "/cfg",
                CacheConfig.builder()
                        .maxDisconnectedStaleness(Duration.ofHours(1))
                        .build())) {
            assertThat(text(cache.get())).isEqualTo("v1");

            proxy.freeze();
            awaitState(SessionState.SUSPENDED);
            CompletableFuture<CachedNode> whileDisconnected = cache.getAsync("/cfg");
            assertThat(whileDisconnected)
                    .as("served from memory within the bound, no server reachable")
                    .isDone();
            assertThat(text(whileDisconnected.join())).isEqualTo("v1");
            // ZooKeeper re-registers the persistent watch on reconnect but does not report this change to it.
            writer.zk().setData("/cfg", bytes("v2"), -1);
            proxy.unfreeze();

            await().atMost(Duration.ofSeconds(20))
                    .until(() -> events.saw(e -> e.state() == SessionState.RECONNECTED && e.sameSession()));
            assertThat(lease.sessionId()).isEqualTo(session);
            await().atMost(Duration.ofSeconds(10)).until(() -> "v2".equals(text(cache.get())));
            assertServedFromMemoryAgain(cache, "/cfg");
        }
    }

    @Test
    void pastTheBoundADisconnectedCacheReadsFromTheServer() throws Exception {
        lease.create("/bounded", bytes("v1"), CreateMode.PERSISTENT);
        ManualTicker ticker = new ManualTicker();
        try (ZkCache cache = lease.cache(
                "/bounded",
                CacheConfig.builder()
                        .maxDisconnectedStaleness(Duration.ofSeconds(5))
                        .ticker(ticker)
                        .build())) {
            assertThat(text(cache.get())).isEqualTo("v1");
            // Curator calls connection listeners in order on one thread: once this one has seen SUSPENDED, the cache
            // (registered earlier) has too, and has read the ticker.
            List<ConnectionState> seen = new CopyOnWriteArrayList<>();
            lease.curator().getConnectionStateListenable().addListener((client, state) -> seen.add(state));

            proxy.freeze();
            await().atMost(Duration.ofSeconds(20)).until(() -> seen.contains(ConnectionState.SUSPENDED));
            ticker.advance(Duration.ofSeconds(4));
            assertThat(cache.getAsync("/bounded"))
                    .as("4 s after the disconnection: within the bound")
                    .isDone();
            assertThat(cache.stats().missCount()).isEqualTo(1);
            ticker.advance(Duration.ofSeconds(2));
            CompletableFuture<CachedNode> pastBound = cache.getAsync("/bounded");
            assertThat(pastBound).as("6 s after: the read waits for the server").isNotDone();
            CompletableFuture<CachedNode> joined = cache.getAsync("/bounded");
            assertThat(joined).isNotDone();
            assertThat(cache.stats().missCount())
                    .as("the later reader joined the first one's load")
                    .isEqualTo(2);

            writer.zk().setData("/bounded", bytes("v2"), -1);
            proxy.unfreeze();
            assertThat(text(pastBound.get(30, TimeUnit.SECONDS))).isEqualTo("v2");
            assertThat(text(joined.get(30, TimeUnit.SECONDS))).isEqualTo("v2");
            await().atMost(Duration.ofSeconds(10)).until(() -> "v2".equals(text(cache.get())));
        }
    }

    @Test
    void aZeroBoundServesNothingWhileDisconnected() throws Exception {
        lease.create("/strict", bytes("v1"), CreateMode.PERSISTENT);
        try (ZkCache cache = lease.cache(
                "/strict",
                CacheConfig.builder().maxDisconnectedStaleness(Duration.ZERO).build())) {
            assertThat(text(cache.get())).isEqualTo("v1");
            proxy.freeze();
            awaitState(SessionState.SUSPENDED);
            CompletableFuture<CachedNode> read = cache.getAsync("/strict");
            assertThat(read).isNotDone();
            proxy.unfreeze();
            assertThat(text(read.get(30, TimeUnit.SECONDS))).isEqualTo("v1");
        }
    }

    @Test
    void afterExpiryTheNewSessionsCacheShowsWhatChangedInTheGap() throws Exception {
        lease.create("/svc", new byte[0], CreateMode.PERSISTENT);
        lease.create("/svc/a", bytes("a1"), CreateMode.PERSISTENT);
        ZooKeeper zk = lease.curator().getZookeeperClient().getZooKeeper();
        long oldSession = zk.getSessionId();
        byte[] password = zk.getSessionPasswd();
        try (ZkTreeCache cache = lease.treeCache("/svc")) {
            assertThat(text(cache.get("/svc/a"))).isEqualTo("a1");
            assertThat(cache.getChildren("/svc")).containsExactly("a");

            proxy.freeze();
            ForcedExpiry.expireSession(server.getConnectString(), oldSession, password);
            writer.zk().setData("/svc/a", bytes("a2"), -1);
            writer.zk().create("/svc/b", bytes("b1"), ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            proxy.unfreeze();

            await().atMost(Duration.ofSeconds(20))
                    .until(() -> events.saw(e -> e.state() == SessionState.RECONNECTED && e.newSession()));
            await().atMost(Duration.ofSeconds(10))
                    .until(() -> "a2".equals(text(cache.get("/svc/a")))
                            && cache.getChildren("/svc").equals(List.of("a", "b")));
            assertThat(lease.sessionId()).isNotEqualTo(oldSession);

            // The watch was re-armed in the new session: later changes arrive as before.
            writer.zk().setData("/svc/b", bytes("b2"), -1);
            await().atMost(Duration.ofSeconds(10)).until(() -> "b2".equals(text(cache.get("/svc/b"))));
            assertServedFromMemoryAgain(cache, "/svc/a");
        }
    }

    /** Watched again: a read is answered from memory, not passed through to the server. */
    private static void assertServedFromMemoryAgain(ZkCache cache, String path) {
        cache.get(path);
        long misses = cache.stats().missCount();
        long hits = cache.stats().hitCount();
        cache.get(path);
        assertThat(cache.stats().missCount()).isEqualTo(misses);
        assertThat(cache.stats().hitCount()).isEqualTo(hits + 1);
    }

    private void awaitState(SessionState state) {
        await().atMost(Duration.ofSeconds(20)).until(() -> events.saw(state));
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static String text(CachedNode node) {
        return node == null ? null : new String(node.data(), StandardCharsets.UTF_8);
    }

    /** A clock the test moves by hand. */
    static final class ManualTicker implements Ticker {
        private final AtomicLong nanos = new AtomicLong();

        @Override
        public long read() {
            return nanos.get();
        }

        void advance(Duration d) {
            nanos.addAndGet(d.toNanos());
        }
    }
}
