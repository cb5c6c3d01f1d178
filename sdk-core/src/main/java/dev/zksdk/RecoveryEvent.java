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

    public String ensemble() {
        return ensemble;
    }

    public long oldSessionId() {
        return oldSessionId;
    }

    public long newSessionId() {
        return newSessionId;
    }

    public int ephemeralsRecreated() {
        return ephemeralsRecreated;
    }

    public int watchesRearmed() {
        return watchesRearmed;
    }

    /** From the new session's connection to the end of recovery. */
    public Duration duration() {
        return duration;
    }

    /** False when some ephemeral could not be re-created yet (a conflict); the pool keeps trying. */
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
