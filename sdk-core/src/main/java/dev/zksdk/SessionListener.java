package dev.zksdk;

import java.time.Duration;

/**
 * Told of session changes and recoveries. Each listener is called on the pool's callback threads (never ZooKeeper's
 * threads nor the recovery's), one call at a time and in order, so it may call back into the pool, a lease or an
 * {@link EphemeralNode}. A listener that blocks delays only its own later calls, as long as fewer session
 * listeners of the pool block at once than it has callback threads for them (16; each ensemble's watch, cache,
 * ephemeral, election and lock listeners have 16 of their own); when 10,000 are queued for it,
 * newer ones are dropped (and counted) until it catches up. Every method has a no-op default.
 */
public interface SessionListener {

    /**
     * A session changed state.
     *
     * @param event the change, with the previous state and the session ids before and after
     */
    default void onStateChange(SessionEvent event) {}

    /**
     * The server granted a different session timeout than was requested (its min/max session timeout clamped it).
     *
     * @param ensemble the ensemble's connect string (no credentials)
     * @param requested the session timeout the pool asked for
     * @param negotiated the session timeout the server granted
     */
    default void onTimeoutClamped(String ensemble, Duration requested, Duration negotiated) {}

    /**
     * A new session finished its ordered recovery (ephemerals re-created, watches re-armed).
     *
     * @param event what was recovered, and whether all of it was
     */
    default void onRecovered(RecoveryEvent event) {}

    /**
     * An owned ephemeral could not be re-created because a node at its path belongs to another live session. The pool
     * does not take it over; it retries until that node goes away or the ephemeral is closed.
     *
     * @param path the ephemeral's path
     * @param ownerSessionId the id of the session that owns the node there
     */
    default void onEphemeralConflict(String path, long ownerSessionId) {}

    /**
     * An owned ephemeral is missing on the server and could not be re-created: {@code cause} says why (its code:
     * {@code NOAUTH} after an ACL change, {@code NONODE} when its parent keeps disappearing, {@code NODEEXISTS} for
     * another owner's node or this pool's expired session's node that the server has not removed yet). The pool keeps
     * trying with backoff; the ensemble's status counts it as missing until {@link #onEphemeralRestored} follows. Told
     * once per cause.
     *
     * @param path the ephemeral's path
     * @param cause the last failure, with its ZooKeeper code
     */
    default void onEphemeralMissing(String path, ZkException cause) {}

    /**
     * An owned ephemeral reported missing exists again, owned by the live session.
     *
     * @param path the ephemeral's path
     */
    default void onEphemeralRestored(String path) {}
}
