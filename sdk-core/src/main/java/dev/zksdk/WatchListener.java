package dev.zksdk;

/**
 * Receives watch events. Called on one of the pool's callback threads (never ZooKeeper's), one event at a time and in
 * the server's order. It may call any SDK method. A listener that blocks delays only its own later events, as long as
 * fewer listeners of its ensemble block at once than the ensemble has callback threads (16; beyond that its other
 * listeners wait for a thread); one that falls more than 10,000 events behind gets a single
 * {@link WatchEvent.Type#RESYNC} in their place.
 *
 * <p>To read the new state after an event, read through the lease that registered the watch (or another lease of
 * the same session): ZooKeeper delivers the event on that session after the change, so a read there sees it. A
 * lease of a different session may be connected to a server that has not applied the change yet and read the old
 * value, with no further event to correct it (use {@link ZkLease#sync(String)} first in that case).
 */
@FunctionalInterface
public interface WatchListener {

    /**
     * Called with each event of the watch, one at a time and in order, on the pool's callback threads.
     *
     * @param event the change, or {@link WatchEvent.Type#RESYNC} when changes may have been missed
     */
    void onEvent(WatchEvent event);
}
