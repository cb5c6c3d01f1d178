package dev.zksdk.internal.session;

import dev.zksdk.hosts.HostsConfig;
import dev.zksdk.internal.ConnectString;
import java.io.IOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.WeakHashMap;
import java.util.regex.Pattern;
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

    private static final Pattern IPV4_LITERAL = Pattern.compile("\\d{1,3}(\\.\\d{1,3}){3}");

    private final HostsConfig.Resolver resolver;
    private final Members members;
    /** The ensemble's other list (participants or observers), whose names the user gave are kept too. */
    private volatile EnsembleServers sibling;
    /** The read sessions' list, to which this list's followers hand each membership's observers; null for none. */
    private volatile EnsembleServers readers;
    /** The last membership version {@link #membershipAppliedToAll} applied. */
    private long appliedToAll;

    private volatile ConnectString current;
    /** The servers as the user named them: the config's connect string, or the last one changed at runtime. */
    private volatile ConnectString named;

    private long generation;
    /** The newest membership version any follower of the ensemble has read. */
    private long seenVersion;
    /** Memberships at or below this version were known before the last runtime change, which replaced them. */
    private long runtimeFloor;

    public EnsembleServers(String label, ConnectString initial) {
        this(label, initial, HostsConfig.SYSTEM_RESOLVER);
    }

    /**
     * @param resolver resolves the user's server names, to recognise them in a membership that gives addresses
     */
    public EnsembleServers(String label, ConnectString initial, HostsConfig.Resolver resolver) {
        this(label, initial, resolver, Members.ALL);
    }

    /**
     * @param resolver resolves the user's server names, to recognise them in a membership that gives addresses
     * @param members which members of a membership this list follows
     */
    public EnsembleServers(String label, ConnectString initial, HostsConfig.Resolver resolver, Members members) {
        this.label = label;
        this.current = initial;
        this.named = initial;
        this.resolver = resolver;
        this.members = members;
    }

    /**
     * Which members of a membership read from {@code /zookeeper/config} a list follows: an ensemble that keeps its
     * leases' sessions off the observers follows the voting members for them and the observers for its read sessions.
     */
    public enum Members {
        /** Every member: the ensemble keeps no sessions apart. */
        ALL,
        /** The voting members (participants): the leases' sessions of an ensemble with observers. */
        PARTICIPANTS,
        /** The observers, or the voting members while the membership has none: the read sessions. */
        OBSERVERS
    }

    Members members() {
        return members;
    }

    /** The names the user gave in {@code other} (the ensemble's other list) are kept in memberships too. */
    public void namesAlsoFrom(EnsembleServers other) {
        this.sibling = other;
    }

    /**
     * The followers of this list's sessions also hand each membership's {@code readers} part (see
     * {@link Members#OBSERVERS}) to that list, whose sessions have no follower.
     */
    public void alsoFollowFor(EnsembleServers readers) {
        this.readers = readers;
    }

    /** The list whose membership this list's followers apply too; null for none. */
    EnsembleServers readers() {
        return readers;
    }

    /**
     * Applies a membership of {@code version} to the list and to every live handle made from it, when it is newer than
     * the last one applied so and than every membership read before the last runtime change.
     *
     * @return whether it was applied
     */
    synchronized boolean membershipAppliedToAll(ConnectString membership, long version) {
        membershipSeen(version);
        if (!membershipIsNewer(version, appliedToAll)) {
            return false;
        }
        appliedToAll = version;
        boolean changed = membershipApplied(membership);
        for (ZooKeeper zk : liveHandles()) {
            apply(zk, membership.value());
        }
        if (changed) {
            log.info(
                    "{}: ensemble membership changed (configuration version 0x{}); servers now {}",
                    label,
                    Long.toHexString(version),
                    membership.servers());
        }
        return true;
    }

    /**
     * A membership read from the ensemble with the names the user gave kept (CURATOR-578): a server given there as an
     * IP address (how the members' configs name their client addresses, or the quorum address Curator falls back to
     * for a wildcard client address) that one of the user's names resolves to, at the same port, is written as that
     * name; a name with several addresses stands for all of them once. Other servers stay as the membership gives them,
     * and the chroot is the membership's. Resolves the user's names, so call it outside any lock.
     */
    ConnectString withUserNames(ConnectString membership) {
        Map<String, String> nameOf = new HashMap<>();
        EnsembleServers other = sibling;
        for (ConnectString given : other == null ? List.of(named) : List.of(named, other.named)) {
            List<ConnectString.Address> addresses = given.addresses();
            for (int i = 0; i < addresses.size(); i++) {
                ConnectString.Address a = addresses.get(i);
                if (isLiteral(a.host())) {
                    continue;
                }
                try {
                    InetAddress[] all = resolver.resolve(a.host());
                    for (InetAddress ip : all == null ? new InetAddress[0] : all) {
                        if (ip != null) {
                            nameOf.putIfAbsent(
                                    ip.getHostAddress() + "|" + a.port(),
                                    given.servers().get(i));
                        }
                    }
                } catch (UnknownHostException | RuntimeException e) {
                    log.debug(
                            "{}: {} does not resolve now: {}",
                            label,
                            given.servers().get(i),
                            e.toString());
                }
            }
        }
        if (nameOf.isEmpty()) {
            return membership;
        }
        List<String> out = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        boolean renamed = false;
        List<ConnectString.Address> members = membership.addresses();
        for (int i = 0; i < members.size(); i++) {
            ConnectString.Address m = members.get(i);
            String server = membership.servers().get(i);
            String name = isLiteral(m.host()) ? nameOf.get(literal(m.host()) + "|" + m.port()) : null;
            if (name != null) {
                server = name;
                renamed = true;
            }
            if (seen.add(server.toLowerCase(Locale.ROOT))) {
                out.add(server);
            }
        }
        if (!renamed) {
            return membership;
        }
        String chroot = membership.chroot();
        return ConnectString.parse("the ensemble's membership", String.join(",", out) + (chroot == null ? "" : chroot));
    }

    private static boolean isLiteral(String host) {
        return host.indexOf(':') >= 0 || IPV4_LITERAL.matcher(host).matches();
    }

    /** An IP literal in canonical form (no name service is asked for a literal). */
    private static String literal(String host) {
        try {
            return InetAddress.getByName(host).getHostAddress();
        } catch (UnknownHostException e) {
            return host;
        }
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
        named = replacement;
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
