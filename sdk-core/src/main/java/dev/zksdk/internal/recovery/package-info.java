/**
 * Not API. What a pooled session keeps across connection loss and expiry: owned ephemerals
 * ({@link dev.zksdk.internal.recovery.OwnedEphemerals}) and registered watches
 * ({@link dev.zksdk.internal.recovery.RegisteredWatches}), brought back by one ordered recovery
 * ({@link dev.zksdk.internal.recovery.SessionRecovery}). The pool gives it what it needs through
 * {@link dev.zksdk.internal.recovery.RecoveryHost}.
 */
package dev.zksdk.internal.recovery;
