package dev.zksdk.hosts;

import java.util.Collections;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Counts this process's connections per ZooKeeper server, so that no server ever sees more connections from
 * us than a budget below its {@code maxClientCnxns} (which the server enforces per client IP address, hence
 * over every pool in the JVM).
 *
 * <p>{@link #shared()} is the one process-wide instance every pool uses by default; tests create their own.
 * Servers are keyed by canonical {@code host:port} as written in the connect string (lower-case host, IPv6
 * in brackets): name a server the same way in every pool so it is counted once. The limit is given on each
 * acquisition, so pools with different budgets for the same server each enforce theirs against the common
 * count.
 *
 * <p>Thread-safe; acquisition is atomic, so concurrent callers never push a count above the limit.
 */
public final class ConnectionBudget {

    private static final ConnectionBudget SHARED = new ConnectionBudget();

    private final ConcurrentHashMap<String, Integer> counts = new ConcurrentHashMap<>();

    /** A new, empty budget; production code uses {@link #shared()}. */
    public ConnectionBudget() {}

    /**
     * The process-wide budget, shared by every pool of the JVM.
     *
     * @return the shared budget
     */
    public static ConnectionBudget shared() {
        return SHARED;
    }

    /**
     * Takes one connection slot on {@code server} if its count is below {@code limit}.
     *
     * @param server canonical {@code host:port}
     * @param limit the most connections allowed to that server, {@code >= 1}
     * @return whether the slot was taken
     * @throws IllegalArgumentException when the server is blank or the limit below 1
     */
    public boolean tryAcquire(String server, int limit) {
        checkServer(server);
        if (limit < 1) {
            throw new IllegalArgumentException("limit must be >= 1, was " + limit);
        }
        boolean[] taken = {false};
        counts.compute(server, (k, v) -> {
            int c = v == null ? 0 : v;
            if (c >= limit) {
                return v;
            }
            taken[0] = true;
            return c + 1;
        });
        return taken[0];
    }

    /**
     * Returns one slot taken on {@code server}.
     *
     * @param server the server, {@code host:port}
     * @throws IllegalStateException when no slot is held on that server (a release without an acquisition)
     * @throws IllegalArgumentException when the server is blank
     */
    public void release(String server) {
        checkServer(server);
        boolean[] held = {false};
        counts.computeIfPresent(server, (k, v) -> {
            held[0] = true;
            return v <= 1 ? null : v - 1;
        });
        if (!held[0]) {
            throw new IllegalStateException("release of " + server + " without a connection slot held on it");
        }
    }

    /**
     * Slots currently held on {@code server}.
     *
     * @param server the server, {@code host:port}
     * @return the number of slots held, 0 for an unknown server
     */
    public int count(String server) {
        return counts.getOrDefault(server, 0);
    }

    /**
     * Slots held per server, servers with none left out.
     *
     * @return a sorted, unmodifiable copy, keyed {@code host:port}
     */
    public Map<String, Integer> snapshot() {
        return Collections.unmodifiableMap(new TreeMap<>(counts));
    }

    @Override
    public String toString() {
        return "ConnectionBudget" + snapshot();
    }

    private static void checkServer(String server) {
        if (server == null || server.isBlank()) {
            throw new IllegalArgumentException(
                    "server must be host:port, was " + (server == null ? "null" : "'" + server + "'"));
        }
    }
}
