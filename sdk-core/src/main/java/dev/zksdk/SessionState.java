package dev.zksdk;

/** The state of one pooled session, as listeners see it. */
public enum SessionState {
    /** Not yet connected for the first time. */
    CONNECTING,
    /** Connected for the first time. */
    CONNECTED,
    /**
     * The connection was lost; the session may still be alive on the server, or may already have expired there.
     * Ownership of ephemerals (locks, leadership, registrations) is unknown: stop acting as owner until
     * {@link #RECONNECTED}. The server can delete the session's ephemerals before the client learns of it.
     */
    SUSPENDED,
    /** Connected again: {@link SessionEvent#sameSession()} says whether the session survived or a new one replaced it. */
    RECONNECTED,
    /**
     * The session is gone: a server reported it expired, or the pool declared it expired because the negotiated session
     * timeout passed since its last contact with any server (when the servers expire it; {@link
     * SessionEvent#detectedByClient()}).
     */
    LOST,
    /** Connected to a read-only server. */
    READ_ONLY,
    /** Closed by the pool. */
    CLOSED
}
