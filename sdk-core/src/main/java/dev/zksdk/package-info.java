/**
 * The zk-sdk API: {@link dev.zksdk.ZkSessionPool} (one per process: a few long-lived sessions per ensemble),
 * {@link dev.zksdk.ZkLease} (a free handle pinned to one session), {@link dev.zksdk.EphemeralNode} (a registration the
 * pool keeps alive), watches, the configuration objects ({@link dev.zksdk.EnsembleConfig},
 * {@link dev.zksdk.OperationPolicy}), session and recovery events and listeners, and the exception tree under
 * {@link dev.zksdk.ZkException}.
 *
 * <p>Everything else of the engine lives in {@code dev.zksdk.internal} and its subpackages, which are not API.
 */
package dev.zksdk;
