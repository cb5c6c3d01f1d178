package dev.zksdk.internal.pool;

import dev.zksdk.OperationPolicy;
import dev.zksdk.internal.Backoff;
import io.github.resilience4j.core.IntervalFunction;
import java.util.concurrent.TimeUnit;
import org.apache.curator.RetryPolicy;
import org.apache.curator.RetrySleeper;

/**
 * Curator's retry for recipes run on {@code lease.curator()}, from the pool's {@link OperationPolicy}: the operations'
 * backoff (exponential with full jitter), for as long as the operation timeout. One vocabulary for every retry of the
 * SDK, named in {@link OperationPolicy}'s javadoc.
 */
final class RecipeRetryPolicy implements RetryPolicy {

    private final long timeoutMillis;
    private final IntervalFunction backoff;

    RecipeRetryPolicy(OperationPolicy policy) {
        this.timeoutMillis = policy.operationTimeout().toMillis();
        this.backoff = Backoff.fullJitter(
                policy.retryInitialBackoff().toMillis(),
                policy.retryMaxBackoff().toMillis());
    }

    @Override
    public boolean allowRetry(int retryCount, long elapsedTimeMs, RetrySleeper sleeper) {
        if (elapsedTimeMs >= timeoutMillis) {
            return false;
        }
        long wait = Math.min(backoff.apply(retryCount + 1), timeoutMillis - elapsedTimeMs);
        try {
            sleeper.sleepFor(wait, TimeUnit.MILLISECONDS);
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }
}
