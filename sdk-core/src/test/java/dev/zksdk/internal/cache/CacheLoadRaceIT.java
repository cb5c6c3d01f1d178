package dev.zksdk.internal.cache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.zksdk.ZkLease;
import dev.zksdk.ZkSessionPool;
import dev.zksdk.cache.CacheConfig;
import dev.zksdk.cache.CachedNode;
import dev.zksdk.internal.pipeline.ZkCall;
import dev.zksdk.internal.pool.RealSessionPool;
import dev.zksdk.internal.session.SharedSession;
import dev.zksdk.testing.InProcessEnsembles;
import dev.zksdk.testing.RawZooKeeper;
import dev.zksdk.testing.Recorder;
import java.lang.reflect.Field;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.curator.test.TestingServer;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.data.Stat;
import org.junit.jupiter.api.Test;

/**
 * A change notification that arrives while a load is still being stored (inside Caffeine's compute for the key, where
 * the cache cannot see the entry to reload it) must not leave the old value served as current. The first load here
 * reads the node, then waits until a change of it has been notified, and only then returns what it read: the value
 * it returns is stale before the cache stores it.
 */
class CacheLoadRaceIT {

    @Test
    void aChangeNotifiedWhileTheLoadIsStoredIsNotLost() throws Exception {
        try (TestingServer server = InProcessEnsembles.startServer();
                RawZooKeeper observer = RawZooKeeper.connect(server.getConnectString(), Duration.ofSeconds(30));
                ZkSessionPool pool = ZkSessionPool.builder()
                        .connectString(server.getConnectString())
                        .build();
                ZkLease lease = pool.lease()) {
            observer.zk().create("/c", bytes("old"), ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            RealSessionPool real = realPool(pool);
            SharedSession session = real.sessions().get(0);
            Recorder seen = new Recorder();
            AtomicBoolean first = new AtomicBoolean(true);
            WatchedCache cache = WatchedCache.open(
                    session,
                    real.recovery(session).watches(),
                    real.runner(pool.defaultEnsemble()),
                    path -> new ZkCall<CachedNode>("getData", path, ZkCall.Kind.READ, false) {
                        @Override
                        protected CompletableFuture<CachedNode> send(ZooKeeper zk) {
                            try {
                                Stat stat = new Stat();
                                byte[] data = observer.zk().getData(path, false, stat);
                                if (first.getAndSet(false)) {
                                    observer.zk().setData(path, bytes("new"), -1);
                                    // The session has been told of the change (a watch of the same session, armed after
                                    // the cache's).
                                    await().atMost(Duration.ofSeconds(10))
                                            .until(() -> !seen.watchEvents().isEmpty());
                                }
                                return CompletableFuture.completedFuture(new CachedNode(path, data, stat));
                            } catch (Exception e) {
                                return CompletableFuture.failedFuture(e);
                            }
                        }
                    },
                    Runnable::run,
                    "/c",
                    false,
                    CacheConfig.defaults());
            try (var watch = lease.watch("/c", seen)) {
                assertThat(cache.get().data()).isEqualTo(bytes("old")); // as read when the call began
                await().atMost(Duration.ofSeconds(5))
                        .until(() -> new String(cache.get().data(), StandardCharsets.UTF_8).equals("new"));
            } finally {
                cache.close();
            }
        }
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static RealSessionPool realPool(ZkSessionPool pool) throws Exception {
        Field f = ZkSessionPool.class.getDeclaredField("pool");
        f.setAccessible(true);
        return (RealSessionPool) f.get(pool);
    }
}
