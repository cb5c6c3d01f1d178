package dev.zksdk.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.apache.curator.test.TestingServer;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Watcher.Event.KeeperState;
import org.apache.zookeeper.ZooDefs.Ids;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class ForcedExpiryIT {

    /** Long, so that only the forced expiry, not a timeout, can end the session within the test. */
    private static final Duration SESSION_TIMEOUT = Duration.ofSeconds(30);

    private static TestingServer server;

    @BeforeAll
    static void startServer() {
        server = InProcessEnsembles.startServer();
    }

    @AfterAll
    static void stopServer() throws Exception {
        server.close();
    }

    @Test
    void clientSeesExpiredAndItsEphemeralIsGone() throws Exception {
        try (RawZooKeeper victim = RawZooKeeper.connect(server.getConnectString(), SESSION_TIMEOUT);
                RawZooKeeper observer = RawZooKeeper.connect(server.getConnectString(), SESSION_TIMEOUT)) {
            victim.zk().create("/owned", new byte[0], Ids.OPEN_ACL_UNSAFE, CreateMode.EPHEMERAL);

            ForcedExpiry.expireSession(server.getConnectString(), victim.sessionId(), victim.sessionPassword());

            assertThat(observer.zk().exists("/owned", false)).isNull();
            victim.awaitState(KeeperState.Expired, Duration.ofSeconds(10));
            assertThatThrownBy(() -> victim.zk().exists("/", false))
                    .isInstanceOf(KeeperException.SessionExpiredException.class);
            assertThat(observer.states()).doesNotContain(KeeperState.Expired);
        }
    }

    @Test
    void expireSessionWorksThroughAnotherServerOfTheEnsemble() {
        try (ProcessEnsemble ensemble = ProcessEnsemble.builder().size(3).start();
                RawZooKeeper victim = RawZooKeeper.connect(ensemble.connectString(1), SESSION_TIMEOUT)) {
            ForcedExpiry.expireSession(ensemble.connectString(2), victim.sessionId(), victim.sessionPassword());

            victim.awaitState(KeeperState.Expired, Duration.ofSeconds(10));
        }
    }
}
