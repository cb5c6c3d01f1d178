/**
 * Not API. One pooled session ({@link dev.zksdk.internal.session.SharedSession}): its Curator client and the ZooKeeper
 * handles it replaces after expiry, the translation of each handle's events into session states, connection waits,
 * reachability, read-your-writes zxids, authentication, client-side expiry, TLS/SASL client config, and the following of
 * the ensemble's membership. It tells its subscribers through {@link dev.zksdk.internal.session.SessionEvents}.
 */
package dev.zksdk.internal.session;
