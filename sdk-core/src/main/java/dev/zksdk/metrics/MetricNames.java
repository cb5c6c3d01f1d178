package dev.zksdk.metrics;

import dev.zksdk.ZkException;
import dev.zksdk.ZkInterruptedException;
import dev.zksdk.ZkUnavailableException;
import io.github.resilience4j.bulkhead.BulkheadFullException;
import io.github.resilience4j.circuitbreaker.CallNotPermittedException;
import java.util.Locale;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;

/**
 * The names and tags of the SDK's meters, in Micrometer's dotted style, one root per noun ({@code zksdk.sessions.*},
 * {@code zksdk.operations.*}, {@code zksdk.ephemerals.*}, {@code zksdk.hosts.*}, ...). Every tag is low-cardinality:
 * pool name, ensemble (its alias, {@link dev.zksdk.EnsembleConfig#alias()}), server ({@code host:port}), operation,
 * outcome, session state. No path, session id or credential is ever a tag (the path of an operation is only a
 * high-cardinality key value of its {@code Observation}, {@link #KEY_PATH}). The README's "Meters" table lists every
 * meter with its type, unit and tags; a test compares it with a registry after real traffic.
 */
public final class MetricNames {

    /** Leases handed out and not yet closed. Gauge; tags: pool. */
    public static final String LEASES_ACTIVE = "zksdk.leases.active";
    /** Ensembles whose circuit breaker is in each state (gauge, tag {@code state}). */
    public static final String BREAKER_STATE = "zksdk.breaker.state";
    /** The breaker's failure rate in percent, the highest of the tag's ensembles; NaN while too few calls (gauge). */
    public static final String BREAKER_FAILURE_RATE = "zksdk.breaker.failure.rate";
    /** Calls in the breaker's window (gauge, tag {@code kind}: {@code buffered}, {@code failed}). */
    public static final String BREAKER_CALLS = "zksdk.breaker.calls";
    /** Calls the open breaker refused (function counter). */
    public static final String BREAKER_NOT_PERMITTED = "zksdk.breaker.not.permitted.calls";
    /** The in-flight limit (gauge). */
    public static final String BULKHEAD_MAX = "zksdk.bulkhead.max.calls";
    /** In-flight slots free now (gauge). */
    public static final String BULKHEAD_AVAILABLE = "zksdk.bulkhead.available.calls";
    /**
     * Calls by how retries went (function counter, tag {@code kind}: {@code successful_without_retry},
     * {@code successful_with_retry}, {@code failed_with_retry}, {@code failed_without_retry}).
     */
    public static final String RETRY_CALLS = "zksdk.retry.calls";
    /** Tag of {@link #BREAKER_CALLS} and {@link #RETRY_CALLS}. */
    public static final String TAG_KIND = "kind";
    /** Listener callbacks dropped or replaced by a RESYNC because the listener's queue was full (function counter). */
    public static final String CALLBACK_OVERFLOWS = "zksdk.callbacks.overflows";
    /** Sessions started and not closed (connected or reconnecting). Gauge; tags: pool, ensemble. */
    public static final String SESSIONS_OPEN = "zksdk.sessions.open";
    /** Sessions in each state. Gauge; tags: pool, ensemble, state (lower-case {@link dev.zksdk.SessionState}). */
    public static final String SESSIONS_STATE = "zksdk.sessions.state";
    /**
     * Connected sessions by role: {@code participant} (the sessions leases are pinned to) and {@code observer} (plain
     * reads, {@link dev.zksdk.EnsembleConfig.Builder#readsFromObservers(int)}; 0 without). Gauge; tags: pool, ensemble,
     * role.
     */
    public static final String SESSIONS_CONNECTED = "zksdk.sessions.connected";
    /** ZooKeeper sessions established, replacements after expiry included. Counter; tags: pool, ensemble. */
    public static final String SESSIONS_OPENED = "zksdk.sessions.opened";
    /** Connected sessions per server. Gauge; tags: pool, ensemble, server. */
    public static final String CONNECTIONS = "zksdk.connections";
    /** Sessions found expired and replaced by a new one. Counter; tags: pool, ensemble. */
    public static final String SESSION_EXPIRATIONS = "zksdk.sessions.expirations";
    /** Connections re-established. Counter; tags: pool, ensemble, session ({@code same} or {@code new}). */
    public static final String SESSION_RECONNECTS = "zksdk.sessions.reconnects";
    /** The session timeout asked for. Time gauge; tags: pool, ensemble. */
    public static final String SESSION_TIMEOUT_REQUESTED = "zksdk.sessions.timeout.requested";
    /** The session timeout the server granted (largest of the ensemble's sessions). Time gauge; tags: pool, ensemble. */
    public static final String SESSION_TIMEOUT_NEGOTIATED = "zksdk.sessions.timeout.negotiated";
    /** Sessions whose timeout the server clamped. Counter; tags: pool, ensemble. */
    public static final String SESSION_TIMEOUT_CLAMPED = "zksdk.sessions.timeout.clamped";
    /** The ordered recovery after a new session. Timer; tags: pool, ensemble, outcome (complete, incomplete). */
    public static final String RECOVERY_DURATION = "zksdk.recovery.duration";
    /** Ephemerals the pool keeps alive. Gauge; tags: pool, ensemble. */
    public static final String EPHEMERALS_OWNED = "zksdk.ephemerals.owned";
    /** Owned ephemerals missing on the server that could not be re-created yet (gauge, per ensemble). */
    public static final String EPHEMERALS_MISSING = "zksdk.ephemerals.missing";
    /** Owned ephemerals found taken by another live session during recovery. Counter; tags: pool. */
    public static final String EPHEMERAL_CONFLICTS = "zksdk.ephemerals.conflicts";
    /**
     * Lease operations, retries included: the timer of the operation's {@code Observation} (its name). Tags: pool,
     * ensemble, operation, outcome, error (the exception's simple class name, {@code none} on success). With an
     * {@code ObservationRegistry} the registry's {@code DefaultMeterObservationHandler} records it (and
     * {@link #OPERATIONS_ACTIVE}); without one the Micrometer binding records the same timer itself.
     */
    public static final String OPERATIONS = "zksdk.operations";
    /**
     * Operations in flight: the long task timer {@code DefaultMeterObservationHandler} keeps for the operations'
     * observations (only with an {@code ObservationRegistry}). Tags: pool, ensemble, operation.
     */
    public static final String OPERATIONS_ACTIVE = "zksdk.operations.active";
    /** Retries of lease operations (attempts after the first). Counter; tags: pool, ensemble, operation. */
    public static final String OPERATION_RETRIES = "zksdk.operations.retries";
    /**
     * Batches of asynchronous operations sent as one request (count: batches; total: operations; max: the largest).
     * Distribution summary; tags: pool, ensemble, kind ({@code write} or {@code read}).
     */
    public static final String BATCHES = "zksdk.batches";
    /** Waits for a session-creation permit (0 when one was free). Function timer; tags: rate. */
    public static final String SESSION_CREATION_WAIT = "zksdk.sessions.creation.wait";
    /** Session creations refused for want of a permit within the max wait. Function counter; tags: rate. */
    public static final String SESSION_CREATION_REFUSED = "zksdk.sessions.creation.refused";
    /** Servers handed to ZooKeeper to connect to by the ensemble's host selection. Function counter; tags: pool, ensemble. */
    public static final String HOSTS_CONNECT_ATTEMPTS = "zksdk.hosts.connect.attempts";
    /** Connect attempts that ended without a connection (and servers reported failed). Function counter; tags: pool, ensemble. */
    public static final String HOSTS_CONNECT_FAILURES = "zksdk.hosts.connect.failures";
    /** Servers whose name did not resolve when a session was to connect to them. Function counter; tags: pool, ensemble. */
    public static final String HOSTS_RESOLVE_FAILURES = "zksdk.hosts.resolve.failures";
    /**
     * Connections dropped, their session kept, because the server sent nothing at all while requests waited for the
     * hung-server bound (the session resumes on another server). Function counter; tags: pool, ensemble.
     */
    public static final String HOSTS_HUNG_DROPS = "zksdk.hosts.hung.drops";
    /**
     * Sessions moved, their id kept, from a more loaded server to a less loaded healthy one after a failover
     * (rebalancing). Function counter; tags: pool, ensemble.
     */
    public static final String HOSTS_REBALANCE_MOVES = "zksdk.hosts.rebalance.moves";
    /**
     * Sessions of the pool connected now to a server outside the client's zone (fallback sessions; 0 without a client
     * zone). Gauge; tags: pool, ensemble.
     */
    public static final String HOSTS_ZONE_FALLBACK_SESSIONS = "zksdk.hosts.zone.fallback.sessions";
    /** Servers of the ensemble quarantined now after failing to connect. Gauge; tags: pool, ensemble. */
    public static final String HOSTS_QUARANTINED = "zksdk.hosts.quarantined";

