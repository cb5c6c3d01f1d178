package dev.zksdk.metrics;

import dev.zksdk.SessionState;
import java.time.Duration;
import java.util.List;

/**
 * A snapshot of one ensemble of a pool, for health checks and diagnostics; from
 * {@link dev.zksdk.ZkSessionPool#ensembles()}. Holds no credentials.
 *
 * @param name the {@code ensemble} tag of its meters: its alias ({@link dev.zksdk.EnsembleConfig#alias()})
 * @param connectString the connect string, chroot included
 * @param requestedSessionTimeout the session timeout the pool asks for
 * @param sessions every pooled session of the ensemble, by index
 * @param circuitBreakerState the state of the ensemble's circuit breaker ({@code CLOSED}, {@code OPEN},
 *     {@code HALF_OPEN}, ...); while {@code OPEN}, operations fail fast with
 *     {@link dev.zksdk.ZkUnavailableException}
 * @param ownedEphemerals the ephemerals the pool keeps alive on this ensemble (re-created after expiry)
 * @param missingEphemerals owned ephemerals missing on the server that could not be re-created yet (a removed
 *     parent, {@code NOAUTH}, another owner's node, this pool's expired session's node not yet expired by the
 *     server); the pool retries them with backoff
 */
public record EnsembleStatus(
        String name,
        String connectString,
        Duration requestedSessionTimeout,
        List<SessionStatus> sessions,
        String circuitBreakerState,
        int ownedEphemerals,
        int missingEphemerals) {

    /**
     * A snapshot; the pool makes these. The session list is copied.
     *
     * @param name the {@code ensemble} tag of its meters
     * @param connectString the connect string, chroot included
     * @param requestedSessionTimeout the session timeout the pool asks for
     * @param sessions every pooled session of the ensemble, by index; copied
     * @param circuitBreakerState the state of the ensemble's circuit breaker
     * @param ownedEphemerals the ephemerals the pool keeps alive on this ensemble
     * @param missingEphemerals owned ephemerals missing on the server that could not be re-created yet
     */
    public EnsembleStatus {
        sessions = List.copyOf(sessions);
    }

    /**
     * A status without missing ephemerals (the form before {@code missingEphemerals} was reported).
     *
     * @param name the {@code ensemble} tag of its meters
     * @param connectString the connect string, chroot included
     * @param requestedSessionTimeout the session timeout the pool asks for
     * @param sessions every pooled session of the ensemble, by index; copied
     * @param circuitBreakerState the state of the ensemble's circuit breaker
     * @param ownedEphemerals the ephemerals the pool keeps alive on this ensemble
     */
    public EnsembleStatus(
            String name,
            String connectString,
            Duration requestedSessionTimeout,
            List<SessionStatus> sessions,
            String circuitBreakerState,
            int ownedEphemerals) {
        this(name, connectString, requestedSessionTimeout, sessions, circuitBreakerState, ownedEphemerals, 0);
    }

    /**
     * True when at least one session has a live connection.
     *
     * @return true when {@link #connectedSessions()} is positive
     */
    public boolean isConnected() {
        return connectedSessions() > 0;
    }

    /**
     * Sessions with a live connection.
     *
     * @return the number of connected sessions
     */
    public int connectedSessions() {
        int n = 0;
        for (SessionStatus s : sessions) {
            if (s.connected()) {
                n++;
            }
        }
        return n;
    }

    /**
     * Sessions with a live connection, of one role: {@link SessionStatus.Role#PARTICIPANT} (the sessions leases are
     * pinned to: writes and session-bound work need one) or {@link SessionStatus.Role#OBSERVER} (plain reads; while
     * none is connected reads go to the leases' sessions).
     *
     * @param role the role
     * @return the number of connected sessions of that role
     */
    public int connectedSessions(SessionStatus.Role role) {
        int n = 0;
        for (SessionStatus s : sessions) {
            if (s.connected() && s.role() == role) {
                n++;
            }
        }
        return n;
    }

    /**
     * Connected sessions whose server is in ZooKeeper's read-only mode ({@link SessionState#READ_ONLY}: the ensemble
     * allows it and this client reaches no majority): reads are served, writes fail with {@code NOTREADONLY}.
     *
     * @return the number of read-only sessions
     */
    public int readOnlySessions() {
        int n = 0;
        for (SessionStatus s : sessions) {
            if (s.connected() && s.state() == SessionState.READ_ONLY) {
                n++;
            }
        }
        return n;
    }

    /**
     * Sessions started and not closed (connected or reconnecting).
     *
     * @return the number of open sessions
     */
    public int openSessions() {
        int n = 0;
        for (SessionStatus s : sessions) {
            if (s.open()) {
                n++;
            }
        }
        return n;
    }

    /**
     * True while the circuit breaker refuses operations.
     *
     * @return true while the breaker is {@code OPEN} or {@code FORCED_OPEN}
     */
    public boolean isCircuitOpen() {
        return "OPEN".equals(circuitBreakerState) || "FORCED_OPEN".equals(circuitBreakerState);
    }
}
