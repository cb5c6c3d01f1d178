package dev.zksdk;

import java.util.Map;
import java.util.TreeMap;

/** A snapshot of a pool's sessions and leases. */
public final class PoolStats {

    private final int openSessions;
    private final int activeLeases;
    private final long sessionsOpened;
    private final Map<String, Integer> connectionsPerServer;

    /**
     * A snapshot; the pool makes these ({@link ZkSessionPool#stats()}).
     *
     * @param openSessions sessions held open now
     * @param activeLeases leases handed out and not yet closed
     * @param sessionsOpened sessions ever established
     * @param connectionsPerServer connected sessions per {@code host:port}; copied
     */
    public PoolStats(
            int openSessions, int activeLeases, long sessionsOpened, Map<String, Integer> connectionsPerServer) {
        this.openSessions = openSessions;
        this.activeLeases = activeLeases;
        this.sessionsOpened = sessionsOpened;
        this.connectionsPerServer = Map.copyOf(connectionsPerServer);
    }

    /**
     * Sessions the pool holds open now (connected or reconnecting).
     *
     * @return the number of open sessions
     */
    public int openSessions() {
        return openSessions;
    }

    /**
     * Leases handed out and not yet closed.
     *
     * @return the number of active leases
     */
    public int activeLeases() {
        return activeLeases;
    }

    /**
     * Every ZooKeeper session the pool ever had established, replacements after expiry included.
     *
     * @return the number of sessions opened since the pool started
     */
    public long sessionsOpened() {
        return sessionsOpened;
    }

    /**
     * Connected sessions per server.
     *
     * @return an unmodifiable map from {@code host:port} to the number of connected sessions there
     */
    public Map<String, Integer> connectionsPerServer() {
        return connectionsPerServer;
    }

    @Override
    public String toString() {
        return "PoolStats{openSessions=" + openSessions + ", activeLeases=" + activeLeases + ", sessionsOpened="
                + sessionsOpened + ", connectionsPerServer=" + new TreeMap<>(connectionsPerServer) + "}";
    }
}