    /** The pool's name ({@link dev.zksdk.ZkSessionPool.Builder#name(String)}). */
    public static final String TAG_POOL = "pool";
    /** The ensemble's alias ({@link dev.zksdk.EnsembleConfig#alias()}). */
    public static final String TAG_ENSEMBLE = "ensemble";
    /** A server, {@code host:port} as in the connect string. */
    public static final String TAG_SERVER = "server";
    /** The operation's name ({@code getData}, {@code create}, ...); was {@code op} before 0.1. */
    public static final String TAG_OPERATION = "operation";

    /** How an operation ended; see {@link #outcome(Throwable)}. */
    public static final String TAG_OUTCOME = "outcome";
    /** The failure's exception class ({@code none} on success), as Micrometer's observation handler tags a timer. */
    public static final String TAG_ERROR = "error";

    /** A session's or a circuit breaker's state, in lower case, such as {@code connected} or {@code half_open}. */
    public static final String TAG_STATE = "state";
    /** Tag of {@link #SESSIONS_CONNECTED}: lower-case {@link dev.zksdk.metrics.SessionStatus.Role}. */
    public static final String TAG_ROLE = "role";
    /** Whether a reconnect kept its session ({@code same}) or came with a new one ({@code new}). */
    public static final String TAG_SESSION = "session";
    /** High-cardinality key value of an operation's observation (spans only, never a meter tag): the node's path. */
    public static final String KEY_PATH = "path";

