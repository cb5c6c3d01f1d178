package dev.zksdk.metrics.micrometer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.zksdk.OperationPolicy;
import dev.zksdk.ZkLease;
import dev.zksdk.ZkNoNodeException;
import dev.zksdk.ZkSessionPool;
import dev.zksdk.ZkUnavailableException;
import dev.zksdk.metrics.MetricNames;
import dev.zksdk.testing.ForcedExpiry;
import dev.zksdk.testing.InProcessEnsembles;
import dev.zksdk.testing.RawZooKeeper;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.apache.curator.test.TestingServer;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The pool's meters against a real server: they exist, carry low-cardinality tags, and move with what happens. */
class MicrometerMetricsIT {

    private TestingServer server;
    private SimpleMeterRegistry registry;
    private String serverName;
    private Tags ensembleTags;

    @BeforeEach
    void start() throws Exception {
        // The server grants at most 4 s, so the 6 s the pool asks for is clamped.
        server = InProcessEnsembles.startServer(InProcessEnsembles.options()
                .maxSessionTimeout(Duration.ofSeconds(4))
                .build());
        try (RawZooKeeper raw = RawZooKeeper.connect(server.getConnectString(), Duration.ofSeconds(4))) {
            raw.zk().create("/chrooted", new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            raw.zk().create("/chrooted/app", new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        }
        registry = new SimpleMeterRegistry();
        serverName = server.getConnectString();
        ensembleTags = Tags.of(MetricNames.TAG_POOL, "metrics-it", MetricNames.TAG_ENSEMBLE, serverName);
    }

    @AfterEach
    void stop() throws Exception {
        server.close();
    }

    private ZkSessionPool.Builder pool() {
        return ZkSessionPool.builder()
                .name("metrics-it")
                .connectString(server.getConnectString() + "/chrooted/app")
                .sessionTimeout(Duration.ofSeconds(6))
                .metricsTrackerFactory(new MicrometerMetricsTrackerFactory(registry));
    }

    private double counter(String name, String... tags) {
        return registry.get(name).tags(ensembleTags).tags(tags).counter().count();
    }

    private double gauge(String name, String... tags) {
        return registry.get(name).tags(ensembleTags).tags(tags).gauge().value();
    }

    private long timerCount(String name, String... tags) {
        return registry.get(name).tags(ensembleTags).tags(tags).timer().count();
    }

    @Test
    void sessionOperationAndExpiryMetersMove() throws Exception {
        ZkSessionPool pool = pool().authorization("digest", "metrics:s3cret".getBytes(StandardCharsets.UTF_8))
                .build();
        try (ZkLease lease = pool.lease()) {
            // Session events reach the tracker just after the lease got its connected session.
            await().atMost(Duration.ofSeconds(5))
                    .until(() -> counter(MetricNames.SESSIONS_OPENED) == 1.0
                            && gauge(MetricNames.SESSIONS_STATE, "state", "connected") == 1.0);
            assertThat(gauge(MetricNames.SESSIONS_OPEN)).isEqualTo(1.0);
            assertThat(gauge(MetricNames.SESSIONS_STATE, "state", "lost")).isZero();
            assertThat(gauge(MetricNames.CONNECTIONS, "server", serverName)).isEqualTo(1.0);
            assertThat(registry.get(MetricNames.LEASES_ACTIVE)
                            .tag("pool", "metrics-it")
                            .gauge()
                            .value())
                    .isEqualTo(1.0);
            assertThat(registry.get(MetricNames.SESSION_TIMEOUT_REQUESTED)
                            .tags(ensembleTags)
                            .timeGauge()
                            .value(TimeUnit.MILLISECONDS))
                    .isEqualTo(6000.0);
            assertThat(registry.get(MetricNames.SESSION_TIMEOUT_NEGOTIATED)
                            .tags(ensembleTags)
                            .timeGauge()
                            .value(TimeUnit.MILLISECONDS))
                    .isEqualTo(4000.0);
            await().atMost(Duration.ofSeconds(5)).until(() -> counter(MetricNames.SESSION_TIMEOUT_CLAMPED) == 1.0);
            // The process-wide session-creation limiter granted this session its permit.
            assertThat(registry.get(MetricNames.SESSION_CREATION_WAIT)
                            .tag("rate", "20")
                            .functionTimer()
                            .count())
                    .isGreaterThanOrEqualTo(1.0);

            lease.create("/node", new byte[] {1}, CreateMode.PERSISTENT);
            lease.getData("/node");
            lease.getData("/node");
            assertThatThrownBy(() -> lease.getData("/missing")).isInstanceOf(ZkNoNodeException.class);
            assertThat(timerCount(MetricNames.OPERATIONS, "operation", "create", "outcome", "success"))
                    .isEqualTo(1);
            assertThat(timerCount(MetricNames.OPERATIONS, "operation", "getData", "outcome", "success"))
                    .isEqualTo(2);
            assertThat(timerCount(MetricNames.OPERATIONS, "operation", "getData", "outcome", "nonode"))
                    .isEqualTo(1);

            lease.ephemeral("/services/me", new byte[] {2});
            assertThat(gauge(MetricNames.EPHEMERALS_OWNED)).isEqualTo(1.0);

            // The pipeline's meters, tagged with the pool and ensemble.
            assertThat(registry.get(MetricNames.BREAKER_STATE)
                            .tags(ensembleTags)
                            .tag("state", "closed")
                            .gauge()
                            .value())
                    .isEqualTo(1.0);
            assertThat(registry.get(MetricNames.BREAKER_NOT_PERMITTED)
                            .tags(ensembleTags)
                            .functionCounter()
                            .count())
                    .isZero();
            assertThat(registry.get(MetricNames.BULKHEAD_MAX)
                            .tags(ensembleTags)
                            .gauge()
                            .value())
                    .isEqualTo(OperationPolicy.DEFAULT_MAX_IN_FLIGHT);
            assertThat(registry.get(MetricNames.BULKHEAD_AVAILABLE)
                            .tags(ensembleTags)
                            .gauge()
                            .value())
                    .isEqualTo(OperationPolicy.DEFAULT_MAX_IN_FLIGHT);
            assertThat(registry.get(MetricNames.RETRY_CALLS)
                            .tags(ensembleTags)
                            .tag("kind", "successful_without_retry")
                            .functionCounter()
                            .count())
                    .isGreaterThanOrEqualTo(3.0);

            // A real server-side expiry: the pool opens a replacement session and recovers the ephemeral.
            ZooKeeper zk = lease.curator().getZookeeperClient().getZooKeeper();
            ForcedExpiry.expireSession(server.getConnectString(), zk.getSessionId(), zk.getSessionPasswd());
            // The recovery timer is registered by the first recovery; until then it is not found.
            await().atMost(Duration.ofSeconds(20)).ignoreExceptions().untilAsserted(() -> {
                assertThat(counter(MetricNames.SESSION_EXPIRATIONS)).isEqualTo(1.0);
                assertThat(counter(MetricNames.SESSIONS_OPENED)).isEqualTo(2.0);
                assertThat(counter(MetricNames.SESSION_RECONNECTS, "session", "new"))
                        .isEqualTo(1.0);
                assertThat(timerCount(MetricNames.RECOVERY_DURATION, "outcome", "complete"))
                        .isEqualTo(1);
            });
            assertThat(gauge(MetricNames.SESSIONS_STATE, "state", "reconnected"))
                    .isEqualTo(1.0);

            // No meter carries a credential, the chroot or a data path.
            for (Meter meter : registry.getMeters()) {
                for (Tag tag : meter.getId().getTags()) {
                    assertThat(tag.getValue())
                            .doesNotContain("s3cret")
                            .doesNotContain("chrooted")
                            .doesNotContain("/node")
                            .doesNotContain("/services");
                }
            }
        } finally {
            pool.close();
        }
        assertThat(registry.getMeters())
                .noneMatch(m -> "metrics-it".equals(m.getId().getTag("pool")));
    }

    @Test
    void retriesUnavailabilityAndTheOpenBreakerAreCounted() throws Exception {
        ZkSessionPool pool = pool().connectionTimeout(Duration.ofMillis(400))
                .operationPolicy(OperationPolicy.builder()
                        .operationTimeout(Duration.ofMillis(1500))
                        .breakerFailureRateThreshold(100f)
                        .breakerSlidingWindow(2)
                        .breakerMinimumCalls(2)
                        .breakerOpenDuration(Duration.ofSeconds(60))
                        .build())
                .build();
        try (ZkLease lease = pool.lease()) {
            lease.exists("/");
            server.stop();
            await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
                assertThat(gauge(MetricNames.CONNECTIONS, "server", serverName)).isZero();
                assertThat(gauge(MetricNames.SESSIONS_STATE, "state", "suspended"))
                        .isEqualTo(1.0);
            });

            // The first operation waits out the connection timeout; the ensemble is then known unreachable and the
            // second
            // fails at once, without retrying (retries are for calls cut in flight, counted in
            // MicrometerMetricsTrackerTest).
            // Both count as the ensemble being unreachable: the breaker then opens.
            for (int i = 0; i < 2; i++) {
                assertThatThrownBy(() -> lease.exists("/")).isInstanceOf(ZkUnavailableException.class);
            }
            assertThatThrownBy(() -> lease.exists("/"))
                    .isInstanceOf(ZkUnavailableException.class)
                    .hasMessageContaining("circuit breaker");

            assertThat(timerCount(MetricNames.OPERATIONS, "operation", "exists", "outcome", "unavailable"))
                    .isEqualTo(2);
            assertThat(timerCount(MetricNames.OPERATIONS, "operation", "exists", "outcome", "circuit_open"))
                    .isEqualTo(1);
            assertThat(registry.find(MetricNames.OPERATION_RETRIES)
                            .tags("operation", "exists")
                            .counter())
                    .isNull();
            assertThat(registry.get(MetricNames.BREAKER_STATE)
                            .tags(ensembleTags)
                            .tag("state", "open")
                            .gauge()
                            .value())
                    .isEqualTo(1.0);
            assertThat(registry.get(MetricNames.BREAKER_NOT_PERMITTED)
                            .tags(ensembleTags)
                            .functionCounter()
                            .count())
                    .isEqualTo(1.0);

            server.restart();
            // The connection gauge follows the handle's connect (its send thread); the reconnect is counted when the
            // session's state event is handled, a moment later (CI of 4988d13: read 0 right after the gauge read 1).
            await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
                assertThat(gauge(MetricNames.CONNECTIONS, "server", serverName)).isEqualTo(1.0);
                assertThat(counter(MetricNames.SESSION_RECONNECTS, "session", "same")
                                + counter(MetricNames.SESSION_RECONNECTS, "session", "new"))
                        .isGreaterThanOrEqualTo(1.0);
            });
        } finally {
            pool.close();
        }
    }
}
