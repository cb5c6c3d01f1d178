package dev.zksdk;

import dev.zksdk.internal.Limits;
import java.util.Objects;

/**
 * Opt-in batching of a lease's asynchronous operations (see {@link EnsembleConfig.Builder#asyncBatching}): per pooled
 * session, an asynchronous write or read is sent at once, as itself, while nothing the batcher sent on that session is
 * in flight; while something is, further operations queue, and when it completes the queue's head (at most
 * {@link #maxOps()} of them) goes as one {@code multi} (writes) or one {@code multiRead} (reads, ZooKeeper 3.6 or
 * later). One unit is in flight per session at a time, which keeps the lease's order; a synchronous call made while
 * operations are queued or in flight goes after them. An operation's timeout counts from its call, queued or not.
 * There is no timer: one operation in flight waits for nothing.
 *
 * <p>Each caller's future completes with its own result or its own exception, as if its operation had been sent alone.
 * A batch is atomic only as a transport: callers get no atomicity with each other (use {@link ZkLease#multiAsync} for
 * that). Immutable.
 */
public final class BatchingConfig {

    /** The fewest operations a batch may hold: with 1 there is nothing to batch. */
    public static final int MIN_OPS = 2;

    /** The most operations a batch may hold. */
    public static final int MAX_OPS = 10_000;

    /** The most operations per batch when only batching is asked for. */
    public static final int DEFAULT_MAX_OPS = 256;

    private final int maxOps;
    private final int maxBytes;

    private BatchingConfig(int maxOps, int maxBytes) {
        this.maxOps = maxOps;
        this.maxBytes = maxBytes;
    }

    /**
     * Batches of at most {@code maxOps} operations, each request at most the client's {@code jute.maxbuffer}.
     *
     * @param maxOps {@value #MIN_OPS} to {@value #MAX_OPS}
     * @return the config
     * @throws IllegalArgumentException when {@code maxOps} is out of range
     */
    public static BatchingConfig of(int maxOps) {
        return of(maxOps, Limits.maxBuffer());
    }

    /**
     * Batches of at most {@code maxOps} operations and {@code maxBytes} bytes of request (a batch that would be larger
     * is split; a server drops the connection of a request over its {@code jute.maxbuffer}).
     *
     * @param maxOps {@value #MIN_OPS} to {@value #MAX_OPS}
     * @param maxBytes 1,024 bytes up to the client's {@code jute.maxbuffer}
     * @return the config
     * @throws IllegalArgumentException when a value is out of range
     */
    public static BatchingConfig of(int maxOps, int maxBytes) {
        if (maxOps < MIN_OPS || maxOps > MAX_OPS) {
            throw new IllegalArgumentException(
                    "asyncBatching maxOps must be " + MIN_OPS + " to " + MAX_OPS + ", was " + maxOps);
        }
        int limit = Limits.maxBuffer();
        if (maxBytes < 1024 || maxBytes > limit) {
            throw new IllegalArgumentException("asyncBatching maxBytes must be 1024 up to the client's jute.maxbuffer ("
                    + limit + "), was " + maxBytes);
        }
        return new BatchingConfig(maxOps, maxBytes);
    }

    /**
     * The most operations one batch holds.
     *
     * @return {@value #MIN_OPS} to {@value #MAX_OPS}
     */
    public int maxOps() {
        return maxOps;
    }

    /**
     * The largest request one batch makes, in bytes as sent.
     *
     * @return at most the client's {@code jute.maxbuffer}
     */
    public int maxBytes() {
        return maxBytes;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof BatchingConfig
                && ((BatchingConfig) o).maxOps == maxOps
                && ((BatchingConfig) o).maxBytes == maxBytes;
    }

    @Override
    public int hashCode() {
        return Objects.hash(maxOps, maxBytes);
    }

    @Override
    public String toString() {
        return "BatchingConfig{maxOps=" + maxOps + ", maxBytes=" + maxBytes + "}";
    }
}
