package dev.zksdk.metrics;

/**
 * Makes the {@link MetricsTracker} of one pool; set with
 * {@link dev.zksdk.ZkSessionPool.Builder#metricsTrackerFactory(MetricsTrackerFactory)}. Modelled on HikariCP's
 * {@code MetricsTrackerFactory}: the pool knows only this interface, and a metrics library is one binding of it
 * ({@link dev.zksdk.metrics.micrometer.MicrometerMetricsTrackerFactory}).
 *
 * <p>{@link #create} is called once, when the pool is built, before any session exists.
 */
@FunctionalInterface
public interface MetricsTrackerFactory {

    /** A factory whose trackers record nothing: the pool's default. */
    MetricsTrackerFactory NONE = pool -> MetricsTracker.NONE;

    /**
     * The tracker of one pool.
     *
     * @param pool the pool's name and live statistics; valid for the pool's whole life
     * @return the pool's tracker; closed with the pool
     */
    MetricsTracker create(PoolView pool);
}
