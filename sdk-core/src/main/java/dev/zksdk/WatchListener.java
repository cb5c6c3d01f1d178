package dev.zksdk;

/**
 * Receives watch events. Called on the pool's event thread for the watch's session, one event at a time and in the
 * server's order: it must not block; hand slow work to an executor.
 *
 * <p>To read the new state after an event, read through the lease that registered the watch (or another lease of
 * the same session): ZooKeeper delivers the event on that session after the change, so a read there sees it. A
 * lease of a different session may be connected to a server that has not applied the change yet and read the old
 * value, with no further event to correct it (use {@link ZkLease#sync(String)} first in that case).
 */
@FunctionalInterface
public interface WatchListener {

  void onEvent(WatchEvent event);
}
