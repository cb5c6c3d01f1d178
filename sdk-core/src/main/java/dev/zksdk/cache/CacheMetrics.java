package dev.zksdk.cache;

import dev.zksdk.internal.Validation;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.FunctionTimer;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.binder.cache.CacheMeterBinder;
import java.util.concurrent.TimeUnit;

/**
 * Publishes a cache's statistics to Micrometer, with the meters of Micrometer's Caffeine binder: {@code cache.gets} (tagged
 * {@code result=hit|miss}), {@code cache.puts} (loads), {@code cache.evictions}, {@code cache.size},
 * {@code cache.load} ({@code result=success|failure}), {@code cache.load.duration} and the eviction weight, each
 * tagged {@code cache=<name>} plus the given tags.
 *
 * <p>Micrometer is an optional dependency of the SDK: this is the only class of the cache package that refers to it,
 * and it is loaded only when called, so caches work without Micrometer on the class path. Counts need
 * {@link CacheConfig#recordStats()} (the default).
 */
public final class CacheMetrics {

    private CacheMetrics() {}

    /**
     * Binds {@code cache}'s statistics to {@code registry}. The meters read the cache's statistics when they are
     * published; they stay registered after the cache closes (showing its final counts) until removed from the registry.
     *
     * @param registry where the meters are registered
     * @param cache the cache whose statistics they read
     * @param name the {@code cache} tag, such as {@code "config"}
     * @param tags further tags of every meter (may be empty)
     * @throws IllegalArgumentException when an argument is null or the name is blank
     */
    public static void monitor(MeterRegistry registry, ZkCache cache, String name, Iterable<Tag> tags) {
        Validation.notNull("registry", registry);
        Validation.notNull("cache", cache);
        Validation.notNull("tags", tags);
        if (name == null || name.isBlank()) {
            throw new IllegalArgumentException(
                    "name must not be blank, was " + (name == null ? "null" : "'" + name + "'"));
        }
        new Meters(cache, name, tags).bindTo(registry);
    }

    /** Micrometer's cache meters, read from {@link ZkCache#stats()} (Caffeine's statistics) when published. */
    private static final class Meters extends CacheMeterBinder<ZkCache> {

        Meters(ZkCache cache, String name, Iterable<Tag> tags) {
            super(cache, name, tags);
        }

        @Override
        protected Long size() {
            ZkCache c = getCache();
            return c == null ? null : c.estimatedSize();
        }

        @Override
        protected long hitCount() {
            ZkCache c = getCache();
            return c == null ? 0 : c.stats().hitCount();
        }

        @Override
        protected Long missCount() {
            ZkCache c = getCache();
            return c == null ? null : c.stats().missCount();
        }

        @Override
        protected Long evictionCount() {
            ZkCache c = getCache();
            return c == null ? null : c.stats().evictionCount();
        }

        @Override
        protected long putCount() {
            ZkCache c = getCache();
            return c == null ? 0 : c.stats().loadCount();
        }

        @Override
        protected void bindImplementationSpecificMetrics(MeterRegistry registry) {
            ZkCache c = getCache();
            FunctionCounter.builder("cache.load", c, cache -> cache.stats().loadSuccessCount())
                    .tags(getTagsWithCacheName())
                    .tags("result", "success")
                    .description("The number of times cache lookup methods have successfully loaded a new value")
                    .register(registry);
            FunctionCounter.builder("cache.load", c, cache -> cache.stats().loadFailureCount())
                    .tags(getTagsWithCacheName())
                    .tags("result", "failure")
                    .description("The number of times a cache lookup method failed to load a new value")
                    .register(registry);
            FunctionTimer.builder(
                            "cache.load.duration",
                            c,
                            cache -> cache.stats().loadCount(),
                            cache -> cache.stats().totalLoadTime(),
                            TimeUnit.NANOSECONDS)
                    .tags(getTagsWithCacheName())
                    .description("The time the cache has spent loading new values")
                    .register(registry);
            FunctionCounter.builder(
                            "cache.eviction.weight", c, cache -> cache.stats().evictionWeight())
                    .tags(getTagsWithCacheName())
                    .description("The sum of weights of evicted entries")
                    .register(registry);
        }
    }
}
