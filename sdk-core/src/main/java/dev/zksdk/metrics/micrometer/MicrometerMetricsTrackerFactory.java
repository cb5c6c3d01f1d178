package dev.zksdk.metrics.micrometer;

import dev.zksdk.metrics.MetricsTracker;
import dev.zksdk.metrics.MetricsTrackerFactory;
import dev.zksdk.metrics.PoolView;
import io.micrometer.core.instrument.MeterRegistry;

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
 * {@code ensemble} (its servers), the pipeline's {@code zksdk.breaker.*} (state, calls in the window, calls not
 * permitted, failure rate), {@code zksdk.bulkhead.*} (available and maximum calls in flight: saturation) and
 * {@code zksdk.retry.calls} among them. A lease's caches publish
 * their statistics with {@code dev.zksdk.cache.CacheMetrics.monitor} (Micrometer's Caffeine binder).
 *
 * <p>Closing the pool removes its meters from the registry. Give pools that share a registry distinct names: meters
 * of equal name and tags are one meter in Micrometer.
 */
public final class MicrometerMetricsTrackerFactory implements MetricsTrackerFactory {

    private final MeterRegistry registry;

    /**
     * @throws IllegalArgumentException when {@code registry} is null
     */
    public MicrometerMetricsTrackerFactory(MeterRegistry registry) {
        if (registry == null) {
            throw new IllegalArgumentException("registry must not be null");
        }
        this.registry = registry;
    }

    @Override
    public MetricsTracker create(PoolView pool) {
        return new MicrometerMetricsTracker(registry, pool);
    }

    @Override
    public String toString() {
        return "MicrometerMetricsTrackerFactory{" + registry.getClass().getSimpleName() + "}";
    }
}
