package dev.zksdk;

/**
 * Receives watch events. Called on the pool's event thread for the watch's session, one event at a time and in the
 * server's order: it must not block; hand slow work to an executor.
 */
@FunctionalInterface
public interface WatchListener {

  void onEvent(WatchEvent event);
}
