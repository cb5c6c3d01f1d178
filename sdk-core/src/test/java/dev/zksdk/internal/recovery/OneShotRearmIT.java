package dev.zksdk.internal.recovery;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.zksdk.WatchEvent;
import dev.zksdk.ZkLease;
import dev.zksdk.ZkSessionPool;
import dev.zksdk.internal.pool.RealSessionPool;
import dev.zksdk.internal.session.SharedSession;
import dev.zksdk.testing.InProcessEnsembles;
import dev.zksdk.testing.RawZooKeeper;
import dev.zksdk.testing.Recorder;
import java.lang.reflect.Field;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.curator.test.TestingServer;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooDefs.Perms;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.data.ACL;
import org.junit.jupiter.api.Test;

/**
 * A one-shot watch (servers before 3.6) ends with each event and is armed again; when that fails, it must not stay
 * "armed" and dead until the next session: the recovery arms it again, with backoff, on the same session.
 */
class OneShotRearmIT {

  @Test
  void aOneShotWatchWhoseRearmFailedIsArmedAgainOnTheSameSession() throws Exception {
    try (TestingServer server = InProcessEnsembles.startServer();
        RawZooKeeper observer = RawZooKeeper.connect(server.getConnectString(), Duration.ofSeconds(30));
        ZkSessionPool pool = ZkSessionPool.builder().connectString(server.getConnectString())
            .sessionTimeout(Duration.ofSeconds(4)).build();
        ZkLease lease = pool.lease()) {
      SharedSession session = realPool(pool).sessions().get(0);
      realPool(pool).recovery(session).watches().forceOneShot(true);
      ZooKeeper zk = observer.zk();
      zk.create("/p", new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
      Recorder events = new Recorder();
      lease.watchChildren("/p", events);
      long sessionId = lease.sessionId();

      // Reading /p's children is refused from now on: the re-arm after the next event (getChildren) fails.
      zk.setACL("/p", new ArrayList<>(List.of(new ACL(Perms.ADMIN | Perms.WRITE | Perms.CREATE,
          ZooDefs.Ids.ANYONE_ID_UNSAFE))), -1);
      zk.setData("/p", new byte[] {1}, -1);
      await().atMost(Duration.ofSeconds(10)).until(() -> events.count(WatchEvent.Type.DATA_CHANGED) == 1);

      // Readable again: the watch is armed again without a new session, and sees the next changes.
      zk.setACL("/p", ZooDefs.Ids.OPEN_ACL_UNSAFE, -1);
      await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
        zk.create("/p/c", new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.EPHEMERAL_SEQUENTIAL);
        await().atMost(Duration.ofMillis(500)).until(() -> events.count(WatchEvent.Type.CHILDREN_CHANGED) >= 1);
      });
      long before = events.count(WatchEvent.Type.DATA_CHANGED);
      zk.setData("/p", new byte[] {2}, -1);
      await().atMost(Duration.ofSeconds(10)).until(() -> events.count(WatchEvent.Type.DATA_CHANGED) == before + 1);
      assertThat(lease.sessionId()).isEqualTo(sessionId);
      assertThat(pool.stats().sessionsOpened()).isEqualTo(1);
    }
  }

  private static RealSessionPool realPool(ZkSessionPool pool) throws Exception {
    Field f = ZkSessionPool.class.getDeclaredField("pool");
    f.setAccessible(true);
    return (RealSessionPool) f.get(pool);
  }
}
