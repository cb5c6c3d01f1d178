package dev.zksdk.cache;

import com.github.benmanes.caffeine.cache.Ticker;
import dev.zksdk.internal.Validation;
import java.time.Duration;

/**
 * How a {@link ZkCache} is bounded: how many entries it keeps, how long it may serve what it holds while its session
 * is disconnected, and whether it records statistics. Immutable; built with {@link #builder()}.
 */
public final class CacheConfig {

    /** Entries kept (a node's data and stat is one entry; a node's children list is another); least valuable go first. */
    public static final long DEFAULT_MAXIMUM_SIZE = 10_000;
    /**
     * How long after the client notices a disconnection the cache may still serve what it held: long enough to ride out
     * a server restart or a short network blip without failing reads, short enough that a node's data is not trusted
     * long after the server may have deleted it (an expired session's ephemerals, for example).
     */
    public static final Duration DEFAULT_MAX_DISCONNECTED_STALENESS = Duration.ofSeconds(10);
    /** Statistics (hits, misses, loads, evictions) are recorded unless turned off. */
    public static final boolean DEFAULT_RECORD_STATS = true;

    private static final CacheConfig DEFAULTS = new Builder().build();

    private final long maximumSize;
    private final Duration maxDisconnectedStaleness;
    private final boolean recordStats;
    private final Ticker ticker;

    private CacheConfig(Builder b) {
        this.maximumSize = b.maximumSize;
        this.maxDisconnectedStaleness = b.maxDisconnectedStaleness;
        this.recordStats = b.recordStats;
        this.ticker = b.ticker;
    }

    /**
     * The config with every setting at its {@code DEFAULT_*} value and the system clock.
     *
     * @return the shared default config
     */
    public static CacheConfig defaults() {
        return DEFAULTS;
    }

    /**
     * Starts a config from the defaults.
     *
     * @return a builder with every setting at its default
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Starts a config from this one, to change a few settings.
     *
     * @return a builder holding this config's settings
     */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.maximumSize = maximumSize;
        b.maxDisconnectedStaleness = maxDisconnectedStaleness;
        b.recordStats = recordStats;
        b.ticker = ticker;
        return b;
    }

    /**
     * The most entries the cache keeps (a node's data and stat is one entry, its children list another); beyond it,
     * entries are evicted.
     *
     * @return the maximum number of entries (default {@link #DEFAULT_MAXIMUM_SIZE})
     */
    public long maximumSize() {
        return maximumSize;
    }

    /**
     * How long after the client noticed a disconnection the cache may still serve the values it held.
     *
     * @return the bound, zero for never while disconnected (default {@link #DEFAULT_MAX_DISCONNECTED_STALENESS}, 10 s)
     */
    public Duration maxDisconnectedStaleness() {
        return maxDisconnectedStaleness;
    }

    /**
     * Whether the cache records hits, misses, loads and evictions ({@link ZkCache#stats()}, {@link CacheMetrics}).
     *
     * @return true when statistics are recorded (default {@link #DEFAULT_RECORD_STATS})
     */
    public boolean recordStats() {
        return recordStats;
    }

    /**
     * The clock of the staleness bound and of load timings (nanoseconds, as {@link System#nanoTime()}).
     *
     * @return the ticker; {@link Ticker#systemTicker()} unless a test set another
     */
    public Ticker ticker() {
        return ticker;
    }

    @Override
    public String toString() {
        return "CacheConfig{maximumSize=" + maximumSize + ", maxDisconnectedStaleness=" + maxDisconnectedStaleness
                + ", recordStats=" + recordStats + (ticker == Ticker.systemTicker() ? "" : ", ticker=" + ticker) + "}";
    }

    /** Builds a {@link CacheConfig}; setters reject bad values at once, naming the setting and the value. */
    public static final class Builder {
        private long maximumSize = DEFAULT_MAXIMUM_SIZE;
        private Duration maxDisconnectedStaleness = DEFAULT_MAX_DISCONNECTED_STALENESS;
        private boolean recordStats = DEFAULT_RECORD_STATS;
        private Ticker ticker = Ticker.systemTicker();

        private Builder() {}

        /**
         * The most entries the cache keeps; beyond it, entries are evicted (Caffeine's W-TinyLFU policy).
         *
         * @param entries the maximum, at least 1 (default {@link #DEFAULT_MAXIMUM_SIZE})
         * @return this builder
         * @throws IllegalArgumentException when {@code entries} is less than 1
         */
        public Builder maximumSize(long entries) {
            if (entries < 1) {
                throw new IllegalArgumentException("maximumSize must be at least 1, was " + entries);
            }
            this.maximumSize = entries;
            return this;
        }

        /**
         * How long after the client noticed a disconnection the cache may still serve the values it held; zero: never
         * while disconnected. Values are never served again after a reconnection (see {@link ZkCache}).
         *
         * @param bound the bound, zero or more (default {@link #DEFAULT_MAX_DISCONNECTED_STALENESS}, 10 s)
         * @return this builder
         * @throws IllegalArgumentException when {@code bound} is null or negative
         */
        public Builder maxDisconnectedStaleness(Duration bound) {
            this.maxDisconnectedStaleness = Validation.nonNegative("maxDisconnectedStaleness", bound);
            return this;
        }

        /**
         * Whether the cache records statistics; off saves a little work per read, and {@link ZkCache#stats()} is then
         * empty.
         *
         * @param record true to record (default {@link #DEFAULT_RECORD_STATS})
         * @return this builder
         */
        public Builder recordStats(boolean record) {
            this.recordStats = record;
            return this;
        }

        /**
         * The clock for the staleness bound and load timings; for tests. Default {@link Ticker#systemTicker()}.
         *
         * @param ticker the clock, in nanoseconds
         * @return this builder
         * @throws IllegalArgumentException when {@code ticker} is null
         */
        public Builder ticker(Ticker ticker) {
            this.ticker = Validation.notNull("ticker", ticker);
            return this;
        }

        /**
         * Builds the config; every setting was checked when set.
         *
         * @return the config
         */
        public CacheConfig build() {
            return new CacheConfig(this);
        }
    }
}
