package dev.zksdk.hosts;

import dev.zksdk.internal.DaemonThreads;
import java.lang.reflect.Field;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.util.Map;
import java.util.Set;
import org.apache.zookeeper.AsyncCallback;
import org.apache.zookeeper.ClientCnxn;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.WatchedEvent;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooKeeper;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Takes a watcher out of a handle's own watch table without a request to the server, for servers before ZooKeeper 3.5
 * (which close the connection on {@code removeWatches}/{@code checkWatches}). ZooKeeper's client offers this only as a
 * side of a server request, so its watch manager is reached by reflection; when this ZooKeeper version keeps it
 * elsewhere (logged once), the watcher stays in the table and fires at most once more, as one-shot watches do.
 */
final class LocalWatchRemoval {

    private static final Logger log = LoggerFactory.getLogger(LocalWatchRemoval.class);
    private static final Method WATCH_MANAGER;
    private static final Method REMOVE_WATCHER;
    /** {@code ClientCnxn.eventThread} and its {@code queueCallback(cb, rc, path, ctx)} (null if absent). */
    private static final Field EVENT_THREAD;

    private static final Method QUEUE_CALLBACK;

    static {
        Method manager = null;
        Method remove = null;
        try {
            manager = ZooKeeper.class.getDeclaredMethod("getWatchManager");
            manager.setAccessible(true);
            remove = manager.getReturnType()
                    .getMethod(
                            "removeWatcher",
                            String.class,
                            Watcher.class,
                            Watcher.WatcherType.class,
                            boolean.class,
                            int.class);
            remove.setAccessible(true);
        } catch (ReflectiveOperationException | RuntimeException e) {
            log.warn(
                    "this ZooKeeper version keeps its watch table where zk-sdk cannot reach it: on servers before 3.5 a"
                            + " removed watcher stays until it fires once",
                    e);
            manager = null;
            remove = null;
        }
        WATCH_MANAGER = manager;
        REMOVE_WATCHER = remove;
        Field eventThread = null;
        Method queueCallback = null;
        try {
            eventThread = ClientCnxn.class.getDeclaredField("eventThread");
            eventThread.setAccessible(true);
            queueCallback = eventThread
                    .getType()
                    .getMethod("queueCallback", AsyncCallback.class, int.class, String.class, Object.class);
            queueCallback.setAccessible(true);
        } catch (ReflectiveOperationException | RuntimeException e) {
            eventThread = null;
            queueCallback = null;
        }
        EVENT_THREAD = eventThread;
        QUEUE_CALLBACK = queueCallback;
    }

    /**
     * Tells {@code watchers}, taken out of a handle's table on {@code path} (a client path), of their removal with the
     * event ZooKeeper builds for a local {@code removeWatches}: {@code WatchedEvent(type, SyncConnected, path)}, on the
     * handle's event thread (after the events already queued), never on the caller's. Not through ZooKeeper's own
     * {@code ClientCnxn.queueEvent}, which also sets the event thread's idea of the connection state to SyncConnected:
     * while disconnected, that would swallow the next real SyncConnected, and Curator would never see the reconnect.
     * The event thread runs it as a local callback instead; when this ZooKeeper version does not let that be reached,
     * on a thread of its own.
     */
    static void tellRemoved(ClientCnxn cnxn, String path, Set<Watcher> watchers, Watcher.Event.EventType type) {
        WatchedEvent event = new WatchedEvent(type, Watcher.Event.KeeperState.SyncConnected, path);
        AsyncCallback.VoidCallback deliver = (rc, p, ctx) -> {
            for (Watcher w : watchers) {
                try {
                    w.process(event);
                } catch (RuntimeException e) {
                    log.error("a watcher on {} failed on {}", path, type, e);
                }
            }
        };
        if (QUEUE_CALLBACK != null) {
            try {
                QUEUE_CALLBACK.invoke(EVENT_THREAD.get(cnxn), deliver, KeeperException.Code.OK.intValue(), path, null);
                return;
            } catch (ReflectiveOperationException | RuntimeException e) {
                log.debug("queueing {} for {} on the event thread failed: {}", type, path, e.toString());
            }
        }
        DaemonThreads.start(
                "zk-sdk-watch-removed", () -> deliver.processResult(KeeperException.Code.OK.intValue(), path, null));
    }

    /**
     * Removes {@code watcher} (every watcher of the type when null) of {@code type} on {@code path} (a client path) from
     * {@code zk}'s table.
     *
     * @return the watchers taken out, by the event ZooKeeper delivers for such a removal ({@code
     *     PersistentWatchRemoved}, {@code DataWatchRemoved}, {@code ChildWatchRemoved}); empty when this ZooKeeper
     *     version's table cannot be reached
     * @throws KeeperException.NoWatcherException when there is no such watcher
     */
    @SuppressWarnings("unchecked")
    static Map<Watcher.Event.EventType, Set<Watcher>> remove(
            ZooKeeper zk, String path, Watcher watcher, Watcher.WatcherType type) throws KeeperException {
        if (WATCH_MANAGER == null) {
            return Map.of();
        }
        try {
            Object removed = REMOVE_WATCHER.invoke(
                    WATCH_MANAGER.invoke(zk), path, watcher, type, true, KeeperException.Code.OK.intValue());
            return removed instanceof Map ? (Map<Watcher.Event.EventType, Set<Watcher>>) removed : Map.of();
        } catch (InvocationTargetException e) {
            if (e.getCause() instanceof KeeperException) {
                throw (KeeperException) e.getCause();
            }
            throw new IllegalStateException("removing a watcher from the handle's table failed", e.getCause());
        } catch (IllegalAccessException e) {
            throw new IllegalStateException("removing a watcher from the handle's table failed", e);
        }
    }
}
