package dev.zksdk.spring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.zksdk.EphemeralNode;
import dev.zksdk.ZkLease;
import dev.zksdk.ZkSessionPool;
import dev.zksdk.metrics.MetricNames;
import dev.zksdk.spring.health.ZkSessionPoolHealthAutoConfiguration;
import dev.zksdk.spring.metrics.ZkSessionPoolMetricsAutoConfiguration;
import dev.zksdk.testing.ForcedExpiry;
import dev.zksdk.testing.InProcessEnsembles;
import dev.zksdk.testing.RawZooKeeper;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.curator.test.TestingServer;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.Watcher.Event.EventType;
import org.apache.zookeeper.ZooKeeper;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.boot.actuate.autoconfigure.endpoint.EndpointAutoConfiguration;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.health.actuate.endpoint.HealthDescriptor;
import org.springframework.boot.health.actuate.endpoint.HealthEndpoint;
import org.springframework.boot.health.actuate.endpoint.IndicatedHealthDescriptor;
import org.springframework.boot.health.autoconfigure.actuate.endpoint.HealthEndpointAutoConfiguration;
import org.springframework.boot.health.autoconfigure.contributor.HealthContributorAutoConfiguration;
import org.springframework.boot.health.autoconfigure.registry.HealthContributorRegistryAutoConfiguration;
import org.springframework.boot.health.contributor.Status;
import org.springframework.boot.micrometer.metrics.autoconfigure.CompositeMeterRegistryAutoConfiguration;
import org.springframework.boot.micrometer.metrics.autoconfigure.MetricsAutoConfiguration;
import org.springframework.boot.micrometer.metrics.autoconfigure.export.simple.SimpleMetricsExportAutoConfiguration;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

/** The starter against a real in-process server: the health endpoint, the meters, and the graceful shutdown. */
class ZkSessionPoolSpringIT {

    private TestingServer server;
    private ApplicationContextRunner runner;

    @BeforeEach
    void start() {
        server = InProcessEnsembles.startServer();
        runner = new ApplicationContextRunner()
                .withConfiguration(AutoConfigurations.of(
                        ZkSessionPoolAutoConfiguration.class,
                        ZkSessionPoolMetricsAutoConfiguration.class,
                        ZkSessionPoolHealthAutoConfiguration.class,
                        MetricsAutoConfiguration.class,
                        CompositeMeterRegistryAutoConfiguration.class,
                        SimpleMetricsExportAutoConfiguration.class,
                        EndpointAutoConfiguration.class,
                        HealthContributorAutoConfiguration.class,
                        HealthContributorRegistryAutoConfiguration.class,
                        HealthEndpointAutoConfiguration.class))
                .withPropertyValues(
                        "zksdk.connect-string=" + server.getConnectString(),
                        "zksdk.name=spring-it",
                        "zksdk.session-timeout=4s",
                        "zksdk.connection-timeout=1s",
                        "zksdk.auth[0].scheme=digest",
                        "zksdk.auth[0].credentials=app:s3cret",
                        "management.endpoints.jmx.exposure.include=health",
                        "management.endpoint.health.show-details=always");
    }

    @AfterEach
    void stop() throws Exception {
        server.close();
    }

    private static IndicatedHealthDescriptor zksdkHealth(HealthEndpoint endpoint) {
        HealthDescriptor health = endpoint.healthForPath("zksdk");
        assertThat(health).isInstanceOf(IndicatedHealthDescriptor.class);
        return (IndicatedHealthDescriptor) health;
    }

    @Test
    @SuppressWarnings("unchecked")
    void healthGoesDownWhenTheServerStopsAndUpWhenItReturns() {
        runner.run(context -> {
            assertThat(context).hasNotFailed();
            HealthEndpoint endpoint = context.getBean(HealthEndpoint.class);
            ZkSessionPool pool = context.getBean(ZkSessionPool.class);
            assertThat(zksdkHealth(endpoint).getStatus()).isEqualTo(Status.UNKNOWN);

            try (ZkLease lease = pool.lease()) {
                assertThat(zksdkHealth(endpoint).getStatus()).isEqualTo(Status.UP);
                // The state in the details is the one listeners were told, a moment after the connection itself.
                await().atMost(Duration.ofSeconds(5))
                        .until(() ->
                                zksdkHealth(endpoint).getDetails().toString().contains("state=CONNECTED"));
                IndicatedHealthDescriptor up = zksdkHealth(endpoint);
                assertThat(up.getStatus()).isEqualTo(Status.UP);
                assertThat(up.getDetails()).containsEntry("openSessions", 1).containsEntry("activeLeases", 1);
                Map<String, Object> ensemble = (Map<String, Object>)
                        ((Map<String, Object>) up.getDetails().get("ensembles")).get(server.getConnectString());
                assertThat(ensemble).containsEntry("openSessions", 1).containsEntry("circuitBreaker", "CLOSED");
                Map<String, Object> session = ((List<Map<String, Object>>) ensemble.get("sessions")).get(0);
                assertThat(session)
                        .containsEntry("state", "CONNECTED")
                        .containsEntry("sessionId", "0x" + Long.toHexString(lease.sessionId()))
                        .containsEntry("negotiatedTimeout", "PT4S")
                        .containsEntry("server", server.getConnectString());
                assertThat(up.getDetails().toString()).doesNotContain("s3cret").doesNotContain("app:");
                assertThat(endpoint.health().getStatus()).isEqualTo(Status.UP);

                server.stop();
                await().atMost(Duration.ofSeconds(10))
                        .until(() -> zksdkHealth(endpoint).getStatus().equals(Status.DOWN));
                assertThat((String) zksdkHealth(endpoint).getDetails().get("reason"))
                        .contains("no connected session to " + server.getConnectString());
                assertThat(endpoint.health().getStatus()).isEqualTo(Status.DOWN);

                server.restart();
                await().atMost(Duration.ofSeconds(20))
                        .until(() -> zksdkHealth(endpoint).getStatus().equals(Status.UP));
                assertThat(endpoint.health().getStatus()).isEqualTo(Status.UP);
            }
        });
    }

