package dev.zksdk.internal.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import dev.zksdk.ZkLease;
import dev.zksdk.ZkSessionPool;
import dev.zksdk.internal.pool.RealSessionPool;
import dev.zksdk.internal.session.SharedSession;
import dev.zksdk.testing.InProcessEnsembles;
import dev.zksdk.testing.RawZooKeeper;
import java.lang.reflect.Field;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.curator.test.TestingServer;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.data.Stat;
import org.junit.jupiter.api.Test;

/**
 * {@code SESSIONMOVED} means the session is alive on another server and the request was refused there, not applied.
 * ZooKeeper 3.9's server closes the connection instead of answering it, so a real server does not show it to a
 * client; the pipeline's classification is tested here with a call whose first answer is that code, on a real
 * session: the call is retried on the same session and succeeds, even when it is session-bound (an ephemeral create),
 * and is never reported as an expiry.
 */
class SessionMovedIsNotExpiryIT {

    @Test
    void aSessionBoundWriteAnsweredSessionMovedIsRetriedOnTheSameSession() throws Exception {
        try (TestingServer server = InProcessEnsembles.startServer();
                RawZooKeeper observer = RawZooKeeper.connect(server.getConnectString(), Duration.ofSeconds(30));
                ZkSessionPool pool = ZkSessionPool.builder()
                        .connectString(server.getConnectString())
                        .build();
                ZkLease lease = pool.lease()) {
            RealSessionPool real = realPool(pool);
            SharedSession session = real.sessions().get(0);
            OperationRunner runner = real.runner(pool.defaultEnsemble());
            ZkCall<String> create = movedOnce(
                    new Calls.Create("/moved", new byte[] {1}, CreateMode.EPHEMERAL, ZooDefs.Ids.OPEN_ACL_UNSAFE));
            assertThat(runner.executeSync(session, create)).isEqualTo("/moved");
            Stat stat = observer.zk().exists("/moved", false);
            assertThat(stat.getEphemeralOwner()).isEqualTo(lease.sessionId());

            ZkCall<String> async = movedOnce(new Calls.Create(
                    "/moved-async", new byte[] {1}, CreateMode.EPHEMERAL, ZooDefs.Ids.OPEN_ACL_UNSAFE));
            assertThat(runner.execute(session, async).get()).isEqualTo("/moved-async");
            assertThat(observer.zk().exists("/moved-async", false).getEphemeralOwner())
                    .isEqualTo(lease.sessionId());
            assertThat(pool.stats().sessionsOpened()).isEqualTo(1);
        }
    }

    /** {@code call}, session-bound, whose first attempt is answered SESSIONMOVED without reaching the server. */
    private static ZkCall<String> movedOnce(ZkCall<String> call) {
        AtomicInteger sends = new AtomicInteger();
        return new ZkCall<>(call.name, call.path, ZkCall.Kind.WRITE, true) {
            @Override
            protected CompletableFuture<String> send(ZooKeeper zk) {
                if (sends.getAndIncrement() == 0) {
                    return CompletableFuture.failedFuture(
                            KeeperException.create(KeeperException.Code.SESSIONMOVED, path));
                }
                return call.send(zk);
            }

            @Override
            protected String sendSync(ZooKeeper zk) throws KeeperException, InterruptedException {
                if (sends.getAndIncrement() == 0) {
                    throw KeeperException.create(KeeperException.Code.SESSIONMOVED, path);
                }
                return call.sendSync(zk);
            }
        };
    }

    static RealSessionPool realPool(ZkSessionPool pool) throws Exception {
        Field f = ZkSessionPool.class.getDeclaredField("pool");
        f.setAccessible(true);
        return (RealSessionPool) f.get(pool);
    }
}
