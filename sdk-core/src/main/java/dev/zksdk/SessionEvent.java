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

    /** The ensemble's connect string (no credentials). */
    public String ensemble() {
        return ensemble;
    }

    /** Which of the ensemble's pooled sessions this is, from 0. */
    public int sessionIndex() {
        return sessionIndex;
    }

    public SessionState previousState() {
        return previousState;
    }

    public SessionState state() {
        return state;
    }

    /** The session id before the change; 0 when there was none. */
    public long sessionIdBefore() {
        return sessionIdBefore;
    }

    /** The session id after the change; 0 when there is none (for example while suspended, the old id is kept). */
    public long sessionIdAfter() {
        return sessionIdAfter;
    }

    /** True when the session id did not change: a reconnect within the same session. */
    public boolean sameSession() {
        return sessionIdBefore != 0 && sessionIdBefore == sessionIdAfter;
    }

    /** True when a different, new session replaced an earlier one. */
    public boolean newSession() {
        return sessionIdAfter != 0 && sessionIdBefore != 0 && sessionIdBefore != sessionIdAfter;
    }

    /** The timeout the server granted, or null when not connected. */
    public Duration negotiatedTimeout() {
        return negotiatedTimeout;
    }

    /** The server connected to, {@code host:port}, or null. */
    public String server() {
        return server;
    }

    public Instant at() {
        return at;
    }

    /**
     * For a {@link SessionState#LOST} event: true when the pool declared the session expired on its own, once the
     * negotiated session timeout had passed since its last contact with the ensemble (no server could say so: none was
     * reachable); false when a server reported the expiry.
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
