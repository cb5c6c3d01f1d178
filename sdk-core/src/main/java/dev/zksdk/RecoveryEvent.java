package dev.zksdk;

import java.time.Duration;

/** The result of one ordered recovery after a new session replaced an expired one. */
public final class RecoveryEvent {

    private final String ensemble;
    private final long oldSessionId;
    private final long newSessionId;
    private final int ephemeralsRecreated;
    private final int watchesRearmed;
    private final Duration duration;
    private final boolean complete;

    /**
     * A recovery's result. The pool makes these; a test may make one to drive a {@link SessionListener}.
     *
     * @param ensemble the ensemble's connect string (no credentials)
     * @param oldSessionId the id of the expired session
     * @param newSessionId the id of the session that replaced it
     * @param ephemeralsRecreated how many owned ephemerals were re-created
     * @param watchesRearmed how many watches were re-armed
     * @param duration from the new session's connection to the end of recovery
     * @param complete false when some ephemeral could not be re-created yet
     */
    public RecoveryEvent(
            String ensemble,
            long oldSessionId,
            long newSessionId,
            int ephemeralsRecreated,
            int watchesRearmed,
            Duration duration,
            boolean complete) {
        this.ensemble = ensemble;
        this.oldSessionId = oldSessionId;
        this.newSessionId = newSessionId;
        this.ephemeralsRecreated = ephemeralsRecreated;
        this.watchesRearmed = watchesRearmed;
        this.duration = duration;
        this.complete = complete;
    }

    /**
     * The ensemble that recovered.
     *
     * @return the ensemble's connect string (no credentials)
     */
    public String ensemble() {
        return ensemble;
    }

    /**
     * The session that expired.
     *
     * @return the expired session's id
     */
    public long oldSessionId() {
        return oldSessionId;
    }

    /**
     * The session that replaced it and now holds the recovered ephemerals and watches.
     *
     * @return the new session's id
     */
    public long newSessionId() {
        return newSessionId;
    }

    /**
     * How many owned ephemerals this recovery re-created on the new session.
     *
     * @return the number re-created
     */
    public int ephemeralsRecreated() {
        return ephemeralsRecreated;
    }

    /**
     * How many watches (and caches' watches) this recovery re-armed on the new session.
     *
     * @return the number re-armed
     */
    public int watchesRearmed() {
        return watchesRearmed;
    }

    /**
     * How long recovery took.
     *
     * @return from the new session's connection to the end of recovery
     */
    public Duration duration() {
        return duration;
    }

    /**
     * Whether everything was recovered. When not, the pool keeps trying with the recovery backoff.
     *
     * @return false when some ephemeral could not be re-created yet (a conflict)
     */
    public boolean complete() {
        return complete;
    }

    @Override
    public String toString() {
        return "RecoveryEvent{" + ensemble + ", session 0x" + Long.toHexString(oldSessionId) + "->0x"
                + Long.toHexString(newSessionId) + ", ephemerals=" + ephemeralsRecreated + ", watches=" + watchesRearmed
                + ", took " + duration.toMillis() + " ms" + (complete ? "" : ", incomplete") + "}";
    }
}
