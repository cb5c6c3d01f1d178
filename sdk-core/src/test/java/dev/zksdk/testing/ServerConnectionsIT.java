package dev.zksdk.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import org.apache.curator.test.TestingServer;
import org.apache.zookeeper.AddWatchMode;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.ZooDefs.Ids;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class ServerConnectionsIT {

    private static final Duration SESSION_TIMEOUT = Duration.ofSeconds(4);

    private static TestingServer server;
    private static String address;

    @BeforeAll
    static void startServer() {
        server = InProcessEnsembles.startServer();
        address = server.getConnectString();
    }

    @AfterAll
    static void stopServer() throws Exception {
        server.close();
    }

    @Test
    void connectionsFromCountsEachRawClientOnceAndNotTheQueryItself() {
        // Sessions of other tests in this class may still be closing; with none left, the count is zero even
        // though the cons query itself is connected.
        await().atMost(Duration.ofSeconds(5)).until(() -> ServerConnections.connectionsFrom(address, "127.0.0.1") == 0);
        try (RawZooKeeper first = RawZooKeeper.connect(address, SESSION_TIMEOUT)) {
            assertThat(ServerConnections.connectionsFrom(address, "127.0.0.1")).isEqualTo(1);
            try (RawZooKeeper second = RawZooKeeper.connect(address, SESSION_TIMEOUT)) {
                assertThat(ServerConnections.connectionsFrom(address, "127.0.0.1"))
                        .isEqualTo(2);
            }
            await().atMost(Duration.ofSeconds(5))
                    .until(() -> ServerConnections.connectionsFrom(address, "127.0.0.1") == 1);
            assertThat(ServerConnections.connectionsFrom(address, "10.9.9.9")).isZero();
        }
    }

    @Test
    void mntrReportsAliveConnections() {
        long before = ServerConnections.mntr(address, "zk_num_alive_connections");
        try (RawZooKeeper client = RawZooKeeper.connect(address, SESSION_TIMEOUT)) {
            // The mntr query's own connection is counted too, before and after.
            assertThat(ServerConnections.mntr(address, "zk_num_alive_connections"))
                    .isEqualTo(before + 1);
            assertThat(ServerConnections.mntr(address, "zk_connection_rejected"))
                    .isZero();
        }
        assertThatThrownBy(() -> ServerConnections.mntr(address, "zk_no_such_key"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("zk_no_such_key");
        assertThatThrownBy(() -> ServerConnections.mntr(address, "zk_server_state"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("standalone");
    }

    @Test
    void watchCountFollowsDataWatches() throws Exception {
        int before = ServerConnections.watchCount(address);
        try (RawZooKeeper client = RawZooKeeper.connect(address, SESSION_TIMEOUT)) {
            client.zk().create("/watched", new byte[0], Ids.OPEN_ACL_UNSAFE, CreateMode.EPHEMERAL);
            client.zk().getData("/watched", true, null);
            client.zk().exists("/not-there", true);
            client.zk().addWatch("/persistent", AddWatchMode.PERSISTENT);

            assertThat(ServerConnections.watchCount(address)).isEqualTo(before + 3);
            assertThat(ServerConnections.mntr(address, "zk_watch_count")).isGreaterThanOrEqualTo(before + 3);
        }
        await().atMost(Duration.ofSeconds(5)).until(() -> ServerConnections.watchCount(address) == before);
    }
}
