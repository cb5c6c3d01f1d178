/**
 * Read caches kept current by persistent watches: {@link dev.zksdk.cache.ZkCache} (one node) and
 * {@link dev.zksdk.cache.ZkTreeCache} (a subtree), their {@link dev.zksdk.cache.CacheConfig}, the cached value
 * {@link dev.zksdk.cache.CachedNode}, and {@link dev.zksdk.cache.CacheMetrics} (Micrometer, optional). Caches are made
 * by a lease ({@link dev.zksdk.ZkLease#cache}); their engine is not API.
 */
package dev.zksdk.cache;
