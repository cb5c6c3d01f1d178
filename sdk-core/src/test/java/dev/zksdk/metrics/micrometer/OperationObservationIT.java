package dev.zksdk.metrics.micrometer;

import static io.micrometer.observation.tck.TestObservationRegistryAssert.assertThat;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.zksdk.EnsembleConfig;
import dev.zksdk.ZkLease;
import dev.zksdk.ZkNoNodeException;
import dev.zksdk.ZkSessionPool;
import dev.zksdk.metrics.MetricNames;
import dev.zksdk.testing.InProcessEnsembles;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.observation.DefaultMeterObservationHandler;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.micrometer.observation.Observation;
import io.micrometer.observation.ObservationHandler;
import io.micrometer.observation.tck.TestObservationRegistry;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.curator.test.TestingServer;
import org.apache.zookeeper.CreateMode;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Lease operations as Micrometer observations, against a real server, with Micrometer's
 * {@link TestObservationRegistry}: name, key values (the path only high-cardinality), error, start and stop, the
 * parent of a synchronous and an asynchronous call, and the one timer the meter handler makes of them.
 */
class OperationObservationIT {

    private TestingServer server;
    private TestObservationRegistry observations;
    private SimpleMeterRegistry meters;
    private ZkSessionPool pool;
    /** The operations' contexts, as their observations stop. */
    private final List<OperationObservationContext> stopped = new CopyOnWriteArrayList<>();

    @BeforeEach
    void start() {
        server = InProcessEnsembles.startServer();
        observations = TestObservationRegistry.create();
        meters = new SimpleMeterRegistry();
        observations.observationConfig().observationHandler(new DefaultMeterObservationHandler(meters));
        observations.observationConfig().observationHandler(new ObservationHandler<OperationObservationContext>() {
            @Override
            public void onStop(OperationObservationContext context) {
                stopped.add(context);
            }

            @Override
            public boolean supportsContext(Observation.Context context) {
                return context instanceof OperationObservationContext;
            }
        });
        pool = ZkSessionPool.builder()
                .name("observed")
                .connectString(server.getConnectString())
                .ensembleAlias("orders-zk")
                .metricsTrackerFactory(new MicrometerMetricsTrackerFactory(meters, observations))
                .build();
    }

    @AfterEach
    void stop() throws Exception {
        pool.close();
        server.close();
    }

    @Test
    void aSynchronousOperationIsAnObservationWithLowCardinalityKeyValuesAndThePathAsHighCardinality() {
        try (ZkLease lease = pool.lease()) {
            lease.create("/orders", new byte[] {7}, CreateMode.PERSISTENT);
            observations.clear();
            assertThat(lease.getData("/orders")).containsExactly(7);
        }
        assertThat(observations)
                .hasNumberOfObservationsEqualTo(1)
                .hasSingleObservationThat()
                .hasNameEqualTo(MetricNames.OPERATIONS)
                .hasContextualNameEqualTo("zk getData")
                .hasBeenStarted()
                .hasBeenStopped()
                .doesNotHaveError()
                .hasLowCardinalityKeyValue("pool", "observed")
                .hasLowCardinalityKeyValue("ensemble", "orders-zk")
                .hasLowCardinalityKeyValue("operation", "getData")
                .hasLowCardinalityKeyValue("outcome", "success")
                .hasHighCardinalityKeyValue("path", "/orders")
                .doesNotHaveLowCardinalityKeyValueWithKey("path");
    }

    @Test
    void aFailedOperationRecordsItsErrorAndOutcome() {
        try (ZkLease lease = pool.lease()) {
            observations.clear();
            assertThatThrownBy(() -> lease.getData("/absent")).isInstanceOf(ZkNoNodeException.class);
        }
        assertThat(observations)
                .hasSingleObservationThat()
                .hasBeenStopped()
                .hasLowCardinalityKeyValue("outcome", "nonode")
                .hasError()
                .assertThatError()
                .isInstanceOf(ZkNoNodeException.class);
        Timer timer = meters.get(MetricNames.OPERATIONS)
                .tags("operation", "getData", "outcome", "nonode", "error", "ZkNoNodeException")
                .timer();
        assertThat(timer.count()).isEqualTo(1);
    }

