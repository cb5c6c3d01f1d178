package dev.zksdk.metrics;

/**
 * One lease operation in progress, as a {@link MetricsTracker} observes it (for example as a Micrometer
 * {@code Observation}: the timer and the span of the operation). Made by
 * {@link MetricsTracker#operationStarted(String, String, String)} on the calling thread; {@link #stop} is called
 * exactly once, on the thread that ends the operation, before the caller sees its result.
 *
 * <p>Like the tracker's methods, {@link #stop} must be thread-safe, must not block and should not throw; an exception
 * is caught and logged, and never fails the operation.
 */
@FunctionalInterface
public interface OperationObservation {

    /** Observes nothing. */
    OperationObservation NONE = (outcome, failure) -> {};

    /**
     * The operation ended.
     *
     * @param outcome {@code success} or what failed it, from {@link MetricNames#outcome(Throwable)}
     * @param failure the exception the caller gets, or null on success
     */
    void stop(String outcome, Throwable failure);
}