    /** The {@code outcome} of an operation that succeeded. */
    public static final String OUTCOME_SUCCESS = "success";

    private MetricNames() {}

    /**
     * The servers of a connect string, without the chroot (a chroot is a path, and paths are never tags).
     * {@code "zk1:2181,zk2:2181/app"} becomes {@code "zk1:2181,zk2:2181"}. No longer the {@code ensemble} tag: that is
     * the ensemble's alias ({@link dev.zksdk.EnsembleConfig#alias()}).
     *
     * @param connectString a connect string, with or without a chroot
     * @return its servers, comma-separated
     */
    public static String ensembleTag(String connectString) {
        if (connectString == null) {
            return "none";
        }
        int slash = connectString.indexOf('/');
        return slash < 0 ? connectString : connectString.substring(0, slash);
    }

    /**
     * The {@code outcome} tag of a finished operation: {@code success}; {@code circuit_open} (refused by the open
     * breaker); {@code bulkhead_full} (too many in flight); {@code unavailable} (no connected session in time);
     * {@code interrupted}; the lower-case ZooKeeper code for every other {@link ZkException} ({@code nonode},
     * {@code nodeexists}, {@code badversion}, {@code connectionloss}, {@code sessionexpired}, ...); {@code error}
     * for anything else.
     *
     * @param failure what failed the operation, or null when it succeeded
     * @return the tag's value
     */
    public static String outcome(Throwable failure) {
        Throwable e = failure;
        while ((e instanceof CompletionException || e instanceof ExecutionException) && e.getCause() != null) {
            e = e.getCause();
        }
        if (e == null) {
            return OUTCOME_SUCCESS;
        }
        if (e instanceof ZkUnavailableException) {
            if (e.getCause() instanceof CallNotPermittedException) {
                return "circuit_open";
            }
            if (e.getCause() instanceof BulkheadFullException) {
                return "bulkhead_full";
            }
            return "unavailable";
        }
        if (e instanceof ZkInterruptedException) {
            return "interrupted";
        }
        if (e instanceof ZkException) {
            return ((ZkException) e).code().name().toLowerCase(Locale.ROOT);
        }
        return "error";
    }
}
