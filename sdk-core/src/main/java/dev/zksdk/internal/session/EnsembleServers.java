package dev.zksdk.internal.session;

import dev.zksdk.internal.ConnectString;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.WeakHashMap;
import org.apache.curator.utils.ZookeeperFactory;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.client.ZKClientConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The server list one ensemble of a pool uses now, and the live ZooKeeper handles of its sessions. The list starts as
 * the config's connect string and is replaced by {@link #update} (a connect string changed at runtime) and by the
 * memberships {@link EnsembleFollower} applies; every handle made later, after an expiry, is made with the current
 * list, and every change is handed to each live handle's {@code updateServerList}, whose host provider moves only the
 * share of sessions that must move.
 *
 * <p>Curator is bypassed on purpose: its handles are made with its ensemble provider's connect string, and it compares
 * that string only on a connection-state event, then calls {@code updateServerList} itself. Changing it would apply
 * nothing while sessions stay connected, and apply the list a second time on the next reconnect.
 *
 * <p>Ordering: every change is made under this object's lock, including the call on the handles, so the latest one
 * wins on every handle. A membership applies only when it is newer (by configuration version) than every membership
 * the ensemble's sessions had read when the list was last changed at runtime; see {@link #membershipIsNewer}.
 */
public final class EnsembleServers {

    private static final Logger log = LoggerFactory.getLogger(EnsembleServers.class);

    private final String label;
    /** Handles stay here only while something else (Curator) keeps them: a closed, dropped handle is not held. */
    private final Set<ZooKeeper> handles = Collections.newSetFromMap(new WeakHashMap<>());

    private volatile ConnectString current;
    private long generation;
    /** The newest membership version any follower of the ensemble has read. */
    private long seenVersion;
    /** Memberships at or below this version were known before the last runtime change, which replaced them. */
    private long runtimeFloor;

    public EnsembleServers(String label, ConnectString initial) {
        this.label = label;
        this.current = initial;
    }

    /** The connect string (with chroot) the ensemble's sessions use now. */
    public ConnectString current() {
        return current;
    }

    /**
     * Applies a connect string changed at runtime: new handles use it, and each live handle's server list is updated.
     * The caller validated it (same chroot, some positive weight).
     *
     * @return false when it equals the current list (nothing to do)
     */
    public synchronized boolean update(ConnectString replacement) {
        ConnectString previous = current;
        if (previous.equals(replacement)) {
            return false;
        }
        current = replacement;
        generation++;
        runtimeFloor = seenVersion;
        int applied = 0;
        for (ZooKeeper zk : liveHandles()) {
            if (apply(zk, replacement.value())) {
                applied++;
            }
        }
        log.info(
                "{}: connect string changed at runtime; servers {} -> {} ({} live session handle(s) updated, each "
                        + "keeping its session)",
                label,
                previous.servers(),
                replacement.servers(),
                applied);
        return true;
    }

    /** Records that a follower read the membership of {@code version}; see {@link #membershipIsNewer}. */
    synchronized void membershipSeen(long version) {
        seenVersion = Math.max(seenVersion, version);
    }

    /**
     * Whether a membership of {@code version} may replace the list: it must be newer than the last membership the
     * reading session applied, and newer than every membership read before the last runtime change. Call while holding
     * this object's lock, after {@link #membershipSeen}.
     */
    boolean membershipIsNewer(long version, long appliedBySession) {
        return version > appliedBySession && version > runtimeFloor;
    }

    /**
     * Makes a membership the list for new handles; the follower applies it to its own session's handle. Call while
     * holding this object's lock.
     *
     * @return whether its servers differ from those of the list before (the order aside)
     */
    boolean membershipApplied(ConnectString membership) {
        boolean changed = !Set.copyOf(membership.servers()).equals(Set.copyOf(current.servers()));
        current = membership;
        generation++;
        return changed;
    }

    private List<ZooKeeper> liveHandles() {
        List<ZooKeeper> live = new ArrayList<>();
        handles.removeIf(zk -> !zk.getState().isAlive());
        live.addAll(handles);
        return live;
    }

    private boolean apply(ZooKeeper zk, String connectString) {
        try {
            zk.updateServerList(connectString);
            return true;
        } catch (IOException | RuntimeException e) {
            // A handle closing at this moment (its host provider is closed): its replacement is made with the new list.
            log.debug(
                    "{}: could not update the server list of handle 0x{}: {}",
                    label,
                    Long.toHexString(zk.getSessionId()),
                    e.toString());
            return false;
        }
    }

    /**
     * A factory making each handle with the current list instead of the connect string Curator passes (the config's),
     * and registering it for later updates.
     */
    public ZookeeperFactory factory(ZookeeperFactory delegate) {
        return new ZookeeperFactory() {
            @Override
            public ZooKeeper newZooKeeper(
                    String connectString, int sessionTimeout, Watcher watcher, boolean canBeReadOnly) throws Exception {
                return newZooKeeper(connectString, sessionTimeout, watcher, canBeReadOnly, new ZKClientConfig());
            }

            @Override
            public ZooKeeper newZooKeeper(
                    String ignored,
                    int sessionTimeout,
                    Watcher watcher,
                    boolean canBeReadOnly,
                    ZKClientConfig clientConfig)
                    throws Exception {
                String connectString;
                long made;
                synchronized (EnsembleServers.this) {
                    connectString = current.value();
                    made = generation;
                }
                // Outside the lock: making a handle may wait for a session-creation permit.
                ZooKeeper zk =
                        delegate.newZooKeeper(connectString, sessionTimeout, watcher, canBeReadOnly, clientConfig);
                synchronized (EnsembleServers.this) {
                    handles.add(zk);
                    if (generation != made) {
                        apply(zk, current.value()); // the list changed while the handle was being made
                    }
                }
                return zk;
            }
        };
    }
}
