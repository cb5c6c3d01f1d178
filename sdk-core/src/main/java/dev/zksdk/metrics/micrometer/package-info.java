/**
 * The Micrometer binding of {@link dev.zksdk.metrics.MetricsTrackerFactory}: the pool's meters (named in
 * {@link dev.zksdk.metrics.MetricNames}), resilience4j's own breaker, bulkhead and retry meters (when
 * {@code resilience4j-micrometer} is present). Needs {@code micrometer-core}, an optional dependency of sdk-core.
 */
package dev.zksdk.metrics.micrometer;
