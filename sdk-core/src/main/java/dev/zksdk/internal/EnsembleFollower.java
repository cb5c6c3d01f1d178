package dev.zksdk.internal;

import java.io.ByteArrayInputStream;
import java.util.Properties;
import org.apache.curator.framework.imps.EnsembleTracker;
import org.apache.zookeeper.WatchedEvent;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooKeeper;
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
 * others' must not send sessions to servers the ensemble does not have.
 */
final class EnsembleFollower implements Watcher {

  private static final Logger log = LoggerFactory.getLogger(EnsembleFollower.class);

  private final SharedSession session;
  private volatile String applied;
  private volatile long appliedVersion;

  EnsembleFollower(SharedSession session) {
    this.session = session;
  }

  /** Reads the membership on {@code zk} and leaves a watch for its next change. */
  void follow(ZooKeeper zk) {
    zk.getConfig(this, (rc, path, ctx, data, stat) -> {
      if (rc == 0 && data != null) {
        apply(zk, data);
      }
    }, null);
  }

  @Override
  public void process(WatchedEvent event) {
    if (event.getType() == Event.EventType.NodeDataChanged && !session.isClosed() && session.isConnected()) {
      follow(session.currentHandle());
    }
  }

  private void apply(ZooKeeper zk, byte[] data) {
    String servers;
    long version;
    try {
      Properties properties = new Properties();
      properties.load(new ByteArrayInputStream(data));
      QuorumMaj membership = new QuorumMaj(properties);
      version = membership.getVersion();
      // Version 0 is a static configuration: no reconfiguration produced it, and a member with a drifted static
      // config (servers the others do not know) must not redirect sessions. A lower version than one already
      // applied comes from a member that is behind.
      if (version == 0 || version <= appliedVersion) {
        return;
      }
      servers = EnsembleTracker.configToConnectionString(membership).trim();
    } catch (Exception e) {
      log.warn("{}: could not read the ensemble's membership from /zookeeper/config: {}", session.label(),
          e.toString());
      return;
    }
    if (servers.isEmpty()) {
      return;
    }
    String chroot = session.config().chroot();
    String connectString = chroot == null ? servers : servers + chroot;
    if (connectString.equals(applied)) {
      return;
    }
    boolean first = applied == null;
    applied = connectString;
    appliedVersion = version;
    try {
      zk.updateServerList(connectString);
      if (!first) {
        log.info("{}: ensemble membership changed; servers now {}", session.label(), servers);
      }
    } catch (Exception e) {
      log.warn("{}: could not apply the ensemble's membership {}: {}", session.label(), servers, e.toString());
    }
  }
}
