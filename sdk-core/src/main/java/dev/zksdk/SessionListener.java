package dev.zksdk;

/**
 * Told of session changes and recoveries. Methods are called on the pool's event thread, one at a time per session;
 * they must not block. Every method has a no-op default, so implement only what you need.
 */
public interface SessionListener {

  /** A session changed state. */
  default void onStateChange(SessionEvent event) {}

  /** The server granted a different session timeout than was requested (its min/max session timeout clamped it). */
  default void onTimeoutClamped(String ensemble, java.time.Duration requested, java.time.Duration negotiated) {}

  /** A new session finished its ordered recovery (ephemerals re-created, watches re-armed). */
  default void onRecovered(RecoveryEvent event) {}

  /**
   * An owned ephemeral could not be re-created because a node at its path belongs to another live session. The pool
   * does not take it over; it retries until that node goes away or the ephemeral is closed.
   */
  default void onEphemeralConflict(String path, long ownerSessionId) {}
}
