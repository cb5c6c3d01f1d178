package dev.zksdk.hosts;

import dev.zksdk.ZkUnavailableException;
import java.time.Duration;

/**
 * Thrown when a new ZooKeeper session could not get a creation permit in time: the process is opening
 * sessions faster than {@code sessionCreationRate} allows. The limit protects the servers' accept queues
 * ({@code clientPortListenBacklog}); a process that keeps hitting it is opening sessions it should share.
 */
public final class SessionRateLimitedException extends ZkUnavailableException {

    private static final long serialVersionUID = 1L;

    /** The rate limit that was reached, sessions per second. */
    private final double permitsPerSecond;
    /** How long the caller waited. */
    private final Duration maxWait;

    /**
     * A session refused for want of a permit.
     *
     * @param permitsPerSecond the rate limit, sessions per second
     * @param maxWait how long the caller waited for a permit
     * @param cause the interrupt that ended the wait, or null
     */
    public SessionRateLimitedException(double permitsPerSecond, Duration maxWait, Throwable cause) {
        super(
                null,
                "new ZooKeeper session refused: sessionCreationRate=" + permitsPerSecond
                        + "/s gave no permit within sessionCreationMaxWait=" + maxWait
                        + "; share sessions (one pool per process) or raise sessionCreationRate",
                cause);
        this.permitsPerSecond = permitsPerSecond;
        this.maxWait = maxWait;
    }

    /**
     * The rate limit that was reached.
     *
     * @return sessions per second
     */
    public double permitsPerSecond() {
        return permitsPerSecond;
    }

    /**
     * How long the caller waited for a permit.
     *
     * @return the configured {@code sessionCreationMaxWait}
     */
    public Duration maxWait() {
        return maxWait;
    }
}
