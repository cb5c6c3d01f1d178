package dev.zksdk.benchmarks;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;

/**
 * The heap a program retains, read after full collections: {@link #used()} collects until the heap in use stops
 * shrinking, so that garbage made by background threads between two readings does not count as retained. The difference
 * of two readings, divided by how many objects were made between them, is the heap each one retains (with what it
 * reaches that was not reachable before).
 */
public final class RetainedHeap {

    /** Collections after which a reading is taken even if the heap was still shrinking. */
    static final int MAX_COLLECTIONS = 10;

    /** A shrink smaller than this (bytes) counts as stopped. */
    static final long SETTLED_BYTES = 64 * 1024;

    private static final MemoryMXBean MEMORY = ManagementFactory.getMemoryMXBean();

    private RetainedHeap() {}

    /** Heap in use, in bytes, after collecting until it stops shrinking (at most {@value #MAX_COLLECTIONS} times). */
    public static long used() {
        long previous = Long.MAX_VALUE;
        long used = heapUsed();
        for (int i = 0; i < MAX_COLLECTIONS; i++) {
            System.gc();
            used = heapUsed();
            if (previous - used < SETTLED_BYTES) {
                return used;
            }
            previous = used;
        }
        return used;
    }

    /**
     * Bytes retained per object between two readings of {@link #used()}.
     *
     * @throws IllegalArgumentException when {@code count} is not positive
     */
    public static double perObject(long before, long after, int count) {
        if (count < 1) {
            throw new IllegalArgumentException("count must be at least 1, was " + count);
        }
        return (double) (after - before) / count;
    }

    private static long heapUsed() {
        return MEMORY.getHeapMemoryUsage().getUsed();
    }
}
