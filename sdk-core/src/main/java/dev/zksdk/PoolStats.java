package dev.zksdk;

import java.util.Map;
import java.util.TreeMap;

/** A snapshot of a pool's sessions and leases. */
public final class PoolStats {

    private final int openSessions;
    private final int activeLeases;
    private final long sessionsOpened;
    private final Map<String, Integer> connectionsPerServer;

    public PoolStats(
            int openSessions, int activeLeases, long sessionsOpened, Map<String, Integer> connectionsPerServer) {
        this.openSessions = openSessions;
        this.activeLeases = activeLeases;
        this.sessionsOpened = sessionsOpened;
        this.connectionsPerServer = Map.copyOf(connectionsPerServer);
    }

    /** Sessions the pool holds open now (connected or reconnecting). */
    public int openSessions() {
        return openSessions;
    }

    /** Leases handed out and not yet closed. */
    public int activeLeases() {
        return activeLeases;
    }

    /** Every ZooKeeper session the pool ever had established, replacements after expiry included. */
    public long sessionsOpened() {
        return sessionsOpened;
    }

    /** Connected sessions per server, keyed {@code host:port}. */
    public Map<String, Integer> connectionsPerServer() {
        return connectionsPerServer;
    }

    @Override
    public String toString() {
        return "PoolStats{openSessions=" + openSessions + ", activeLeases=" + activeLeases + ", sessionsOpened="
                + sessionsOpened + ", connectionsPerServer=" + new TreeMap<>(connectionsPerServer) + "}";
    }
}
