/**
 * Not API. The kernel shared by the API and the engine, depending on nothing else of the SDK: argument checks
 * ({@link dev.zksdk.internal.Validation}), the connect-string parser ({@link dev.zksdk.internal.ConnectString}), the one
 * ZooKeeper callback adapter ({@link dev.zksdk.internal.ZkAsync}), the one backoff
 * ({@link dev.zksdk.internal.Backoff}), the one thread factory ({@link dev.zksdk.internal.DaemonThreads}), size limits
 * and the ordered queue user callbacks run on ({@link dev.zksdk.internal.SerialQueue}).
 *
 * <p>The engine is in the subpackages, from the bottom up: {@code pipeline} (how one call runs: deadline, bulkhead,
 * breaker, retry, the check of a write lost in flight), {@code session} (one pooled session: its Curator client,
 * connection state, authentication, the events it tells), {@code recovery} (owned ephemerals and watches kept across
 * sessions), {@code cache} (the caches' engine) and {@code pool} (the pool, its ensembles and leases, which wire the
 * rest together). Lower packages never import higher ones: they tell through ports
 * ({@link dev.zksdk.internal.session.SessionEvents}, {@link dev.zksdk.internal.recovery.RecoveryHost},
 * {@link dev.zksdk.internal.pipeline.Connection}); an architecture test keeps it so.
 */
package dev.zksdk.internal;
