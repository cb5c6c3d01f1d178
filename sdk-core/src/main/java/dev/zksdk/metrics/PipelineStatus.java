package dev.zksdk.metrics;

/**
 * A snapshot of one ensemble's operation pipeline: its circuit breaker, in-flight limit (bulkhead) and retries, read
 * when a meter is read. Holds numbers only, no live objects of the libraries behind them.
 *
 * @param breakerState {@code CLOSED}, {@code OPEN}, {@code HALF_OPEN}, ...: while {@code OPEN} operations fail fast
 * @param breakerFailureRate the percentage of the calls in the breaker's window that found the ensemble unreachable,
 *     or -1 while the window holds fewer than the minimum number of calls
 * @param breakerBufferedCalls calls in the breaker's window now
 * @param breakerFailedCalls of those, the calls that found the ensemble unreachable
 * @param breakerNotPermittedCalls calls the open breaker refused since the pool started
 * @param bulkheadMaxCalls the in-flight limit ({@code maxInFlight})
 * @param bulkheadAvailableCalls in-flight slots free now
 * @param callsSucceededWithoutRetry calls that succeeded at the first attempt, since the pool started
 * @param callsSucceededWithRetry calls that succeeded after retrying
 * @param callsFailedWithRetry calls that failed after retrying
 * @param callsFailedWithoutRetry calls that failed without a retry (application results, fail-fast refusals)
 */
public record PipelineStatus(
        String breakerState,
        float breakerFailureRate,
        int breakerBufferedCalls,
        int breakerFailedCalls,
        long breakerNotPermittedCalls,
        int bulkheadMaxCalls,
        int bulkheadAvailableCalls,
        long callsSucceededWithoutRetry,
        long callsSucceededWithRetry,
        long callsFailedWithRetry,
        long callsFailedWithoutRetry) {}
