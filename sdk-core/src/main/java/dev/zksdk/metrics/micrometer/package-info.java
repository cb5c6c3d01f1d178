/**
 * The Micrometer binding of {@link dev.zksdk.metrics.MetricsTrackerFactory}: the pool's meters (named in
 * {@link dev.zksdk.metrics.MetricNames}), the breaker, bulkhead and retry meters among them. Needs {@code micrometer-core}, an optional dependency of sdk-core.
 */
package dev.zksdk.metrics.micrometer;
