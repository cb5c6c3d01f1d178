package dev.zksdk.metrics;

import dev.zksdk.SessionListener;

/**
 * Records what one pool does. Made by a {@link MetricsTrackerFactory}; every method has a no-op default, so a binding
 * implements only what it records. (Caches publish their own statistics: {@code dev.zksdk.cache.CacheMetrics}.)
 *
 * <p>It is also the pool's first {@link SessionListener}: session changes, timeout clamps, recoveries and ephemeral
 * conflicts arrive through those methods, with the ensemble named by its connect string
 * ({@link MetricNames#ensembleTag(String)} turns that into the {@code ensemble} tag).
 *
 * <p>Threading: methods are called on the pool's threads (Curator's event thread, ZooKeeper's callback thread, the
 * caller of an operation). They must be thread-safe, must not block, and should not throw; an exception is caught
 * and logged by the pool and never fails an operation.
 */
public interface MetricsTracker extends SessionListener, AutoCloseable {

    /** Records nothing. */
    MetricsTracker NONE = new MetricsTracker() {};

    /**
     * An ensemble's sessions were started (its first lease); its gauges may read {@code ensemble} from now on.
     *
     * @param ensemble a live view of the ensemble, valid until the pool closes
     */
    default void ensembleStarted(EnsembleView ensemble) {}

    /**
     * One operation of a lease finished.
     *
     * @param ensemble the {@code ensemble} tag ({@link EnsembleView#name()})
     * @param operation the operation: {@code getData}, {@code exists}, {@code getChildren}, {@code create},
     *     {@code setData}, {@code delete}, {@code sync}, {@code multi}
     * @param outcome {@code success} or what failed it, from {@link MetricNames#outcome(Throwable)}
     * @param nanos how long it took, retries included
     * @param retries attempts after the first
     */
    default void operationCompleted(String ensemble, String operation, String outcome, long nanos, int retries) {}

    /**
     * Batched asynchronous operations ({@link dev.zksdk.BatchingConfig}) were sent as one request: a {@code multi} of
     * writes or a {@code multiRead} of reads. The request itself is also reported as an operation ({@code multi} or
     * {@code multiRead}); its callers' operations are not reported one by one.
     *
     * @param ensemble the {@code ensemble} tag ({@link EnsembleView#name()})
     * @param kind {@code write} or {@code read}
     * @param operations how many operations the request carries
     */
    default void batchSent(String ensemble, String kind, int operations) {}

    /**
     * One operation of a lease starts: called on the calling thread (for an asynchronous call too, so a tracing binding
     * finds the caller's current span there), before anything is sent. The result's
     * {@link OperationObservation#stop} is called exactly once, when the operation ends and before its result (or its
     * future) completes, on the thread that ends it; {@link #operationCompleted} is called just before that stop.
     *
     * @param ensemble the {@code ensemble} tag ({@link EnsembleView#name()})
     * @param operation the operation, as in {@link #operationCompleted}
     * @param path the node's path (high-cardinality: never a meter tag)
     * @return what to stop when it ends; {@link OperationObservation#NONE} (the default) when the tracker does not
     *     observe single operations
     */
    default OperationObservation operationStarted(String ensemble, String operation, String path) {
        return OperationObservation.NONE;
    }

    /** The pool closed: remove whatever this tracker published. Idempotent. */
    @Override
    default void close() {}
}
