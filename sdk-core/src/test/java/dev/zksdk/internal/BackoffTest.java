package dev.zksdk.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.resilience4j.core.IntervalFunction;
import org.junit.jupiter.api.Test;

class BackoffTest {

    @Test
    void delaysStayWithinTheDoublingBoundAndTheCapAndSpreadOverIt() {
        IntervalFunction f = Backoff.fullJitter(20, 1000);
        for (int attempt = 1; attempt <= 12; attempt++) {
            long bound = Math.min(1000, 20L << (attempt - 1));
            long min = Long.MAX_VALUE;
            long max = Long.MIN_VALUE;
            for (int i = 0; i < 2000; i++) {
                long d = f.apply(attempt);
                min = Math.min(min, d);
                max = Math.max(max, d);
            }
            assertThat(min).isGreaterThanOrEqualTo(0).isLessThan(bound / 4 + 1);
            assertThat(max).isLessThanOrEqualTo(bound).isGreaterThan(bound * 3 / 4);
        }
    }
}
