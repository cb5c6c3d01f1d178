package dev.zksdk.metrics.micrometer;

import static org.assertj.core.api.Assertions.assertThat;

import dev.zksdk.PoolStats;
import dev.zksdk.ZkNoNodeException;
import dev.zksdk.metrics.EnsembleStatus;
import dev.zksdk.metrics.EnsembleView;
import dev.zksdk.metrics.MetricNames;
import dev.zksdk.metrics.MetricsTracker;
import dev.zksdk.metrics.OperationObservation;
import dev.zksdk.metrics.PipelineStatus;
import dev.zksdk.metrics.PoolView;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.MockClock;
import io.micrometer.core.instrument.simple.SimpleConfig;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The Micrometer binding without a server: timers, removal on close, and the pipeline's meters from snapshots. */
class MicrometerMetricsTrackerTest {

    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();

    private static PoolView pool(String name) {
        return new PoolView() {
            @Override
            public String name() {
                return name;
            }

            @Override
            public PoolStats stats() {
                return new PoolStats(0, 3, 0, Map.of());
            }
        };
    }

    private static List<Meter> metersOfPool(MeterRegistry registry, String pool) {
        return registry.getMeters().stream()
                .filter(m -> pool.equals(m.getId().getTag("pool")))
                .toList();
    }

    @Test
    void poolMetersAreRemovedOnClose() {
        MetricsTracker tracker = new MicrometerMetricsTrackerFactory(registry).create(pool("p1"));
        assertThat(registry.get(MetricNames.LEASES_ACTIVE)
                        .tags("pool", "p1")
                        .gauge()
                        .value())
                .isEqualTo(3.0);
        assertThat(metersOfPool(registry, "p1")).isNotEmpty();

        tracker.close();
        assertThat(metersOfPool(registry, "p1")).isEmpty();
        // A late event after close publishes nothing.
        tracker.operationCompleted("zk1:2181", "getData", "success", 1, 0);
        tracker.operationStarted("zk1:2181", "getData", "/a").stop("success", null);
        assertThat(metersOfPool(registry, "p1")).isEmpty();
    }

    /**
     * Without an ObservationRegistry the binding times each operation itself, from its start to its stop, with the tags
     * Micrometer's observation handler would give it (pool, ensemble, operation, outcome, error).
     */
    @Test
    void operationsAreTimedPerOperationAndOutcomeAndRetriesCounted() {
        MockClock clock = new MockClock();
        SimpleMeterRegistry registry = new SimpleMeterRegistry(SimpleConfig.DEFAULT, clock);
        MetricsTracker tracker = new MicrometerMetricsTrackerFactory(registry).create(pool("p2"));
        timed(tracker, clock, 3, "success", null, 0);
        timed(tracker, clock, 5, "success", null, 2);
        timed(tracker, clock, 1, "nonode", new ZkNoNodeException("/a", "no node", null), 0);

        String[] success = {"pool", "p2", "ensemble", "zk1:2181", "operation", "getData", "outcome", "success"};
        assertThat(registry.get(MetricNames.OPERATIONS)
                        .tags(success)
                        .tag("error", "none")
                        .timer()
                        .count())
                .isEqualTo(2);
        assertThat(registry.get(MetricNames.OPERATIONS).tags(success).timer().totalTime(TimeUnit.MILLISECONDS))
                .isEqualTo(8.0);
        assertThat(registry.get(MetricNames.OPERATIONS)
                        .tags("operation", "getData", "outcome", "nonode", "error", "ZkNoNodeException")
                        .timer()
                        .count())
                .isEqualTo(1);
        assertThat(registry.get(MetricNames.OPERATION_RETRIES)
                        .tags("pool", "p2", "operation", "getData")
                        .counter()
                        .count())
                .isEqualTo(2.0);
        assertThat(registry.find(MetricNames.OPERATIONS).tagKeys("op").meters()).isEmpty();

        tracker.close();
        assertThat(metersOfPool(registry, "p2")).isEmpty();
    }

    private static void timed(
            MetricsTracker tracker, MockClock clock, long millis, String outcome, Throwable failure, int retries) {
        OperationObservation observation = tracker.operationStarted("zk1:2181", "getData", "/a");
        clock.add(millis, TimeUnit.MILLISECONDS);
        tracker.operationCompleted("zk1:2181", "getData", outcome, TimeUnit.MILLISECONDS.toNanos(millis), retries);
        observation.stop(outcome, failure);
    }

