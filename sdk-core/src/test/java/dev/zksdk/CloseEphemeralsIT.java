package dev.zksdk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.zksdk.testing.ForcedExpiry;
import dev.zksdk.testing.InProcessEnsembles;
import dev.zksdk.testing.RawZooKeeper;
import dev.zksdk.testing.Recorder;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.curator.test.TestingServer;
import org.apache.zookeeper.Watcher.Event.EventType;
import org.apache.zookeeper.ZooKeeper;
import org.junit.jupiter.api.Test;

/**
 * {@link ZkSessionPool#closeEphemerals()}: the graceful-shutdown step that deregisters at once. Owned ephemerals are
 * deleted explicitly (an observer sees them go now, not a session timeout later) while the session stays up, and they
 * are not re-created by a later recovery.
 */
class CloseEphemeralsIT {

    @Test
    void ownedEphemeralsAreDeletedAtOnceWhileTheSessionLivesOn() throws Exception {
        Recorder events = new Recorder();
        try (TestingServer server = InProcessEnsembles.startServer();
                RawZooKeeper observer = RawZooKeeper.connect(server.getConnectString(), Duration.ofSeconds(30));
                ZkSessionPool pool = ZkSessionPool.builder()
                        .connectString(server.getConnectString())
                        .sessionTimeout(Duration.ofSeconds(20))
                        .listener(events)
                        .build();
                ZkLease lease = pool.lease()) {
            EphemeralNode a = lease.ephemeral("/services/api/a", new byte[] {1});
            EphemeralNode b = lease.ephemeral("/services/api/b", new byte[] {2});
            CountDownLatch deleted = new CountDownLatch(2);
            for (String path : List.of(a.path(), b.path())) {
                assertThat(observer.zk().exists(path, event -> {
                            if (event.getType() == EventType.NodeDeleted) {
                                deleted.countDown();
                            }
                        }))
                        .isNotNull();
            }
            long session = lease.sessionId();

            pool.closeEphemerals();

            // Deleted by the time the call returns: far sooner than the 20 s session timeout.
            assertThat(observer.zk().exists(a.path(), false)).isNull();
            assertThat(observer.zk().exists(b.path(), false)).isNull();
            assertThat(deleted.await(5, TimeUnit.SECONDS)).isTrue();
            assertThat(a.isPresent()).isFalse();
            assertThat(lease.sessionId()).isEqualTo(session);
            assertThat(pool.stats().openSessions()).isEqualTo(1);
            assertThat(pool.ensembles().get(0).ownedEphemerals()).isZero();

            // A new session's recovery must not bring a closed ephemeral back.
            ZooKeeper zk = lease.curator().getZookeeperClient().getZooKeeper();
            ForcedExpiry.expireSession(server.getConnectString(), zk.getSessionId(), zk.getSessionPasswd());
            await().atMost(Duration.ofSeconds(30))
                    .until(() -> !events.recoveries().isEmpty());
            assertThat(events.recoveries().get(0).ephemeralsRecreated()).isZero();
            assertThat(observer.zk().exists(a.path(), false)).isNull();
            assertThat(observer.zk().exists(b.path(), false)).isNull();

            // The pool still registers new ones.
            EphemeralNode c = lease.ephemeral("/services/api/c", new byte[] {3});
            assertThat(observer.zk().exists(c.path(), false)).isNotNull();
        }
    }

    @Test
    void closeEphemeralsWithNothingOwnedOrBeforeAnyLeaseReturnsAtOnce() {
        try (TestingServer server = InProcessEnsembles.startServer();
                ZkSessionPool pool = ZkSessionPool.builder()
                        .connectString(server.getConnectString())
                        .build()) {
            pool.closeEphemerals();
            assertThat(pool.ensembles()).isEmpty();
            try (ZkLease lease = pool.lease()) {
                pool.closeEphemerals();
                assertThat(lease.exists("/")).isNotNull();
            }
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }
}
