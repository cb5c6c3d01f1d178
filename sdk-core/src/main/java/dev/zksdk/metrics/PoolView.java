package dev.zksdk.metrics;

import dev.zksdk.PoolStats;
import dev.zksdk.hosts.SessionCreationLimiter;

/** What a {@link MetricsTracker} can read of its pool at any time. Thread-safe; reads never block on the network. */
public interface PoolView {

    /**
     * The pool's name ({@link dev.zksdk.ZkSessionPool.Builder#name(String)}); the {@code pool} tag of its meters.
     *
     * @return the pool's name
     */
    String name();

    /**
     * A fresh snapshot of sessions, leases and connections.
     *
     * @return the statistics at this moment
     */
    PoolStats stats();

    /**
     * The process-wide limiter the pool's new sessions take a permit from (shared with every pool of the same rate), or
     * null when the pool has none.
     *
     * @return the limiter, or null
     */
    default SessionCreationLimiter sessionCreationLimiter() {
        return null;
    }

    /**
     * Callbacks dropped or replaced (a watch listener's queue by one RESYNC) because a listener was too slow to keep up,
     * since the pool started; -1 when this view cannot tell.
     *
     * @return the number of overflowed callbacks, or -1
     */
    default long callbackOverflows() {
        return -1;
    }
}
