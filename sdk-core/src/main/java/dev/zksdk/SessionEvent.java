package dev.zksdk;

import java.time.Duration;
import java.time.Instant;

/**
 * A change of one pooled session's state. Unlike a bare new state it carries what came before: the previous state and
 * the session id before and after, so a listener can tell a reconnect within the same session (nothing lost) from a
 * replacement session (ephemerals and watches of the old one are gone; the pool recovers its own).
 */
public final class SessionEvent {

    private final String ensemble;
    private final int sessionIndex;
    private final SessionState previousState;
    private final SessionState state;
    private final long sessionIdBefore;
    private final long sessionIdAfter;
    private final Duration negotiatedTimeout;
    private final String server;
    private final Instant at;
    private final boolean detectedByClient;

    /**
     * An event the pool's server heard of (not {@linkplain #detectedByClient() detected by the client}). The pool
     * makes these; a test may make one to drive a {@link SessionListener}.
     *
     * @param ensemble the ensemble's connect string, without credentials
     * @param sessionIndex which of the ensemble's pooled sessions, from 0
     * @param previousState the state before the change
     * @param state the state after the change
     * @param sessionIdBefore the session id before the change, 0 when there was none
     * @param sessionIdAfter the session id after the change, 0 when there is none
     * @param negotiatedTimeout the timeout the server granted, or null when not connected
     * @param server the server connected to, {@code host:port}, or null
     * @param at when the change happened
     */
    public SessionEvent(
            String ensemble,
            int sessionIndex,
            SessionState previousState,
            SessionState state,
            long sessionIdBefore,
            long sessionIdAfter,
            Duration negotiatedTimeout,
            String server,
            Instant at) {
        this(
                ensemble,
                sessionIndex,
                previousState,
                state,
                sessionIdBefore,
                sessionIdAfter,
                negotiatedTimeout,
                server,
                at,
                false);
    }

    /**
     * An event, saying whether the pool or a server detected an expiry.
     *
     * @param ensemble the ensemble's connect string, without credentials
     * @param sessionIndex which of the ensemble's pooled sessions, from 0
     * @param previousState the state before the change
     * @param state the state after the change
     * @param sessionIdBefore the session id before the change, 0 when there was none
     * @param sessionIdAfter the session id after the change, 0 when there is none
     * @param negotiatedTimeout the timeout the server granted, or null when not connected
     * @param server the server connected to, {@code host:port}, or null
     * @param at when the change happened
     * @param detectedByClient for {@link SessionState#LOST}: the pool declared the session expired itself, because the
     *     session timeout had passed since its last contact with the ensemble (the server expires it then), rather than
     *     hearing it from a server
     */
    public SessionEvent(
            String ensemble,
            int sessionIndex,
            SessionState previousState,
            SessionState state,
            long sessionIdBefore,
            long sessionIdAfter,
            Duration negotiatedTimeout,
            String server,
            Instant at,
            boolean detectedByClient) {
        this.detectedByClient = detectedByClient;
        this.ensemble = ensemble;
        this.sessionIndex = sessionIndex;
        this.previousState = previousState;
        this.state = state;
        this.sessionIdBefore = sessionIdBefore;
        this.sessionIdAfter = sessionIdAfter;
        this.negotiatedTimeout = negotiatedTimeout;
        this.server = server;
        this.at = at;
    }

    /**
     * The ensemble whose session changed.
     *
     * @return the ensemble's connect string (no credentials)
     */
    public String ensemble() {
        return ensemble;
    }

    /**
     * Which of the ensemble's pooled sessions changed.
     *
     * @return the session's index, from 0
     */
    public int sessionIndex() {
        return sessionIndex;
    }

    /**
     * The state the session was in before this change.
     *
     * @return the previous state
     */
    public SessionState previousState() {
        return previousState;
    }

    /**
     * The state the session is in after this change.
     *
     * @return the new state
     */
    public SessionState state() {
        return state;
    }

    /**
     * The session id before the change.
     *
     * @return the id, or 0 when there was none
     */
    public long sessionIdBefore() {
        return sessionIdBefore;
    }

    /**
     * The session id after the change (while suspended, the old id is kept).
     *
     * @return the id, or 0 when there is none
     */
    public long sessionIdAfter() {
        return sessionIdAfter;
    }

    /**
     * Whether this is a reconnect within the same session: nothing of the session was lost.
     *
     * @return true when both ids are set and equal
     */
    public boolean sameSession() {
        return sessionIdBefore != 0 && sessionIdBefore == sessionIdAfter;
    }

    /**
     * Whether a different, new session replaced an earlier one: the old session's ephemerals and watches are gone
     * (the pool recovers its own).
     *
     * @return true when both ids are set and differ
     */
    public boolean newSession() {
        return sessionIdAfter != 0 && sessionIdBefore != 0 && sessionIdBefore != sessionIdAfter;
    }

    /**
     * The session timeout the server granted.
     *
     * @return the negotiated timeout, or null when not connected
     */
    public Duration negotiatedTimeout() {
        return negotiatedTimeout;
    }

    /**
     * The server the session is connected to after the change.
     *
     * @return {@code host:port}, or null when not connected
     */
    public String server() {
        return server;
    }

    /**
     * When the change happened, by the pool's clock.
     *
     * @return the instant of the change
     */
    public Instant at() {
        return at;
    }

    /**
     * For a {@link SessionState#LOST} event: true when the pool declared the session expired on its own, once the
     * negotiated session timeout had passed since its last contact with the ensemble (no server could say so: none was
     * reachable); false when a server reported the expiry.
     *
     * @return whether the pool, rather than a server, detected the expiry
     */
    public boolean detectedByClient() {
        return detectedByClient;
    }

    @Override
    public String toString() {
        return "SessionEvent{" + ensemble + "#" + sessionIndex + " " + previousState + "->" + state + ", session 0x"
                + Long.toHexString(sessionIdBefore) + "->0x" + Long.toHexString(sessionIdAfter)
                + (sameSession() ? " (same)" : newSession() ? " (new)" : "") + ", server=" + server
                + ", negotiatedTimeout="
                + negotiatedTimeout + (detectedByClient ? ", detected by the client" : "") + "}";
    }
}
