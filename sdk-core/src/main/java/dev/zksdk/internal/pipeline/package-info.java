/**
 * Not API. How one operation runs on a connection: {@link dev.zksdk.internal.pipeline.OperationRunner} (validation
 * done, then bulkhead, circuit breaker, retry and a deadline that ends the call whatever ZooKeeper does), the calls
 * themselves ({@link dev.zksdk.internal.pipeline.Calls}), and, for a write lost in flight, the reading of the server's
 * state that tells whether it was applied ({@link dev.zksdk.internal.pipeline.LossEvidence}). The pipeline knows a
 * session only as a {@link dev.zksdk.internal.pipeline.Connection}.
 */
package dev.zksdk.internal.pipeline;
