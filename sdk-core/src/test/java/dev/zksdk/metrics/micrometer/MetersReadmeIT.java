package dev.zksdk.metrics.micrometer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.zksdk.EphemeralNode;
import dev.zksdk.ZkLease;
import dev.zksdk.ZkNoNodeException;
import dev.zksdk.ZkSessionPool;
import dev.zksdk.metrics.MetricNames;
import dev.zksdk.testing.ForcedExpiry;
import dev.zksdk.testing.InProcessEnsembles;
import dev.zksdk.testing.ReadmeMeters;
import dev.zksdk.testing.ReadmeMeters.Row;
import dev.zksdk.testing.ZkProxy;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.observation.DefaultMeterObservationHandler;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.micrometer.observation.ObservationRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.curator.test.TestingServer;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.ZooKeeper;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The README's "Meters" table is what a registry holds after real traffic, in both directions: every row a meter of
 * that name, type, unit and tag keys, and every {@code zksdk.*} meter a row. The traffic makes every meter appear: a
 * create, reads (one of a missing node), an asynchronous read cut in flight (a retry), an ephemeral, a forced server
 * expiry (a recovery). Rows that say "only with an {@code ObservationRegistry}" are expected only in that mode.
 */
class MetersReadmeIT {

    private TestingServer server;
    private ZkProxy proxy;

    @BeforeEach
    void start() {
        server = InProcessEnsembles.startServer();
        proxy = ZkProxy.to(server.getConnectString());
    }

    @AfterEach
    void stop() throws Exception {
        proxy.close();
        server.close();
    }

    @Test
    void theReadmeListsExactlyTheMetersOfARegistryWithoutObservations() throws Exception {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        check(registry, new MicrometerMetricsTrackerFactory(registry), false);
    }

    @Test
    void theReadmeListsExactlyTheMetersOfARegistryWithObservations() throws Exception {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        ObservationRegistry observations = ObservationRegistry.create();
        observations.observationConfig().observationHandler(new DefaultMeterObservationHandler(registry));
        check(registry, new MicrometerMetricsTrackerFactory(registry, observations), true);
    }

    private void check(SimpleMeterRegistry registry, MicrometerMetricsTrackerFactory factory, boolean observed)
            throws Exception {
        Map<String, Row> readme = readme(observed);
        assertThat(readme).as("rows of the README's Meters table").hasSizeGreaterThan(20);
        ZkSessionPool pool = ZkSessionPool.builder()
                .name("readme")
                .connectString(proxy.connectString())
                .sessionTimeout(Duration.ofSeconds(4))
                .connectionTimeout(Duration.ofSeconds(10))
                .asyncBatching(16)
                .metricsTrackerFactory(factory)
                .build();
        try (ZkLease lease = pool.lease()) {
            lease.create("/m", new byte[] {1}, CreateMode.PERSISTENT);
            // Asynchronous writes queued behind one in flight go as batches (zksdk.batches).
            List<CompletableFuture<String>> batched = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                batched.add(lease.createAsync("/b" + i, new byte[0], CreateMode.PERSISTENT));
            }
            for (CompletableFuture<String> f : batched) {
                f.get(20, TimeUnit.SECONDS);
            }
            lease.getData("/m");
            try {
                lease.getData("/missing");
            } catch (ZkNoNodeException expected) {
                // an outcome other than success
            }
            try (EphemeralNode node = lease.ephemeral("/e", new byte[0])) {
                // An answer held by the proxy, then the connection cut: the read is retried on the new connection.
                proxy.freeze();
                CompletableFuture<byte[]> cut = lease.getDataAsync("/m");
                await().atMost(Duration.ofSeconds(5)).until(() -> proxy.clientConnectionCount() > 0);
                proxy.closeAllConnections();
                proxy.unfreeze();
                assertThat(cut.get(20, TimeUnit.SECONDS)).containsExactly(1);

                ZooKeeper zk = lease.curator().getZookeeperClient().getZooKeeper();
                ForcedExpiry.expireSession(server.getConnectString(), zk.getSessionId(), zk.getSessionPasswd());
                await().atMost(Duration.ofSeconds(30))
                        .until(() ->
                                registry.find(MetricNames.RECOVERY_DURATION).timer() != null);
            }
            lease.getData("/m");

            // Gauges of late events may take a moment; a difference that stays fails with both sides printed.
            await().atMost(Duration.ofSeconds(20))
                    .untilAsserted(() -> assertThat(published(registry))
                            .as("the registry's zksdk.* meters (actual) against the README's Meters table (expected)")
                            .isEqualTo(readme));
            assertThat(registry.get(MetricNames.OPERATION_RETRIES).counter().count())
                    .isGreaterThanOrEqualTo(1.0);
            // Host selection handed a server to ZooKeeper for the first connection and again after the cut.
            assertThat(registry.get(MetricNames.HOSTS_CONNECT_ATTEMPTS)
                            .tags("pool", "readme", "ensemble", proxy.connectString())
                            .functionCounter()
                            .count())
                    .isGreaterThanOrEqualTo(2.0);
        } finally {
            pool.close();
        }
    }

    /** Every {@code zksdk.*} meter, by name; the meters of one name must agree on type, unit and tag keys. */
    private static Map<String, Row> published(SimpleMeterRegistry registry) {
        Map<String, Row> rows = new TreeMap<>();
        for (Meter meter : registry.getMeters()) {
            Meter.Id id = meter.getId();
            if (!id.getName().startsWith("zksdk.")) {
                continue;
            }
            Set<String> keys = new TreeSet<>();
            for (Tag tag : id.getTags()) {
                keys.add(tag.getKey());
            }
            String type = id.getType().name().toLowerCase().replace('_', ' ');
            String unit;
            if (id.getType() == Meter.Type.TIMER || id.getType() == Meter.Type.LONG_TASK_TIMER) {
                unit = "seconds"; // the registry's base time unit
            } else {
                unit = id.getBaseUnit() == null ? "—" : id.getBaseUnit();
            }
            Row row = new Row(type, unit, keys);
            Row before = rows.put(id.getName(), row);
            assertThat(before == null || before.equals(row))
                    .as("every %s meter has the same type, unit and tag keys: %s, %s", id.getName(), before, row)
                    .isTrue();
        }
        return rows;
    }

    /** The rows of the README's "## Meters" table (zk-sdk-test's {@link ReadmeMeters}). */
    static Map<String, Row> readme(boolean observed) {
        return ReadmeMeters.read(ReadmeMeters.findReadme(Path.of(System.getProperty("user.dir"))), observed);
    }
}
