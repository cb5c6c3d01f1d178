package dev.zksdk.internal.session;

import dev.zksdk.SessionEvent;
import java.time.Duration;

/**
 * What a pooled session tells the parts that depend on its state: the one place where a handle's connection events
 * become {@link SessionEvent}s, which everyone else listens to (the pipeline's breaker, the recovery, the pool and its
 * user listeners, the membership follower). Lower layers tell; they do not call back up.
 *
 * <p>Called on the event thread of the ZooKeeper handle the event is about, in the order the subscribers were added,
 * one event at a time: a subscriber must not block. (Caches, which do more work per event, listen through
 * {@link SharedSession#addInternalListener}, on the session's internal thread.)
 */
public interface SessionEvents {

    /** The session changed state (its previous state and ids are in the event). */
    void onStateChange(SharedSession session, SessionEvent event);

    /** The server granted a different session timeout than was requested. */
    default void onTimeoutClamped(SharedSession session, Duration requested, Duration negotiated) {}
}