    /**
     * resilience4j-micrometer is optional: with its classes missing, the tracker still publishes the pool's own meters
     * and simply leaves out resilience4j's.
     */
    /**
     * The pipeline's meters come from each ensemble's snapshot (no live breaker, bulkhead or retry objects cross the
     * SPI), summed over the ensembles of one tag; a failure rate not yet known is NaN, never 0.
     */
    @Test
    void pipelineMetersAreReadFromEachEnsemblesSnapshotAndSummedPerTag() {
        PipelineStatus open = new PipelineStatus("OPEN", 75f, 4, 3, 7, 100, 90, 10, 2, 1, 5);
        PipelineStatus closed = new PipelineStatus("CLOSED", -1f, 1, 0, 0, 100, 100, 20, 0, 0, 0);
        MetricsTracker tracker = new MicrometerMetricsTrackerFactory(registry).create(pool("p3"));
        tracker.ensembleStarted(ensemble("127.0.0.1:2181", open));
        tracker.ensembleStarted(ensemble("127.0.0.1:2181", closed)); // another config, same servers: the same tag
        String[] tags = {"pool", "p3", "ensemble", "127.0.0.1:2181"};

        assertThat(registry.get(MetricNames.BREAKER_STATE)
                        .tags(tags)
                        .tag("state", "open")
                        .gauge()
                        .value())
                .isEqualTo(1);
        assertThat(registry.get(MetricNames.BREAKER_STATE)
                        .tags(tags)
                        .tag("state", "closed")
                        .gauge()
                        .value())
                .isEqualTo(1);
        assertThat(registry.get(MetricNames.BREAKER_STATE)
                        .tags(tags)
                        .tag("state", "half_open")
                        .gauge()
                        .value())
                .isZero();
        assertThat(registry.get(MetricNames.BREAKER_FAILURE_RATE)
                        .tags(tags)
                        .gauge()
                        .value())
                .isEqualTo(75.0);
        assertThat(registry.get(MetricNames.BREAKER_CALLS)
                        .tags(tags)
                        .tag("kind", "buffered")
                        .gauge()
                        .value())
                .isEqualTo(5);
        assertThat(registry.get(MetricNames.BREAKER_CALLS)
                        .tags(tags)
                        .tag("kind", "failed")
                        .gauge()
                        .value())
                .isEqualTo(3);
        assertThat(registry.get(MetricNames.BREAKER_NOT_PERMITTED)
                        .tags(tags)
                        .functionCounter()
                        .count())
                .isEqualTo(7);
        assertThat(registry.get(MetricNames.BULKHEAD_MAX).tags(tags).gauge().value())
                .isEqualTo(200);
        assertThat(registry.get(MetricNames.BULKHEAD_AVAILABLE)
                        .tags(tags)
                        .gauge()
                        .value())
                .isEqualTo(190);
        assertThat(registry.get(MetricNames.RETRY_CALLS)
                        .tags(tags)
                        .tag("kind", "successful_without_retry")
                        .functionCounter()
                        .count())
                .isEqualTo(30);
        assertThat(registry.get(MetricNames.RETRY_CALLS)
                        .tags(tags)
                        .tag("kind", "successful_with_retry")
                        .functionCounter()
                        .count())
                .isEqualTo(2);
        assertThat(registry.get(MetricNames.RETRY_CALLS)
                        .tags(tags)
                        .tag("kind", "failed_with_retry")
                        .functionCounter()
                        .count())
                .isEqualTo(1);
        assertThat(registry.get(MetricNames.RETRY_CALLS)
                        .tags(tags)
                        .tag("kind", "failed_without_retry")
                        .functionCounter()
                        .count())
                .isEqualTo(5);

        MetricsTracker unknownRate = new MicrometerMetricsTrackerFactory(registry).create(pool("p4"));
        unknownRate.ensembleStarted(ensemble("127.0.0.1:2182", closed));
        assertThat(registry.get(MetricNames.BREAKER_FAILURE_RATE)
                        .tags("pool", "p4")
                        .gauge()
                        .value())
                .isNaN();

        tracker.close();
        unknownRate.close();
        assertThat(metersOfPool(registry, "p3")).isEmpty();
    }

    private static EnsembleView ensemble(String servers, PipelineStatus pipeline) {
        return new EnsembleView() {
            @Override
            public String name() {
                return servers;
            }

            @Override
            public String connectString() {
                return servers;
            }

            @Override
            public List<String> servers() {
                return List.of(servers);
            }

            @Override
            public Duration requestedSessionTimeout() {
                return Duration.ofSeconds(30);
            }

            @Override
            public EnsembleStatus status() {
                return new EnsembleStatus(
                        servers, servers, Duration.ofSeconds(30), List.of(), pipeline.breakerState(), 0, 0);
            }

            @Override
            public PipelineStatus pipeline() {
                return pipeline;
            }
        };
    }
}
