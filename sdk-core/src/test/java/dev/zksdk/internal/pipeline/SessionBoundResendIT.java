package dev.zksdk.internal.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.zksdk.ZkLease;
import dev.zksdk.ZkSessionExpiredException;
import dev.zksdk.ZkSessionPool;
import dev.zksdk.internal.pool.RealSessionPool;
import dev.zksdk.internal.session.SharedSession;
import dev.zksdk.testing.ForcedExpiry;
import dev.zksdk.testing.InProcessEnsembles;
import dev.zksdk.testing.RawZooKeeper;
import java.time.Duration;
import org.apache.curator.test.TestingServer;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.junit.jupiter.api.Test;

/**
 * Session-bound work sent again after its batch was rolled back for a neighbour's failure ({@link AsyncBatcher}) carries
 * the session it was first sent on: on that session it runs; once that session has expired it fails as expired and
 * makes nothing on the new one, as the same ephemeral create alone would. The batcher sends it again within
 * microseconds of the rollback, so an expiry in between cannot be timed from outside; the pipeline's rule is tested here
 * directly, on a real session and a real expiry.
 */
class SessionBoundResendIT {

    @Test
    void aSessionBoundCallBoundToAnExpiredSessionFailsAsExpiredAndMakesNothing() throws Exception {
        try (TestingServer server = InProcessEnsembles.startServer();
                RawZooKeeper observer = RawZooKeeper.connect(server.getConnectString(), Duration.ofSeconds(30));
                ZkSessionPool pool = ZkSessionPool.builder()
                        .connectString(server.getConnectString())
                        .build();
                ZkLease lease = pool.lease()) {
            RealSessionPool real = SessionMovedIsNotExpiryIT.realPool(pool);
            SharedSession session = real.sessions().get(0);
            OperationRunner runner = real.runner(pool.defaultEnsemble());

            long first = lease.sessionId();
            Calls.Create onFirst = ephemeral("/bound-live");
            onFirst.boundSessionId = first;
            assertThat(runner.executeSync(session, onFirst)).isEqualTo("/bound-live");
            assertThat(observer.zk().exists("/bound-live", false).getEphemeralOwner())
                    .isEqualTo(first);

            ZooKeeper zk = lease.curator().getZookeeperClient().getZooKeeper();
            ForcedExpiry.expireSession(server.getConnectString(), zk.getSessionId(), zk.getSessionPasswd());
            long second = await().atMost(Duration.ofSeconds(30))
                    .until(
                            () -> {
                                try {
                                    return lease.sessionId();
                                } catch (RuntimeException e) {
                                    return 0L;
                                }
                            },
                            id -> id != 0 && id != first);

            Calls.Create sync = ephemeral("/bound-sync");
            sync.boundSessionId = first;
            assertThatThrownBy(() -> runner.executeSync(session, sync))
                    .isInstanceOf(ZkSessionExpiredException.class)
                    .hasMessageContaining(Long.toHexString(first))
                    .hasMessageContaining(Long.toHexString(second));
            Calls.Create async = ephemeral("/bound-async");
            async.boundSessionId = first;
            assertThat(runner.execute(session, async))
                    .failsWithin(Duration.ofSeconds(30))
                    .withThrowableOfType(java.util.concurrent.ExecutionException.class)
                    .withCauseInstanceOf(ZkSessionExpiredException.class);
            assertThat(observer.zk().exists("/bound-sync", false)).isNull();
            assertThat(observer.zk().exists("/bound-async", false)).isNull();

            // Not bound: the new session makes it.
            assertThat(runner.executeSync(session, ephemeral("/unbound"))).isEqualTo("/unbound");
            assertThat(observer.zk().exists("/unbound", false).getEphemeralOwner())
                    .isEqualTo(second);
        }
    }

    private static Calls.Create ephemeral(String path) {
        return new Calls.Create(path, new byte[] {1}, CreateMode.EPHEMERAL, ZooDefs.Ids.OPEN_ACL_UNSAFE);
    }
}
