package dev.zksdk.internal.session;

import dev.zksdk.internal.ConnectString;
import java.io.ByteArrayInputStream;
import java.util.Map;
import java.util.Properties;
import org.apache.curator.framework.imps.EnsembleTracker;
import org.apache.zookeeper.WatchedEvent;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.server.quorum.QuorumPeer;
import org.apache.zookeeper.server.quorum.flexible.QuorumMaj;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Follows the ensemble's membership ({@code /zookeeper/config}) and hands every change to the live handle's
 * {@code updateServerList}, whose host provider moves only the share of sessions that must move (all of those on a
 * removed member, a fair share towards an added one). Curator's own tracker only applies a new list at the next
 * reconnect, so a session on a removed member that still accepts it would never move.
 *
 * <p>Only configurations made by dynamic reconfiguration are followed (a version above 0, newer than the last one
 * applied): a static configuration says nothing about a change, and a member whose static list drifted from the
 * others' must not send sessions to servers the ensemble does not have. A connect string changed at runtime
 * ({@link EnsembleServers#update}) replaces every membership read before it; only a newer one replaces it in turn.
 * An applied membership is also the list of handles made later, after an expiry.
 */
final class EnsembleFollower implements Watcher {

    private static final Logger log = LoggerFactory.getLogger(EnsembleFollower.class);

    private final SharedSession session;
    private final EnsembleServers list;
    /** Guarded by the ensemble's {@link EnsembleServers}. */
    private long appliedVersion;

    EnsembleFollower(SharedSession session, EnsembleServers list) {
        this.list = list;
        this.session = session;
    }

    /** Reads the membership on {@code zk} and leaves a watch for its next change. */
    void follow(ZooKeeper zk) {
        zk.getConfig(
                this,
                (rc, path, ctx, data, stat) -> {
                    if (rc == 0 && data != null) {
                        apply(zk, data);
                    }
                },
                null);
    }

    @Override
    public void process(WatchedEvent event) {
        if (event.getType() == Event.EventType.NodeDataChanged && !session.isClosed() && session.isConnected()) {
            follow(session.currentHandle());
        }
    }

    private void apply(ZooKeeper zk, byte[] data) {
        String servers;
        String readServers = null;
        long version;
        try {
            Properties properties = new Properties();
            properties.load(new ByteArrayInputStream(data));
            QuorumMaj membership = new QuorumMaj(properties);
            version = membership.getVersion();
            // Version 0 is a static configuration: no reconfiguration produced it, and a member with a drifted static
            // config (servers the others do not know) must not redirect sessions. A lower version than one already
            // applied comes from a member that is behind.
            if (version == 0) {
                return;
            }
            servers = connectionString(membership, list.members());
            if (list.readers() != null) {
                readServers = connectionString(membership, list.readers().members());
            }
        } catch (Exception e) {
            log.warn(
                    "{}: could not read the ensemble's membership from /zookeeper/config: {}",
                    session.label(),
                    e.toString());
            return;
        }
        if (servers.isEmpty()) {
            return;
        }
        if (readServers != null && !readServers.isEmpty()) {
            applyToReaders(list.readers(), readServers, version);
        }
        ConnectString membership = parse(servers);
        if (membership == null) {
            return;
        }
        // The servers the user named keep their names, not the addresses the members' configs give (CURATOR-578).
        membership = list.withUserNames(membership);
        // Under the list's lock: a connect string changed at runtime and a membership are applied in one order.
        synchronized (list) {
            list.membershipSeen(version);
            if (!list.membershipIsNewer(version, appliedVersion)) {
                return;
            }
            appliedVersion = version;
            boolean changed = list.membershipApplied(membership);
            try {
                zk.updateServerList(membership.value());
                if (changed) {
                    log.info(
                            "{}: ensemble membership changed (configuration version 0x{}); servers now {}",
                            session.label(),
                            Long.toHexString(version),
                            membership.servers());
                }
            } catch (Exception e) {
                log.warn(
                        "{}: could not apply the ensemble's membership {}: {}", session.label(), servers, e.toString());
            }
        }
    }

    /**
     * Hands the observers of a membership to the ensemble's read sessions: they keep no follower of their own (it
     * would leave a watch on the observers, where only plain reads go), so the leases' sessions' followers apply it to
     * every live read handle, once per membership version.
     */
    private void applyToReaders(EnsembleServers readers, String readServers, long version) {
        ConnectString membership = parse(readServers);
        if (membership != null) {
            readers.membershipAppliedToAll(readers.withUserNames(membership), version);
        }
    }

    /** The servers of a membership with the session's chroot, or null (logged) when they do not parse. */
    private ConnectString parse(String servers) {
        String chroot = session.config().chroot();
        try {
            return ConnectString.parse(
                    "the ensemble's membership", bracketIpv6(servers) + (chroot == null ? "" : chroot));
        } catch (IllegalArgumentException e) {
            log.warn("{}: could not use the ensemble's membership {}: {}", session.label(), servers, e.getMessage());
            return null;
        }
    }

    /**
     * The client addresses of {@code members} of a membership, as Curator's tracker writes them; the observers are the
     * voting members while the membership has none (read sessions then read from participants).
     */
    static String connectionString(QuorumMaj membership, EnsembleServers.Members members) throws Exception {
        Map<Long, QuorumPeer.QuorumServer> chosen = switch (members) {
            case ALL -> membership.getAllMembers();
            case PARTICIPANTS -> membership.getVotingMembers();
            case OBSERVERS ->
                membership.getObservingMembers().isEmpty()
                        ? membership.getVotingMembers()
                        : membership.getObservingMembers();
        };
        return EnsembleTracker.configToConnectionString(
                        members == EnsembleServers.Members.ALL ? membership : new QuorumMaj(chosen))
                .trim();
    }

    /** Curator writes IPv6 client addresses without brackets; a connect string needs them. */
    static String bracketIpv6(String servers) {
        StringBuilder out = new StringBuilder();
        for (String server : servers.split(",")) {
            String s = server.trim();
            int colon = s.lastIndexOf(':');
            String host = colon < 0 ? s : s.substring(0, colon);
            if (host.indexOf(':') >= 0 && !host.startsWith("[")) {
                s = "[" + host + "]" + s.substring(colon);
            }
            out.append(out.length() == 0 ? "" : ",").append(s);
        }
        return out.toString();
    }
}
