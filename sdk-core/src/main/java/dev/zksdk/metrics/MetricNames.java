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
 * The names and tags of the SDK's meters, in Micrometer's dotted style. Every tag is low-cardinality: pool name,
 * ensemble (its servers), server ({@code host:port}), operation, outcome, session state. No path, session id or
 * credential is ever a tag.
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
    /** ZooKeeper sessions established, replacements after expiry included. Counter; tags: pool, ensemble. */
    public static final String SESSIONS_OPENED = "zksdk.sessions.opened";
    /** Connected sessions per server. Gauge; tags: pool, ensemble, server. */
    public static final String CONNECTIONS = "zksdk.connections";
    /** Sessions found expired and replaced by a new one. Counter; tags: pool, ensemble. */
    public static final String SESSION_EXPIRATIONS = "zksdk.session.expirations";
    /** Connections re-established. Counter; tags: pool, ensemble, session ({@code same} or {@code new}). */
    public static final String SESSION_RECONNECTS = "zksdk.session.reconnects";
    /** The session timeout asked for. Time gauge; tags: pool, ensemble. */
    public static final String SESSION_TIMEOUT_REQUESTED = "zksdk.session.timeout.requested";
    /** The session timeout the server granted (largest of the ensemble's sessions). Time gauge; tags: pool, ensemble. */
    public static final String SESSION_TIMEOUT_NEGOTIATED = "zksdk.session.timeout.negotiated";
    /** Sessions whose timeout the server clamped. Counter; tags: pool, ensemble. */
    public static final String SESSION_TIMEOUT_CLAMPED = "zksdk.session.timeout.clamped";
    /** The ordered recovery after a new session. Timer; tags: pool, ensemble, outcome (complete, incomplete). */
    public static final String RECOVERY_DURATION = "zksdk.recovery.duration";
    /** Ephemerals the pool keeps alive. Gauge; tags: pool, ensemble. */
    public static final String EPHEMERALS_OWNED = "zksdk.ephemerals.owned";
    /** Owned ephemerals missing on the server that could not be re-created yet (gauge, per ensemble). */
    public static final String EPHEMERALS_MISSING = "zksdk.ephemerals.missing";
    /** Owned ephemerals found taken by another live session during recovery. Counter; tags: pool. */
    public static final String EPHEMERAL_CONFLICTS = "zksdk.ephemeral.conflicts";
    /** Lease operations, retries included. Timer; tags: pool, ensemble, op, outcome. */
    public static final String OPERATIONS = "zksdk.operations";
    /** Retries of lease operations (attempts after the first). Counter; tags: pool, ensemble, op. */
    public static final String OPERATION_RETRIES = "zksdk.operation.retries";
    /** Waits for a session-creation permit (0 when one was free). Function timer; tags: rate. */
    public static final String SESSION_CREATION_WAIT = "zksdk.session.creation.wait";
    /** Session creations refused for want of a permit within the max wait. Function counter; tags: rate. */
    public static final String SESSION_CREATION_REFUSED = "zksdk.session.creation.refused";

    public static final String TAG_POOL = "pool";
    public static final String TAG_ENSEMBLE = "ensemble";
    public static final String TAG_SERVER = "server";
    public static final String TAG_OPERATION = "op";
    public static final String TAG_OUTCOME = "outcome";
    public static final String TAG_STATE = "state";
    public static final String TAG_SESSION = "session";

    public static final String OUTCOME_SUCCESS = "success";

    private MetricNames() {}

    /**
     * The {@code ensemble} tag of a connect string: its servers, without the chroot (a chroot is a path, and paths are
     * never tags). {@code "zk1:2181,zk2:2181/app"} becomes {@code "zk1:2181,zk2:2181"}.
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
