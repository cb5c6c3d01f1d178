package dev.zksdk.cache;

import dev.zksdk.internal.cache.WatchedCache;

import dev.zksdk.internal.Validation;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.binder.cache.CaffeineCacheMetrics;

/**
 * Publishes a cache's statistics to Micrometer through Micrometer's own Caffeine binder: {@code cache.gets} (tagged
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
   * @param name the {@code cache} tag, such as {@code "config"}
   * @throws IllegalArgumentException when an argument is null, the name is blank, or the cache was not made by a
   *     {@link dev.zksdk.ZkLease}
   */
  public static void monitor(MeterRegistry registry, ZkCache cache, String name, Iterable<Tag> tags) {
    Validation.notNull("registry", registry);
    Validation.notNull("cache", cache);
    Validation.notNull("tags", tags);
    if (name == null || name.isBlank()) {
      throw new IllegalArgumentException("name must not be blank, was " + (name == null ? "null" : "'" + name + "'"));
    }
    if (!(cache instanceof WatchedCache)) {
      throw new IllegalArgumentException("cache must be made by ZkLease.cache or ZkLease.treeCache, was a "
          + cache.getClass().getName());
    }
    CaffeineCacheMetrics.monitor(registry, ((WatchedCache) cache).caffeine(), name, tags);
  }
}
