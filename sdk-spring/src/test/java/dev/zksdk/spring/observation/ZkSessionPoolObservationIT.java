package dev.zksdk.spring.observation;

import static org.assertj.core.api.Assertions.assertThat;

import dev.zksdk.ZkLease;
import dev.zksdk.ZkSessionPool;
import dev.zksdk.metrics.MetricNames;
import dev.zksdk.metrics.micrometer.MicrometerMetricsTrackerFactory;
import dev.zksdk.spring.ZkSessionPoolAutoConfiguration;
import dev.zksdk.spring.metrics.ZkSessionPoolMetricsAutoConfiguration;
import dev.zksdk.testing.InProcessEnsembles;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.observation.ObservationRegistry;
import org.apache.curator.test.TestingServer;
import org.apache.zookeeper.CreateMode;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.context.properties.source.InvalidConfigurationPropertyValueException;
import org.springframework.boot.micrometer.metrics.autoconfigure.CompositeMeterRegistryAutoConfiguration;
import org.springframework.boot.micrometer.metrics.autoconfigure.MetricsAutoConfiguration;
import org.springframework.boot.micrometer.metrics.autoconfigure.export.simple.SimpleMetricsExportAutoConfiguration;
import org.springframework.boot.micrometer.observation.autoconfigure.ObservationAutoConfiguration;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

/**
 * The starter wires the application's {@link ObservationRegistry}: every operation of the auto-configured pool is an
 * observation when {@code zksdk.observation.enabled=true} (off by default), and the {@code zksdk.operations} timer comes from Spring Boot's meter observation handler (with its
 * {@code .active} long task timer), once per operation; {@code zksdk.observation.enabled=false} goes back to the
 * binding's own timer; {@code zksdk.metrics.ensemble-alias} names the ensemble in the tags.
 */
class ZkSessionPoolObservationIT {

    private TestingServer server;
    private ApplicationContextRunner runner;

    @BeforeEach
    void start() {
        server = InProcessEnsembles.startServer();
        runner = new ApplicationContextRunner()
                .withConfiguration(AutoConfigurations.of(
                        ZkSessionPoolAutoConfiguration.class,
                        ZkSessionPoolMetricsAutoConfiguration.class,
                        ZkSessionPoolObservationAutoConfiguration.class,
                        ObservationAutoConfiguration.class,
                        MetricsAutoConfiguration.class,
                        CompositeMeterRegistryAutoConfiguration.class,
                        SimpleMetricsExportAutoConfiguration.class))
                .withPropertyValues("zksdk.name=observed", "zksdk.connect-string=" + server.getConnectString());
    }

    @AfterEach
    void stop() throws Exception {
        server.close();
    }

    private static void traffic(ZkSessionPool pool, int reads) {
        try (ZkLease lease = pool.lease()) {
            lease.create("/o", new byte[0], CreateMode.PERSISTENT);
            for (int i = 0; i < reads; i++) {
                lease.exists("/o");
            }
            lease.getDataAsync("/o").join();
        }
    }

    @Test
    void operationsAreObservationsOfTheApplicationsRegistryAndTimedOnceByItsMeterHandler() {
        runner.withPropertyValues("zksdk.observation.enabled=true", "zksdk.metrics.ensemble-alias=orders-zk")
                .run(context -> {
                    assertThat(context).hasNotFailed();
                    MicrometerMetricsTrackerFactory factory = context.getBean(MicrometerMetricsTrackerFactory.class);
                    assertThat(factory.observationRegistry()).isSameAs(context.getBean(ObservationRegistry.class));
                    MeterRegistry meters = context.getBean(MeterRegistry.class);
                    traffic(context.getBean(ZkSessionPool.class), 4);

                    assertThat(meters.get(MetricNames.OPERATIONS)
                                    .tags("pool", "observed", "ensemble", "orders-zk", "operation", "exists")
                                    .tags("outcome", "success", "error", "none")
                                    .timer()
                                    .count())
                            .isEqualTo(4);
                    assertThat(meters.find(MetricNames.OPERATIONS).timers().stream()
                                    .mapToLong(Timer::count)
                                    .sum())
                            .isEqualTo(6);
                    assertThat(meters.find(MetricNames.OPERATIONS_ACTIVE).longTaskTimers())
                            .as("the meter handler's long task timer: the observation handler made the timer")
                            .isNotEmpty();
                });
    }

    @Test
    void byDefaultObservationsAreOffAndTheBindingTimesOperationsItself() {
        runner.run(context -> {
            assertThat(context).hasNotFailed();
            assertThat(context.getBean(MicrometerMetricsTrackerFactory.class).observationRegistry())
                    .isNull();
            MeterRegistry meters = context.getBean(MeterRegistry.class);
            traffic(context.getBean(ZkSessionPool.class), 2);
            String alias = server.getConnectString(); // one server: the default alias is that server
            assertThat(meters.get(MetricNames.OPERATIONS)
                            .tags("ensemble", alias, "operation", "exists", "error", "none")
                            .timer()
                            .count())
                    .isEqualTo(2);
            assertThat(meters.find(MetricNames.OPERATIONS_ACTIVE).meters()).isEmpty();
        });
    }

    @Test
    void aBadEnsembleAliasFailsStartUpNamingTheProperty() {
        runner.withPropertyValues("zksdk.metrics.ensemble-alias=two words").run(context -> {
            assertThat(context).hasFailed();
            Throwable failure = context.getStartupFailure();
            while (failure != null && !(failure instanceof InvalidConfigurationPropertyValueException)) {
                failure = failure.getCause();
            }
            assertThat(failure)
                    .isNotNull()
                    .hasMessageContaining("zksdk.metrics.ensemble-alias")
                    .hasMessageContaining("two words");
        });
    }
}
