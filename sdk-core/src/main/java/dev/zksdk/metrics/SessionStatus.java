package dev.zksdk.metrics;

import dev.zksdk.SessionState;
import java.time.Duration;

/**
 * A snapshot of one pooled session.
 *
 * @param index which of the ensemble's sessions this is, from 0
 * @param state the state listeners were last told
 * @param open true once the session was started and until the pool closes it (connected or reconnecting)
 * @param connected true while the session has a live connection
 * @param sessionId the id of the current (or last) ZooKeeper session; 0 before the first connection
 * @param negotiatedTimeout the timeout the server granted the current (or last) session; null before the first
 *     connection
 * @param server the server of the live connection, {@code host:port} as in the connect string; null while not
 *     connected, and also for the moment between a move's decision (rebalancing, a membership change, a hung server
 *     left) and the session's reconnect, while {@code connected} may still read true: the two are read apart
 * @param role where the session is kept: on the participants (the sessions leases are pinned to), or on the observers
 *     (sessions for plain reads, see {@link dev.zksdk.EnsembleConfig.Builder#readsFromObservers(int)})
 */
public record SessionStatus(
        int index,
        SessionState state,
        boolean open,
        boolean connected,
        long sessionId,
        Duration negotiatedTimeout,
        String server,
        Role role) {

    /** Where a session is kept, and so what it serves. */
    public enum Role {
        /** On the servers that are not observers: a lease's session (writes, session-bound work, reads). */
        PARTICIPANT,
        /**
         * On an observer (on a voting member while the ensemble's membership has no observer left): plain reads of
         * leases only.
         */
        OBSERVER
    }

    /**
     * A snapshot of a session on the participants (the only kind before observer sessions existed).
     *
     * @param index which of the ensemble's sessions this is, from 0
     * @param state the state listeners were last told
     * @param open true once the session was started and until the pool closes it
     * @param connected true while the session has a live connection
     * @param sessionId the id of the current (or last) ZooKeeper session; 0 before the first connection
     * @param negotiatedTimeout the timeout the server granted; null before the first connection
     * @param server the server of the live connection, or null
     */
    public SessionStatus(
            int index,
            SessionState state,
            boolean open,
            boolean connected,
            long sessionId,
            Duration negotiatedTimeout,
            String server) {
        this(index, state, open, connected, sessionId, negotiatedTimeout, server, Role.PARTICIPANT);
    }

    /**
     * The session id as ZooKeeper's logs print it: {@code 0x} and lower-case hex.
     *
     * @return such as {@code 0x10000a3b4c50001}
     */
    public String sessionIdHex() {
        return "0x" + Long.toHexString(sessionId);
    }
}
