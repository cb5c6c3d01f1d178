/**
 * Not API. The engine behind {@link dev.zksdk.ZkSessionPool}: {@link dev.zksdk.internal.pool.RealSessionPool}, its
 * ensembles (sessions, recoveries and the pipeline they share) and {@link dev.zksdk.internal.pool.RealLease}. The top of
 * the engine: it wires the lower packages together and is the only engine package the API's front door uses.
 */
package dev.zksdk.internal.pool;
