package dev.zksdk.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The heap reading sees what is retained and not what is garbage. */
class RetainedHeapTest {

    private static final int ARRAYS = 1000;
    private static final int BYTES = 10_000;

    @Test
    void retainedObjectsAreCountedAndGarbageIsNot() {
        long before = RetainedHeap.used();
        List<byte[]> kept = new ArrayList<>(ARRAYS);
        long listed = RetainedHeap.used();
        for (int i = 0; i < ARRAYS; i++) {
            kept.add(new byte[BYTES]);
            byte[] garbage = new byte[BYTES];
            garbage[i % BYTES] = 1;
        }
        long after = RetainedHeap.used();

        double perArray = RetainedHeap.perObject(listed, after, ARRAYS);
        // A byte[10000] is 10,000 bytes and a header (16 with compressed pointers, up to 24), rounded up to 8.
        assertThat(perArray).as("bytes per kept array").isBetween((double) BYTES, BYTES + 64.0);
        assertThat(kept).hasSize(ARRAYS);
        assertThat(after - before).isGreaterThan((long) ARRAYS * BYTES);
    }

    @Test
    void aCountBelowOneIsRefusedNamingIt() {
        assertThatThrownBy(() -> RetainedHeap.perObject(0, 1, 0))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("count must be at least 1, was 0");
    }
}
