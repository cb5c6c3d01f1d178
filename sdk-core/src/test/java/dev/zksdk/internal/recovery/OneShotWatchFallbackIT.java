package dev.zksdk.internal.recovery;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.zksdk.WatchEvent;
import dev.zksdk.ZkLease;
import dev.zksdk.ZkSessionPool;
import dev.zksdk.internal.pool.RealSessionPool;
import dev.zksdk.internal.session.SharedSession;
import dev.zksdk.testing.ForcedExpiry;
import dev.zksdk.testing.InProcessEnsembles;
import dev.zksdk.testing.RawZooKeeper;
import dev.zksdk.testing.Recorder;
import java.lang.reflect.Field;
import java.time.Duration;
import org.apache.curator.test.TestingServer;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.junit.jupiter.api.Test;

/**
 * The fallback for servers without persistent watches (before 3.6): re-armed one-shot watches. Forced on against a
 * real 3.9 server, where one-shot watches behave as on old servers, so the fallback's own logic is what is tested.
 */
class OneShotWatchFallbackIT {

    @Test
    void oneShotWatchesAreRearmedAfterEveryEventAndAfterANewSession() throws Exception {
        try (TestingServer server = InProcessEnsembles.startServer();
                RawZooKeeper observer = RawZooKeeper.connect(server.getConnectString(), Duration.ofSeconds(30));
                ZkSessionPool pool = ZkSessionPool.builder()
                        .connectString(server.getConnectString())
                        .sessionTimeout(Duration.ofSeconds(4))
                        .build();
                ZkLease lease = pool.lease()) {
            SharedSession session = realPool(pool).sessions().get(0);
            realPool(pool).recovery(session).watches().forceOneShot(true);
            Recorder node = new Recorder();
            Recorder children = new Recorder();
            lease.watch("/n", node);
            lease.watchChildren("/p", children);
            ZooKeeper zk = observer.zk();

            zk.create("/n", new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            await().atMost(Duration.ofSeconds(10)).until(() -> node.saw(WatchEvent.Type.CREATED, "/n"));
            for (int i = 1; i <= 3; i++) {
                zk.setData("/n", new byte[] {(byte) i}, -1);
                int expected = i;
                // Each change is seen: the one-shot watch was armed again after the previous event.
                await().atMost(Duration.ofSeconds(10))
                        .until(() -> node.count(WatchEvent.Type.DATA_CHANGED) == expected);
            }
            zk.delete("/n", -1);
            await().atMost(Duration.ofSeconds(10)).until(() -> node.saw(WatchEvent.Type.DELETED, "/n"));

            zk.create("/p", new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            await().atMost(Duration.ofSeconds(10)).until(() -> children.saw(WatchEvent.Type.CREATED, "/p"));
            zk.create("/p/a", new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            await().atMost(Duration.ofSeconds(10)).until(() -> children.saw(WatchEvent.Type.CHILDREN_CHANGED, "/p"));
            assertThat(node.watchEvents()).noneMatch(e -> e.type() == WatchEvent.Type.CHILDREN_CHANGED);

            ZooKeeper mine = lease.curator().getZookeeperClient().getZooKeeper();
            ForcedExpiry.expireSession(server.getConnectString(), mine.getSessionId(), mine.getSessionPasswd());
            await().atMost(Duration.ofSeconds(30)).until(() -> node.saw(WatchEvent.Type.RESYNC, "/n"));
            zk.create("/n", new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            await().atMost(Duration.ofSeconds(10)).until(() -> node.count(WatchEvent.Type.CREATED) == 2);
        }
    }

    private static RealSessionPool realPool(ZkSessionPool pool) throws Exception {
        Field f = ZkSessionPool.class.getDeclaredField("pool");
        f.setAccessible(true);
        return (RealSessionPool) f.get(pool);
    }
}
