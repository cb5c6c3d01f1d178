/**
 * Observability of a {@link dev.zksdk.ZkSessionPool}: metrics as a plug-in, and status snapshots for health checks.
 *
 * <ul>
 *   <li>{@link dev.zksdk.metrics.MetricsTrackerFactory} / {@link dev.zksdk.metrics.MetricsTracker} — the small
 *       interface the pool records through (HikariCP's {@code MetricsTrackerFactory} is the model). The pool has no
 *       metrics library of its own; {@link dev.zksdk.metrics.micrometer.MicrometerMetricsTrackerFactory} is the
 *       Micrometer binding (Micrometer is an optional dependency).</li>
 *   <li>{@link dev.zksdk.metrics.EnsembleView} — what a tracker reads of one ensemble, live.</li>
 *   <li>{@link dev.zksdk.metrics.EnsembleStatus} / {@link dev.zksdk.metrics.SessionStatus} — immutable snapshots,
 *       from {@link dev.zksdk.ZkSessionPool#ensembles()}, for health checks. They never hold credentials.</li>
 *   <li>{@link dev.zksdk.metrics.MetricNames} — the meter names and tags every binding uses.</li>
 * </ul>
 */
package dev.zksdk.metrics;
