package dev.zksdk.hosts;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import org.apache.zookeeper.KeeperException;
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
    }

    private LocalWatchRemoval() {}

    /**
     * Removes {@code watcher} (every watcher of the type when null) of {@code type} on {@code path} (a client path) from
     * {@code zk}'s table.
     *
     * @throws KeeperException.NoWatcherException when there is no such watcher
     */
    static void remove(ZooKeeper zk, String path, Watcher watcher, Watcher.WatcherType type) throws KeeperException {
        if (WATCH_MANAGER == null) {
            return;
        }
        try {
            REMOVE_WATCHER.invoke(
                    WATCH_MANAGER.invoke(zk), path, watcher, type, true, KeeperException.Code.OK.intValue());
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
