/**
 * Not API. The engine behind {@link dev.zksdk.cache.ZkCache} and {@link dev.zksdk.cache.ZkTreeCache}: a Caffeine cache
 * whose entries are stamped with the connection generation they were loaded in, kept current by a watch and fed by the
 * session's events.
 */
package dev.zksdk.internal.cache;
