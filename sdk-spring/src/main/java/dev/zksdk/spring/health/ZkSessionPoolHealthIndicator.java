package dev.zksdk.spring.health;

import dev.zksdk.PoolStats;
import dev.zksdk.ZkSessionPool;
import dev.zksdk.metrics.EnsembleStatus;
import dev.zksdk.metrics.SessionStatus;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.springframework.boot.health.contributor.AbstractHealthIndicator;
import org.springframework.boot.health.contributor.Health;

/**
 * The health of a {@link ZkSessionPool}, from {@link ZkSessionPool#ensembles()}: no network call is made.
 *
 * <ul>
 *   <li>UP when every ensemble the pool uses has a connected session and a closed (or half-open) circuit breaker;</li>
 *   <li>DOWN, with a {@code reason}, when an ensemble has no connected session (connection suspended, session lost,
 *       still connecting), its circuit breaker is open (operations fail fast), or an owned ephemeral is missing on the
 *       server and could not be re-created (the registration this service announces is not there; the pool keeps
 *       trying);</li>
 *   <li>UP, with a {@code readOnly} detail, when a connected session of an ensemble is read-only
 *       ({@link dev.zksdk.EnsembleConfig#canBeReadOnly()}: the pool reaches no majority of the servers): reads are
 *       served, writes fail with {@code NOTREADONLY} until a read-write server is reached;</li>
 *   <li>while no ensemble was leased yet (sessions open on the first lease): DOWN when a connection is expected
 *       ({@code zksdk.connect-on-startup}), so that a readiness group with {@code zksdk} is not UP before the pool
 *       has ever connected; UNKNOWN otherwise (a lazy pool has not tried yet). A pool that tried and has not
 *       connected lists its ensemble, and is DOWN.</li>
 * </ul>
 *
 * <p>Details: the pool's open sessions and active leases, and per ensemble (keyed by connect string) its sessions'
 * state, session id in hex, negotiated timeout and connected server, the sessions that are down while others are
 * connected ({@code sessionsDown}), its open sessions, circuit-breaker state, owned and missing ephemerals. With
 * sessions on observers ({@link dev.zksdk.EnsembleConfig#readsFromObservers()}): DOWN when only observer sessions are
 * connected (writes and session-bound work need a participant), UP with {@code connectedObserverSessions} 0 while the
 * observer sessions are down (reads go to the participant sessions), and each observer session marked
 * {@code role: observer}. Never a credential.
 */
public class ZkSessionPoolHealthIndicator extends AbstractHealthIndicator {

    private final ZkSessionPool pool;
    private final boolean connectionExpected;

    /**
     * A health indicator that reports UNKNOWN until the pool's first lease.
     *
     * @param pool the pool to report on
     */
    public ZkSessionPoolHealthIndicator(ZkSessionPool pool) {
        this(pool, false);
    }

    /**
     * A health indicator of {@code pool}.
     *
     * @param pool the pool to report on
     * @param connectionExpected whether the pool is expected to have connected ({@code zksdk.connect-on-startup}):
     *     then a pool that has not leased any ensemble yet is DOWN, not UNKNOWN
     */
    public ZkSessionPoolHealthIndicator(ZkSessionPool pool, boolean connectionExpected) {
        super("ZooKeeper session pool health check failed");
        this.pool = pool;
        this.connectionExpected = connectionExpected;
    }

