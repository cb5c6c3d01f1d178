package dev.zksdk.hosts;

import java.util.Arrays;

/**
 * How long the connection handshakes this process completed took (from handing a server to ZooKeeper to its answer
 * to the connect request), the last {@value #WINDOW} of them over every pool: what "an answer in reasonable time"
 * means on the networks this process uses, from which {@link WeightedHostProvider} bounds an attempt that has no
 * answer. Thread-safe.
 */
final class HandshakeTimes {

    /** The process's own record, shared by every pool. */
    static final HandshakeTimes PROCESS = new HandshakeTimes();

    static final int WINDOW = 32;

    private final long[] nanos = new long[WINDOW];
    private int next;
    private int count;

    synchronized void record(long handshakeNanos) {
        if (handshakeNanos < 0) {
            return;
        }
        nanos[next] = handshakeNanos;
        next = (next + 1) % WINDOW;
        count = Math.min(count + 1, WINDOW);
    }

    /** The slowest of the recent handshakes, or -1 when none has completed yet. */
    synchronized long slowestRecentNanos() {
        if (count == 0) {
            return -1;
        }
        return Arrays.stream(nanos, 0, count).max().orElse(-1);
    }

    /** Forgets every handshake (tests). */
    synchronized void clear() {
        Arrays.fill(nanos, 0);
        next = 0;
        count = 0;
    }
}
