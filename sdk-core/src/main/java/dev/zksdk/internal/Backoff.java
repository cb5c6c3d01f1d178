package dev.zksdk.internal;

import io.github.resilience4j.core.IntervalFunction;
import java.util.concurrent.ThreadLocalRandom;

/** The SDK's one backoff: exponential with full jitter (as Lettuce's {@code Delay.fullJitter}). */
public final class Backoff {

    private Backoff() {}

    /** Attempt n waits a uniformly random time in [0, min(max, initial * 2^(n-1))] milliseconds. */
    public static IntervalFunction fullJitter(long initialMillis, long maxMillis) {
        return attempt -> {
            int shift = Math.min(Math.max(attempt - 1, 0), 30);
            long bound = Math.min(maxMillis, initialMillis << shift);
            return ThreadLocalRandom.current().nextLong(bound + 1);
        };
    }
}