    @Override
    protected void doHealthCheck(Health.Builder builder) {
        List<EnsembleStatus> ensembles = pool.ensembles();
        PoolStats stats = pool.stats();
        builder.withDetail("openSessions", stats.openSessions()).withDetail("activeLeases", stats.activeLeases());
        if (ensembles.isEmpty()) {
            if (connectionExpected) {
                builder.down()
                        .withDetail(
                                "reason",
                                "not connected yet: zksdk.connect-on-startup is set and no session to "
                                        + pool.defaultEnsemble().servers() + " has connected");
            } else {
                builder.unknown().withDetail("reason", "no ensemble leased yet: sessions open on the first lease");
            }
            return;
        }
        List<String> reasons = new ArrayList<>();
        List<String> readOnly = new ArrayList<>();
        Map<String, Object> details = new LinkedHashMap<>();
        for (EnsembleStatus ensemble : ensembles) {
            if (ensemble.readOnlySessions() > 0) {
                readOnly.add(ensemble.readOnlySessions() + " session(s) to " + ensemble.connectString()
                        + " on a read-only server (no majority reachable): reads served, writes fail with NOTREADONLY");
            }
            if (!ensemble.isConnected()) {
                reasons.add("no connected session to " + ensemble.connectString() + " (" + states(ensemble) + ")");
            } else if (ensemble.connectedSessions(SessionStatus.Role.PARTICIPANT) == 0) {
                reasons.add("no connected session to a participant of " + ensemble.connectString()
                        + ": only observer sessions are connected, writes and session-bound work fail ("
                        + states(ensemble) + ")");
            }
            if (ensemble.isCircuitOpen()) {
                reasons.add("the circuit breaker for " + ensemble.connectString() + " is open: operations fail fast");
            }
            if (ensemble.missingEphemerals() > 0) {
                reasons.add(ensemble.missingEphemerals() + " owned ephemeral(s) on " + ensemble.connectString()
                        + " missing on the server and not re-created yet (see the pool's onEphemeralMissing events)");
            }
            details.put(ensemble.connectString(), describe(ensemble));
        }
        if (reasons.isEmpty()) {
            builder.up();
        } else {
            builder.down().withDetail("reason", String.join("; ", reasons));
        }
        if (!readOnly.isEmpty()) {
            builder.withDetail("readOnly", String.join("; ", readOnly));
        }
        builder.withDetail("ensembles", details);
    }

    private static String states(EnsembleStatus ensemble) {
        List<String> states = new ArrayList<>();
        for (SessionStatus s : ensemble.sessions()) {
            states.add("session " + s.index() + (s.role() == SessionStatus.Role.OBSERVER ? " (observer)" : "") + ": "
                    + s.state());
        }
        return String.join(", ", states);
    }

    private static boolean hasObserverSessions(EnsembleStatus ensemble) {
        for (SessionStatus s : ensemble.sessions()) {
            if (s.role() == SessionStatus.Role.OBSERVER) {
                return true;
            }
        }
        return false;
    }

    private static Map<String, Object> describe(EnsembleStatus ensemble) {
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("openSessions", ensemble.openSessions());
        d.put("connectedSessions", ensemble.connectedSessions());
        if (hasObserverSessions(ensemble)) {
            // Observer sessions down: reads go to the participant sessions meanwhile (UP, but worth seeing).
            d.put("connectedObserverSessions", ensemble.connectedSessions(SessionStatus.Role.OBSERVER));
        }
        if (ensemble.readOnlySessions() > 0) {
            d.put("readOnlySessions", ensemble.readOnlySessions());
        }
        d.put("circuitBreaker", ensemble.circuitBreakerState());
        List<String> down = new ArrayList<>();
        for (SessionStatus s : ensemble.sessions()) {
            if (s.open() && !s.connected()) {
                down.add("session " + s.index() + ": " + s.state());
            }
        }
        if (!down.isEmpty()) {
            // Leases go to the connected sessions meanwhile; listed so that a partial outage shows before it is total.
            d.put("sessionsDown", down);
        }
        d.put("ownedEphemerals", ensemble.ownedEphemerals());
        d.put("missingEphemerals", ensemble.missingEphemerals());
        d.put("requestedSessionTimeout", ensemble.requestedSessionTimeout().toString());
        List<Map<String, Object>> sessions = new ArrayList<>();
        for (SessionStatus s : ensemble.sessions()) {
            Map<String, Object> session = new LinkedHashMap<>();
            session.put("state", s.state().name());
            if (s.role() == SessionStatus.Role.OBSERVER) {
                session.put("role", "observer");
            }
            session.put("sessionId", s.sessionIdHex());
            if (s.negotiatedTimeout() != null) {
                session.put("negotiatedTimeout", s.negotiatedTimeout().toString());
            }
            if (s.server() != null) {
                session.put("server", s.server());
            }
            sessions.add(session);
        }
        d.put("sessions", sessions);
        return d;
    }
}