    @Test
    void metersExistAndMoveInTheApplicationsRegistry() {
        runner.run(context -> {
            MeterRegistry registry = context.getBean(MeterRegistry.class);
            Tags tags = Tags.of("pool", "spring-it", "ensemble", server.getConnectString());
            try (ZkLease lease = context.getBean(ZkSessionPool.class).lease()) {
                lease.create("/spring", new byte[] {1}, CreateMode.PERSISTENT);
                for (int i = 0; i < 3; i++) {
                    lease.getData("/spring");
                }
                assertThat(registry.get(MetricNames.OPERATIONS)
                                .tags(tags)
                                .tags("operation", "getData", "outcome", "success")
                                .timer()
                                .count())
                        .isEqualTo(3);
                assertThat(registry.get(MetricNames.BREAKER_STATE)
                                .tags(tags)
                                .tag("state", "closed")
                                .gauge()
                                .value())
                        .isEqualTo(1.0);
                await().atMost(Duration.ofSeconds(5))
                        .until(() -> registry.get(MetricNames.SESSIONS_OPENED)
                                        .tags(tags)
                                        .counter()
                                        .count()
                                == 1.0);

                ZooKeeper zk = lease.curator().getZookeeperClient().getZooKeeper();
                ForcedExpiry.expireSession(server.getConnectString(), zk.getSessionId(), zk.getSessionPasswd());
                await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
                    assertThat(registry.get(MetricNames.SESSION_EXPIRATIONS)
                                    .tags(tags)
                                    .counter()
                                    .count())
                            .isEqualTo(1.0);
                    assertThat(registry.get(MetricNames.SESSIONS_OPENED)
                                    .tags(tags)
                                    .counter()
                                    .count())
                            .isEqualTo(2.0);
                });
                lease.getData("/spring");
                assertThat(registry.get(MetricNames.OPERATIONS)
                                .tags(tags)
                                .tags("operation", "getData", "outcome", "success")
                                .timer()
                                .count())
                        .isEqualTo(4);
            }
            context.close();
            assertThat(registry.find(MetricNames.OPERATIONS).tags(tags).meters())
                    .isEmpty();
        });
    }

    @Test
    void contextCloseDeletesTheRegisteredEphemeralAtOnceThenClosesTheSession() throws Exception {
        try (RawZooKeeper observer = RawZooKeeper.connect(server.getConnectString(), Duration.ofSeconds(30))) {
            Probe probe = new Probe(observer);
            // A 20 s session timeout: an ephemeral left to the session's expiry would stay that long.
            runner.withPropertyValues("zksdk.session-timeout=20s")
                    .withBean(Probe.class, () -> probe)
                    .withBean(Registration.class)
                    .run(context -> {
                        assertThat(context).hasNotFailed();
                        String path = context.getBean(Registration.class).node.path();
                        CountDownLatch deleted = new CountDownLatch(1);
                        assertThat(observer.zk().exists(path, event -> {
                                    if (event.getType() == EventType.NodeDeleted) {
                                        deleted.countDown();
                                    }
                                }))
                                .isNotNull();

                        long closing = System.nanoTime();
                        context.close();

                        assertThat(deleted.await(5, TimeUnit.SECONDS)).isTrue();
                        assertThat(Duration.ofNanos(System.nanoTime() - closing))
                                .isLessThan(Duration.ofSeconds(5));
                        assertThat(observer.zk().exists(path, false)).isNull();
                        // Gone already when the application's own beans were destroyed: the lifecycle stop came first.
                        assertThat(probe.existedWhenBeansWereDestroyed).isFalse();
                        assertThat(probe.destroyed).isTrue();
                    });
        }
    }

    /** Test access to the observer from inside the context. */
    static final class Probe {
        final RawZooKeeper observer;
        volatile Boolean existedWhenBeansWereDestroyed;
        volatile boolean destroyed;

        Probe(RawZooKeeper observer) {
            this.observer = observer;
        }
    }

    /** An application bean that registers itself, as a service instance would. */
    static final class Registration implements DisposableBean {
        final ZkLease lease;
        final EphemeralNode node;
        final Probe probe;

        Registration(ZkSessionPool pool, Probe probe) {
            this.probe = probe;
            this.lease = pool.lease();
            this.node = lease.ephemeral("/services/app/instance-1", new byte[] {1});
        }

        @Override
        public void destroy() throws Exception {
            probe.existedWhenBeansWereDestroyed = probe.observer.zk().exists(node.path(), false) != null;
            probe.destroyed = true;
            lease.close();
        }
    }
}
