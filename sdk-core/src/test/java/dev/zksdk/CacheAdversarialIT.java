package dev.zksdk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.zksdk.cache.CacheConfig;
import dev.zksdk.cache.CachedNode;
import dev.zksdk.cache.ZkCache;
import dev.zksdk.testing.InProcessEnsembles;
import dev.zksdk.testing.RawZooKeeper;
import dev.zksdk.testing.ZkProxy;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.curator.test.TestingServer;
import org.apache.zookeeper.CreateMode;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Tries to break what {@link ZkCache} promises about reconnections: "On every reconnection, with the same session or
 * a new one, nothing loaded before it is served again ... once reconnected, a cache never serves data older than what
 * the server confirmed after the reconnection." A listener that has been told {@code RECONNECTED} reads the cache at
 * once; a reader that has seen the new value must never see the old one again.
 */
class CacheAdversarialIT {

    TestingServer server;
    ZkProxy proxy;
    RawZooKeeper writer;
    ZkSessionPool pool;
    ZkLease lease;
    final List<SessionEvent> events = new CopyOnWriteArrayList<>();

    @BeforeEach
    void start() {
        server = InProcessEnsembles.startServer();
        proxy = ZkProxy.to(server.getConnectString());
        writer = RawZooKeeper.connect(server.getConnectString(), Duration.ofSeconds(30));
        pool = ZkSessionPool.builder()
                .name("adv-cache")
                .connectString(proxy.connectString())
                .sessionTimeout(Duration.ofSeconds(10))
                .connectionTimeout(Duration.ofSeconds(5))
                .operationPolicy(OperationPolicy.builder()
                        .operationTimeout(Duration.ofSeconds(8))
                        .breakerFailureRateThreshold(100f)
                        .build())
                .listener(new SessionListener() {
                    @Override
                    public void onStateChange(SessionEvent event) {
                        events.add(event);
                    }
                })
                .build();
        lease = pool.lease();
    }

    @AfterEach
    void stop() throws Exception {
        pool.close();
        writer.close();
        proxy.close();
        server.close();
    }

    @Test
    void onceTheReconnectIsReportedTheCacheNeverServesAValueFromBeforeIt() throws Exception {
        lease.create("/cfg", bytes("v0"), CreateMode.PERSISTENT);
        List<String> stale = new ArrayList<>();
        try (ZkCache cache = lease.cache(
                "/cfg",
                CacheConfig.builder()
                        .maxDisconnectedStaleness(Duration.ofHours(1))
                        .build())) {
            AtomicBoolean reading = new AtomicBoolean(true);
            AtomicInteger highest = new AtomicInteger();
            List<String> wentBack = new CopyOnWriteArrayList<>();
            Thread reader = new Thread(
                    () -> {
                        while (reading.get()) {
                            try {
                                int v = Integer.parseInt(text(cache.get()).substring(1));
                                int before = highest.getAndAccumulate(v, Math::max);
                                if (v < before) {
                                    wentBack.add("read v" + v + " after having read v" + before);
                                }
                            } catch (ZkException e) {
                                // a read to the server while disconnected may fail; that is allowed
                            }
                        }
                    },
                    "cache-reader");
            reader.setDaemon(true);
            reader.start();
            for (int round = 1; round <= 8; round++) {
                assertThat(text(cache.get())).isEqualTo("v" + (round - 1));
                int reconnectsBefore = reconnects();
                proxy.freeze();
                proxy.closeAllConnections();
                await().atMost(Duration.ofSeconds(10))
                        .until(() -> events.get(events.size() - 1).state() == SessionState.SUSPENDED);
                writer.zk().setData("/cfg", bytes("v" + round), -1);
                proxy.unfreeze();
                await().atMost(Duration.ofSeconds(15)).until(() -> reconnects() > reconnectsBefore);
                String seen = text(cache.get());
                if (!seen.equals("v" + round)) {
                    stale.add("round " + round + ": right after RECONNECTED was reported, cache.get() served " + seen
                            + " (the server has had v" + round + " since before the reconnect)");
                }
                int r = round;
                await().atMost(Duration.ofSeconds(10))
                        .until(() -> text(cache.get()).equals("v" + r));
            }
            reading.set(false);
            reader.join();
            assertThat(wentBack)
                    .as("a reader saw an older value after a newer one")
                    .isEmpty();
        }
        assertThat(stale).isEmpty();
    }

    private int reconnects() {
        return (int) events.stream()
                .filter(e -> e.state() == SessionState.RECONNECTED)
                .count();
    }

    private static String text(CachedNode node) {
        return node == null ? "null" : new String(node.data(), StandardCharsets.UTF_8);
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
