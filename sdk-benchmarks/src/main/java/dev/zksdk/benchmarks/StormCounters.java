package dev.zksdk.benchmarks;

import java.lang.reflect.Field;
import java.util.Arrays;
import java.util.Locale;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;

/**
 * One reconnect storm of {@link StormBenchmark}, as JMH secondary results (one value per iteration): when the sessions
 * came back, relative to the first one back, as percentiles and as a histogram of {@value #BUCKET_MS} ms buckets;
 * how many sessions expired; what the kernel's listen queues dropped meanwhile.
 *
 * <p>JMH's results hold scalars only, so the histogram is one counter per bucket: {@code backAt0000ms} counts the
 * sessions back within [0, 100) ms of the first, {@code backAt0100ms} within [100, 200) ms, and so on up to
 * {@code backAt3000msOrLater}. Summed over the measured iterations, they are the histogram of every measured storm.
 */
@State(Scope.Thread)
@AuxCounters(AuxCounters.Type.EVENTS)
public class StormCounters {

    static final int BUCKET_MS = 100;
    /** Buckets of {@value #BUCKET_MS} ms before the last, open-ended one. */
    static final int BUCKETS = 30;

    /** Sessions that came back in this storm (every session, or the benchmark fails). */
    public long sessionsBack;
    /** Sessions that came back as a new session: the old one had expired. */
    public long expired;
    /** From launching the server's JVM again to the first session back: mostly the server's start-up. */
    public double restartToFirstBackMs;
    /** Percentiles of each session's time back, counted from the first session back. */
    public double spreadP50Ms;

    public double spreadP90Ms;
    public double spreadP99Ms;
    public double spreadMaxMs;
    /** The kernel's {@code TcpExt: ListenOverflows} grew by this much during the storm (whole network namespace). */
    public long listenOverflows;
    /** The kernel's {@code TcpExt: ListenDrops} grew by this much during the storm (whole network namespace). */
    public long listenDrops;
    /**
     * Storms in which the kernel's counters could not be read (no {@code /proc/net/netstat}): their overflows and drops
     * are not measured, and a report must say so instead of 0.
     */
    public long kernelCountersUnread;

    public long backAt0000ms;
    public long backAt0100ms;
    public long backAt0200ms;
    public long backAt0300ms;
    public long backAt0400ms;
    public long backAt0500ms;
    public long backAt0600ms;
    public long backAt0700ms;
    public long backAt0800ms;
    public long backAt0900ms;
    public long backAt1000ms;
    public long backAt1100ms;
    public long backAt1200ms;
    public long backAt1300ms;
    public long backAt1400ms;
    public long backAt1500ms;
    public long backAt1600ms;
    public long backAt1700ms;
    public long backAt1800ms;
    public long backAt1900ms;
    public long backAt2000ms;
    public long backAt2100ms;
    public long backAt2200ms;
    public long backAt2300ms;
    public long backAt2400ms;
    public long backAt2500ms;
    public long backAt2600ms;
    public long backAt2700ms;
    public long backAt2800ms;
    public long backAt2900ms;
    public long backAt3000msOrLater;

    private static final Field[] BUCKET_FIELDS = bucketFields();

    /** The counter name of bucket {@code i} (0 to {@link #BUCKETS}, the last one open-ended). */
    static String bucketName(int i) {
        return String.format(Locale.ROOT, "backAt%04dms", i * BUCKET_MS) + (i == BUCKETS ? "OrLater" : "");
    }

    /** The bucket of a time back, counted from the first session back. */
    static int bucketOf(double millis) {
        return (int) Math.min(BUCKETS, Math.max(0, Math.floor(millis / BUCKET_MS)));
    }

    /**
     * Fills every counter but the kernel's from the times the sessions came back.
     *
     * @param launchedNanos when the server's JVM was launched again
     * @param backNanos when each session came back ({@link System#nanoTime()})
     * @param expiredSessions how many of them came back as new sessions
     */
    void record(long launchedNanos, long[] backNanos, int expiredSessions) {
        long[] sorted = backNanos.clone();
        Arrays.sort(sorted);
        long first = sorted[0];
        double[] spread = new double[sorted.length];
        long[] buckets = new long[BUCKETS + 1];
        for (int i = 0; i < sorted.length; i++) {
            spread[i] = (sorted[i] - first) / 1e6;
            buckets[bucketOf(spread[i])]++;
        }
        sessionsBack = sorted.length;
        expired = expiredSessions;
        restartToFirstBackMs = (first - launchedNanos) / 1e6;
        spreadP50Ms = percentile(spread, 50);
        spreadP90Ms = percentile(spread, 90);
        spreadP99Ms = percentile(spread, 99);
        spreadMaxMs = spread[spread.length - 1];
        try {
            for (int i = 0; i <= BUCKETS; i++) {
                BUCKET_FIELDS[i].setLong(this, buckets[i]);
            }
        } catch (IllegalAccessException e) {
            throw new IllegalStateException("bucket counters must be public fields", e);
        }
    }

    /** Nearest-rank percentile of sorted values. */
    static double percentile(double[] sorted, double p) {
        int rank = (int) Math.ceil(p / 100 * sorted.length);
        return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
    }

    private static Field[] bucketFields() {
        Field[] fields = new Field[BUCKETS + 1];
        for (int i = 0; i <= BUCKETS; i++) {
            try {
                fields[i] = StormCounters.class.getField(bucketName(i));
            } catch (NoSuchFieldException e) {
                throw new IllegalStateException("StormCounters lacks the bucket counter " + bucketName(i), e);
            }
        }
        return fields;
    }
}
