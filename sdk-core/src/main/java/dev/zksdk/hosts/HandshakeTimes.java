package dev.zksdk.hosts;

import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.Map;

/**
 * How long the connection handshakes this process completed took (from the connect request to its answer), per server
 * ({@code host:port}), the last {@value #WINDOW} of each within the last {@link #MAX_AGE}: what "an answer in reasonable
 * time" means for that server on the networks this process uses, from which {@link WeightedHostProvider} bounds an
 * attempt that has no answer. Kept per server so that a slow remote ensemble does not widen the bound of attempts to
 * a local one. Thread-safe.
 */
final class HandshakeTimes {

    /** The process's own record, shared by every pool. */
    static final HandshakeTimes PROCESS = new HandshakeTimes();

    static final int WINDOW = 32;
    /** Handshakes older than this say nothing about the network any more. */
    static final Duration MAX_AGE = Duration.ofMinutes(10);

    private final Map<String, Ring> servers = new HashMap<>();

    synchronized void record(String server, long handshakeNanos) {
        if (handshakeNanos < 0) {
            return;
        }
        servers.computeIfAbsent(server, s -> new Ring()).add(handshakeNanos, System.nanoTime());
    }

    /** The slowest recent handshake with {@code server}, or -1 when there is none. */
    synchronized long slowestRecentNanos(String server) {
        Ring ring = servers.get(server);
        return ring == null ? -1 : ring.slowest(System.nanoTime());
    }

    /** The slowest recent handshake with any of {@code keys}, or -1 when there is none. */
    synchronized long slowestRecentNanos(Collection<String> keys) {
        long slowest = -1;
        for (String key : keys) {
            slowest = Math.max(slowest, slowestRecentNanos(key));
        }
        return slowest;
    }

    /** Forgets every handshake (tests). */
    synchronized void clear() {
        servers.clear();
    }

    private static final class Ring {
        private final long[] nanos = new long[WINDOW];
        private final long[] at = new long[WINDOW];
        private int next;
        private int count;

        void add(long handshakeNanos, long now) {
            nanos[next] = handshakeNanos;
            at[next] = now;
            next = (next + 1) % WINDOW;
            count = Math.min(count + 1, WINDOW);
        }

        long slowest(long now) {
            long slowest = -1;
            for (int i = 0; i < count; i++) {
                if (now - at[i] <= MAX_AGE.toNanos()) {
                    slowest = Math.max(slowest, nanos[i]);
                }
            }
            return slowest;
        }
    }
}
