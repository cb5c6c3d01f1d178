package dev.zksdk.metrics.micrometer;

import dev.zksdk.metrics.MetricsTracker;
import dev.zksdk.metrics.MetricsTrackerFactory;
import dev.zksdk.metrics.PoolView;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.observation.ObservationRegistry;

/**
 * Publishes a pool's metrics to a Micrometer {@link MeterRegistry}:
 *
 * <pre>{@code
 * ZkSessionPool pool = ZkSessionPool.builder()
 *     .connectString("zk1:2181,zk2:2181,zk3:2181")
 *     .metricsTrackerFactory(new MicrometerMetricsTrackerFactory(meterRegistry))
 *     .build();
 * }</pre>
 *
 * <p>The meters are those of {@link dev.zksdk.metrics.MetricNames}, tagged {@code pool} (the pool's name) and
 * {@code ensemble} (its alias, {@link dev.zksdk.EnsembleConfig#alias()}), the pipeline's {@code zksdk.breaker.*} (state, calls in the window, calls not
 * permitted, failure rate), {@code zksdk.bulkhead.*} (available and maximum calls in flight: saturation) and
 * {@code zksdk.retry.calls} among them. A lease's caches publish
 * their statistics with {@code dev.zksdk.cache.CacheMetrics.monitor} (Micrometer's Caffeine binder).
 *
 * <p>Operations as observations: {@link #withObservationRegistry(ObservationRegistry)} makes every lease operation
 * (synchronous or asynchronous) a Micrometer {@code Observation} named {@value dev.zksdk.metrics.MetricNames#OPERATIONS}
 * (low-cardinality key values {@code pool}, {@code ensemble}, {@code operation}, {@code outcome}; the path as the
 * high-cardinality {@code path}), started on the calling thread (its parent is the observation current there) and
 * stopped when the operation ends, before its result or future completes. One instrumentation then gives the span
 * (with a tracing handler) and the timer: <b>the {@code zksdk.operations} timer is then recorded by the observation
 * registry's {@code DefaultMeterObservationHandler}, not by this binding</b> (so it is never counted twice; Spring
 * Boot's registry has that handler), together with its long task timer {@code zksdk.operations.active}. An
 * {@code ObservationRegistry} without a meter handler gives spans and no {@code zksdk.operations} timer. Without an
 * {@code ObservationRegistry} this binding records the same timer, with the same tags ({@code pool},
 * {@code ensemble}, {@code operation}, {@code outcome}, {@code error}).
 *
 * <p>Closing the pool removes its meters from the registry. Give pools that share a registry distinct names: meters
 * of equal name and tags are one meter in Micrometer.
 */
public final class MicrometerMetricsTrackerFactory implements MetricsTrackerFactory {

    private final MeterRegistry registry;
    private final ObservationRegistry observations;
    private final OperationObservationConvention convention;

    /**
     * Meters to {@code registry}; the binding itself records the {@code zksdk.operations} timer.
     *
     * @param registry where the pools' meters go
     * @throws IllegalArgumentException when {@code registry} is null
     */
    public MicrometerMetricsTrackerFactory(MeterRegistry registry) {
        this(registry, null, null);
    }

    /**
     * Meters to {@code registry}, and every lease operation an observation of {@code observations}; see
     * {@link #withObservationRegistry(ObservationRegistry)}.
     *
     * @param registry where the pools' meters go
     * @param observations the registry every lease operation is observed with
     * @throws IllegalArgumentException when {@code registry} or {@code observations} is null
     */
    public MicrometerMetricsTrackerFactory(MeterRegistry registry, ObservationRegistry observations) {
        this(registry, requireObservations(observations), null);
    }

    private MicrometerMetricsTrackerFactory(
            MeterRegistry registry, ObservationRegistry observations, OperationObservationConvention convention) {
        if (registry == null) {
            throw new IllegalArgumentException("registry must not be null");
        }
        this.registry = registry;
        this.observations = observations;
        this.convention = convention;
    }

    private static ObservationRegistry requireObservations(ObservationRegistry observations) {
        if (observations == null) {
            throw new IllegalArgumentException("observationRegistry must not be null");
        }
        return observations;
    }

    /**
     * A factory like this one whose pools make every lease operation an observation of {@code observations}: the
     * {@code zksdk.operations} timer then comes from that registry's meter handler (see the class comment). While the
     * registry is a no-op one (no handler, or {@code ObservationRegistry.NOOP}) it is as if there were none.
     *
     * @param observations the registry every lease operation is observed with
     * @return a new factory; this one is unchanged
     * @throws IllegalArgumentException when {@code observations} is null
     */
    public MicrometerMetricsTrackerFactory withObservationRegistry(ObservationRegistry observations) {
        return new MicrometerMetricsTrackerFactory(registry, requireObservations(observations), convention);
    }

    /**
     * A factory like this one whose operations' observations are named and tagged by {@code convention} instead of
     * {@link DefaultOperationObservationConvention} (null restores the default). Used only with an
     * {@code ObservationRegistry}.
     *
     * @param convention the convention, or null for the default
     * @return a new factory; this one is unchanged
     */
    public MicrometerMetricsTrackerFactory withObservationConvention(OperationObservationConvention convention) {
        return new MicrometerMetricsTrackerFactory(registry, observations, convention);
    }

    /**
     * The registry operations are observed with, or null when none (this binding then records their timer).
     *
     * @return the observation registry, or null
     */
    public ObservationRegistry observationRegistry() {
        return observations;
    }

    @Override
    public MetricsTracker create(PoolView pool) {
        return new MicrometerMetricsTracker(registry, pool, observations, convention);
    }

    @Override
    public String toString() {
        return "MicrometerMetricsTrackerFactory{" + registry.getClass().getSimpleName()
                + (observations == null ? "" : ", observations") + "}";
    }
}
