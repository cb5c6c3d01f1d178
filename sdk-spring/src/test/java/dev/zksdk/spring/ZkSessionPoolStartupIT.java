package dev.zksdk.spring;

import static org.assertj.core.api.Assertions.assertThat;

import dev.zksdk.ZkSessionPool;
import dev.zksdk.spring.health.ZkSessionPoolHealthAutoConfiguration;
import dev.zksdk.testing.InProcessEnsembles;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.Test;
import org.springframework.beans.BeansException;
import org.springframework.beans.factory.SmartInitializingSingleton;
import org.springframework.boot.actuate.autoconfigure.endpoint.EndpointAutoConfiguration;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.boot.health.actuate.endpoint.HealthEndpoint;
import org.springframework.boot.health.autoconfigure.actuate.endpoint.HealthEndpointAutoConfiguration;
import org.springframework.boot.health.autoconfigure.contributor.HealthContributorAutoConfiguration;
import org.springframework.boot.health.autoconfigure.registry.HealthContributorRegistryAutoConfiguration;
import org.springframework.boot.health.contributor.Status;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.ApplicationContext;
import org.springframework.context.ApplicationContextAware;
import org.springframework.context.annotation.Configuration;

/**
 * {@code zksdk.connect-on-startup} against real in-process servers: start-up connects, fails clearly and within the
 * initialization timeout against a dead address, waits for a server that comes up late, and a readiness group with
 * {@code zksdk} is DOWN until the pool has connected.
 */
class ZkSessionPoolStartupIT {

    private final ApplicationContextRunner runner = new ApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(
                    ZkSessionPoolAutoConfiguration.class,
                    ZkSessionPoolHealthAutoConfiguration.class,
                    EndpointAutoConfiguration.class,
                    HealthContributorAutoConfiguration.class,
                    HealthContributorRegistryAutoConfiguration.class,
                    HealthEndpointAutoConfiguration.class))
            .withPropertyValues(
                    "zksdk.connect-on-startup=true",
                    "zksdk.session-timeout=4s",
                    "management.endpoints.jmx.exposure.include=health",
                    // What an application's readiness probe does: always-UP members and zksdk.
                    "management.endpoint.health.group.readiness.include=ping,zksdk");

    @Test
    void startUpConnectsAndReadinessIsDownUntilThen() throws Exception {
        try (TestingServer server = InProcessEnsembles.startServer()) {
            runner.withPropertyValues("zksdk.connect-string=" + server.getConnectString())
                    .withUserConfiguration(HealthBeforeConnect.class)
                    .run(context -> {
                        assertThat(context).hasNotFailed();
                        HealthBeforeConnect before = context.getBean(HealthBeforeConnect.class);
                        // Seen after every bean existed, just before the pool connected.
                        assertThat(before.zksdk.get()).isEqualTo(Status.DOWN);
                        assertThat(before.readiness.get()).isEqualTo(Status.DOWN);

                        ZkSessionPool pool = context.getBean(ZkSessionPool.class);
                        assertThat(pool.ensembles()).hasSize(1);
                        assertThat(pool.ensembles().get(0).isConnected()).isTrue();
                        HealthEndpoint health = context.getBean(HealthEndpoint.class);
                        assertThat(health.healthForPath("zksdk").getStatus()).isEqualTo(Status.UP);
                        assertThat(health.healthForPath("readiness").getStatus())
                                .isEqualTo(Status.UP);
                    });
        }
    }

    @Test
    void startUpFailsAgainstADeadAddressWithinTheInitializationTimeoutNamingTheServer() throws Exception {
        int port = freePort();
        runner.withUserConfiguration(HealthBeforeConnect.class)
                .withPropertyValues(
                        "zksdk.connect-string=127.0.0.1:" + port,
                        "zksdk.initialization-timeout=2s",
                        // Longer than the initialization timeout: start-up must not wait for it.
                        "zksdk.connection-timeout=30s")
                .run(context -> {
                    // From just before the connector ran (context start-up itself is slow on a cold, busy JVM).
                    long tookMillis =
                            TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - HealthBeforeConnect.lastSeenNanos);
                    assertThat(context).hasFailed();
                    ZkSessionPoolStartupException e =
                            ZkSdkPropertiesCompletenessTest.cause(context, ZkSessionPoolStartupException.class);
                    assertThat(e.getServers()).containsExactly("127.0.0.1:" + port);
                    assertThat(e.getTimeout()).isEqualTo(Duration.ofSeconds(2));
                    assertThat(e.getMessage())
                            .contains("127.0.0.1:" + port)
                            .contains("zksdk.initialization-timeout")
                            .contains("PT2S");
                    assertThat(tookMillis).isGreaterThanOrEqualTo(2_000).isLessThan(10_000);

                    FailureAnalysis analysis = ZkSdkPropertiesCompletenessTest.analyze(context.getStartupFailure());
                    assertThat(analysis).isNotNull();
                    assertThat(analysis.getDescription())
                            .contains("zksdk.connect-on-startup=true")
                            .contains("127.0.0.1:" + port);
                    assertThat(analysis.getAction())
                            .contains("zksdk.connect-string")
                            .contains("zksdk.initialization-timeout")
                            .contains("PT2S")
                            .contains("zksdk.connect-on-startup=false");
                });
    }

    @Test
    void startUpWaitsForAServerThatComesUpAfterTheFirstConnectionTimeout() throws Exception {
        int port = freePort();
        AtomicReference<TestingServer> server = new AtomicReference<>();
        // The first lease gives up after 500 ms; the server starts a while later, within the initialization timeout.
        CompletableFuture<Void> starting = CompletableFuture.runAsync(
                () -> {
                    try {
                        server.set(new TestingServer(port, true));
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                },
                CompletableFuture.delayedExecutor(2, TimeUnit.SECONDS));
        try {
            runner.withPropertyValues(
                            "zksdk.connect-string=127.0.0.1:" + port,
                            "zksdk.connection-timeout=500ms",
                            "zksdk.initialization-timeout=60s")
                    .run(context -> {
                        assertThat(context).hasNotFailed();
                        assertThat(starting).isDone();
                        assertThat(context.getBean(ZkSessionPool.class)
                                        .ensembles()
                                        .get(0)
                                        .isConnected())
                                .isTrue();
                    });
        } finally {
            starting.join();
            server.get().close();
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    /**
     * Records the health once every singleton exists: a user configuration's callback runs before the
     * auto-configured connector's, so this is the state just before the pool connects.
     */
    @Configuration(proxyBeanMethods = false)
    static class HealthBeforeConnect implements SmartInitializingSingleton, ApplicationContextAware {
        /** When the last instance looked, just before the connector started. */
        static volatile long lastSeenNanos;

        final AtomicReference<Status> zksdk = new AtomicReference<>();
        final AtomicReference<Status> readiness = new AtomicReference<>();
        private ApplicationContext context;

        @Override
        public void setApplicationContext(ApplicationContext context) throws BeansException {
            this.context = context;
        }

        @Override
        public void afterSingletonsInstantiated() {
            HealthEndpoint health = context.getBean(HealthEndpoint.class);
            zksdk.set(health.healthForPath("zksdk").getStatus());
            readiness.set(health.healthForPath("readiness").getStatus());
            lastSeenNanos = System.nanoTime();
        }
    }
}