    /**
     * The parent is the observation current on the calling thread, for an asynchronous call too (its future completes
     * on another thread, with no scope open); the observation is stopped before the future completes, so what the
     * caller chains to it sees it stopped.
     */
    @Test
    void anAsynchronousOperationHasTheCallersObservationAsParentAndStopsBeforeItsFutureCompletes() throws Exception {
        Observation request;
        try (ZkLease lease = pool.lease()) {
            lease.create("/a", new byte[0], CreateMode.PERSISTENT);
            observations.clear();
            stopped.clear();
            request = Observation.start("test.request", observations);
            CompletableFuture<byte[]> async;
            try (Observation.Scope scope = request.openScope()) {
                lease.exists("/a");
                async = lease.getDataAsync("/a");
            }
            AtomicReference<Boolean> stoppedWhenCompleted = new AtomicReference<>();
            CountDownLatch chained = new CountDownLatch(1);
            async.whenComplete((v, e) -> {
                stoppedWhenCompleted.set(
                        stopped.stream().anyMatch(c -> c.operation().equals("getData")));
                chained.countDown();
            });
            async.get(10, TimeUnit.SECONDS);
            assertThat(chained.await(10, TimeUnit.SECONDS)).isTrue();
            request.stop();
            assertThat(stoppedWhenCompleted.get()).isTrue();
        }
        assertThat(observations)
                .hasNumberOfObservationsWithNameEqualTo(MetricNames.OPERATIONS, 2)
                .forAllObservationsWithNameEqualTo(
                        MetricNames.OPERATIONS, ctx -> ctx.hasParentObservationEqualTo(request));
        assertThat(stopped).extracting(OperationObservationContext::operation).containsExactly("exists", "getData");
    }

    /**
     * One instrumentation gives the timer: with an ObservationRegistry the handler records {@code zksdk.operations}
     * (once per operation, not also by the binding) and its {@code .active} long task timer.
     */
    @Test
    void theMeterHandlerRecordsTheOperationsTimerOnceAndTheBindingDoesNot() {
        int n = 5;
        try (ZkLease lease = pool.lease()) {
            lease.create("/t", new byte[0], CreateMode.PERSISTENT);
            for (int i = 0; i < n; i++) {
                lease.exists("/t");
            }
            lease.getDataAsync("/t").join();
        }
        long total = meters.find(MetricNames.OPERATIONS).timers().stream()
                .mapToLong(Timer::count)
                .sum();
        assertThat(total).isEqualTo(n + 2);
        assertThat(meters.get(MetricNames.OPERATIONS)
                        .tags("pool", "observed", "ensemble", "orders-zk", "operation", "exists")
                        .tags("outcome", "success", "error", "none")
                        .timer()
                        .count())
                .isEqualTo(n);
        assertThat(meters.get(MetricNames.OPERATIONS_ACTIVE)
                        .tags("operation", "exists")
                        .longTaskTimer()
                        .activeTasks())
                .isZero();
    }

    @Test
    void configsDifferingOnlyInAliasShareTheSessionsAndTheFirstAliasNamesThem() {
        EnsembleConfig orders = pool.defaultEnsemble();
        EnsembleConfig reporting = orders.toBuilder().alias("reporting").build();
        long ordersSession;
        try (ZkLease lease = pool.lease(orders)) {
            ordersSession = lease.sessionId();
            lease.exists("/");
        }
        try (ZkLease lease = pool.lease(reporting)) {
            assertThat(lease.sessionId()).as("the same session").isEqualTo(ordersSession);
            lease.exists("/");
        }
        await().atMost(Duration.ofSeconds(10))
                .untilAsserted(() -> assertThat(
                                meters.find("zksdk.sessions.opened").counters())
                        .as("one session opened, named by the first alias")
                        .singleElement()
                        .satisfies(c -> {
                            assertThat(c.getId().getTag("ensemble")).isEqualTo("orders-zk");
                            assertThat(c.count()).isEqualTo(1.0);
                        }));
        assertThat(meters.find("zksdk.operations").tag("ensemble", "reporting").meters())
                .isEmpty();
    }

    @Test
    void theDefaultAliasIsShortAndStableAndNeverTheServerList() {
        EnsembleConfig three = EnsembleConfig.of("zk3.example:2181,zk1.example:2181,zk2.example:2181/app");
        EnsembleConfig reordered = EnsembleConfig.of("zk1.example:2181,zk2.example:2181,zk3.example:2181");
        assertThat(three.alias()).isEqualTo("zk1.example:2181+2").isEqualTo(reordered.alias());
        assertThat(EnsembleConfig.of("127.0.0.1:2181").alias()).isEqualTo("127.0.0.1:2181");
        assertThat(three.toBuilder().alias("orders-zk").build().alias()).isEqualTo("orders-zk");
        assertThat(three.toBuilder().alias("orders-zk").build())
                .as("the alias names the ensemble, it does not make another one")
                .isEqualTo(three)
                .hasSameHashCodeAs(three);
        assertThatThrownBy(() -> EnsembleConfig.builder().alias("two words"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("alias")
                .hasMessageContaining("two words");
        assertThatThrownBy(() -> EnsembleConfig.builder().alias("a,b"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'a,b'");
    }
}
