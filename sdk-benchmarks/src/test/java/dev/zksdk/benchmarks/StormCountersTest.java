package dev.zksdk.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class StormCountersTest {

    private static final long MS = 1_000_000;

    @Test
    void timesBackAreCountedFromTheFirstSessionBackIntoHundredMillisecondBuckets() {
        StormCounters counters = new StormCounters();
        long launched = 1_000 * MS;
        // Arrival order does not matter: the first back is at 1,800 ms, 800 ms after the launch.
        long[] back = {1_850 * MS, 1_800 * MS, 1_899 * MS, 2_300 * MS, 5_000 * MS};

        counters.record(launched, back, 1);

        assertThat(counters.sessionsBack).isEqualTo(5);
        assertThat(counters.expired).isEqualTo(1);
        assertThat(counters.restartToFirstBackMs).isEqualTo(800.0);
        assertThat(counters.backAt0000ms).isEqualTo(3);
        assertThat(counters.backAt0500ms).isEqualTo(1);
        assertThat(counters.backAt3000msOrLater).isEqualTo(1);
        assertThat(counters.spreadP50Ms).isEqualTo(99.0);
        assertThat(counters.spreadP90Ms).isEqualTo(3200.0);
        assertThat(counters.spreadMaxMs).isEqualTo(3200.0);
    }

    @Test
    void everyBucketHasItsCounterAndTheLastIsOpenEnded() {
        assertThat(StormCounters.bucketName(0)).isEqualTo("backAt0000ms");
        assertThat(StormCounters.bucketName(StormCounters.BUCKETS)).isEqualTo("backAt3000msOrLater");
        assertThat(StormCounters.bucketOf(2999.9)).isEqualTo(29);
        assertThat(StormCounters.bucketOf(3000)).isEqualTo(StormCounters.BUCKETS);
        assertThat(StormCounters.bucketOf(60_000)).isEqualTo(StormCounters.BUCKETS);
    }
}
