package dev.zksdk.internal.cache;

import com.github.benmanes.caffeine.cache.RemovalCause;
import com.github.benmanes.caffeine.cache.stats.CacheStats;
import com.github.benmanes.caffeine.cache.stats.ConcurrentStatsCounter;
import com.github.benmanes.caffeine.cache.stats.StatsCounter;

/**
 * A cache's statistics. Hits, misses and evictions come from Caffeine; loads are recorded by the cache itself. A load
 * completes Caffeine's future with a value even when the server read failed (a failed future would make Caffeine log
 * a warning with a stack trace for every read during an outage), so Caffeine would count every load as a success:
 * its load reports are ignored, and the cache reports the real outcome.
 */
final class LoadStats implements StatsCounter {

    private final boolean enabled;
    private final ConcurrentStatsCounter counter = new ConcurrentStatsCounter();

    LoadStats(boolean enabled) {
        this.enabled = enabled;
    }

    @Override
    public void recordHits(int count) {
        if (enabled) {
            counter.recordHits(count);
        }
    }

    @Override
    public void recordMisses(int count) {
        if (enabled) {
            counter.recordMisses(count);
        }
    }

    @Override
    public void recordLoadSuccess(long loadTime) {
        // Caffeine's view; see the class comment.
    }

    @Override
    public void recordLoadFailure(long loadTime) {
        // Caffeine's view; see the class comment.
    }

    void loadSucceeded(long nanos) {
        if (enabled) {
            counter.recordLoadSuccess(nanos);
        }
    }

    void loadFailed(long nanos) {
        if (enabled) {
            counter.recordLoadFailure(nanos);
        }
    }

    @Override
    public void recordEviction(int weight, RemovalCause cause) {
        if (enabled) {
            counter.recordEviction(weight, cause);
        }
    }

    @Override
    public CacheStats snapshot() {
        return enabled ? counter.snapshot() : CacheStats.empty();
    }
}
