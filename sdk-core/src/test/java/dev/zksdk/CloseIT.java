package dev.zksdk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.zksdk.testing.InProcessEnsembles;
import dev.zksdk.testing.RawZooKeeper;
import dev.zksdk.testing.ServerConnections;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.curator.framework.recipes.leader.LeaderLatch;
import org.apache.curator.test.TestingServer;
import org.apache.zookeeper.CreateMode;
import org.junit.jupiter.api.Test;

/** Closing the pool leaves nothing: no connection on the server, no ephemeral, no thread. */
class CloseIT {

    @Test
    void closeRemovesConnectionsEphemeralsAndThreads() throws Exception {
        try (TestingServer server = InProcessEnsembles.startServer();
                RawZooKeeper observer = RawZooKeeper.connect(server.getConnectString(), Duration.ofSeconds(30))) {
            int baseline = ServerConnections.connectionsFrom(server.getConnectString(), "127.0.0.1");
            ZkSessionPool pool = ZkSessionPool.builder()
                    .name("closetest")
                    .connectString(server.getConnectString())
                    .sessionsPerEnsemble(2)
                    .sessionTimeout(Duration.ofSeconds(30))
                    .build();
            ZkLease lease = pool.lease();
            EphemeralNode node = lease.ephemeral("/services/close/me", new byte[] {1});
            lease.create("/services/close/plain", new byte[0], CreateMode.EPHEMERAL);
            lease.watch("/services/close", event -> {});
            ZkLease other = pool.lease();
            assertThat(other.sessionId()).isNotEqualTo(lease.sessionId());
            // Recipes run work on Curator's runSafe executor (a LeaderLatch does): its thread must go with the pool.
            try (LeaderLatch latch = new LeaderLatch(lease.curator(), "/services/close-latch", "me")) {
                latch.start();
                assertThat(latch.await(10, TimeUnit.SECONDS)).isTrue();
            }
            other.curator().runSafe(() -> {}).get(10, TimeUnit.SECONDS);
            assertThat(ServerConnections.connectionsFrom(server.getConnectString(), "127.0.0.1") - baseline)
                    .isEqualTo(2);
            assertThat(poolThreads()).isNotEmpty();

            pool.close();

            // Ephemerals go at once: a closed session is deleted now, not a session timeout (30 s) later.
            assertThat(observer.zk().exists("/services/close/me", false)).isNull();
            assertThat(observer.zk().exists("/services/close/plain", false)).isNull();
            await().atMost(Duration.ofSeconds(5))
                    .until(() -> ServerConnections.connectionsFrom(server.getConnectString(), "127.0.0.1") == baseline);
            await().atMost(Duration.ofSeconds(10))
                    .untilAsserted(() -> assertThat(poolThreads()).isEmpty());

            assertThatThrownBy(pool::lease).isInstanceOf(IllegalStateException.class);
            assertThatThrownBy(() -> lease.getData("/")).isInstanceOf(IllegalStateException.class);
            assertThatThrownBy(lease::sessionId).isInstanceOf(IllegalStateException.class);
            assertThatThrownBy(lease::curator).isInstanceOf(IllegalStateException.class);
            assertThat(node.isPresent()).isFalse();
            pool.close(); // idempotent
            assertThat(pool.stats().openSessions()).isZero();
        }
    }

    @Test
    void aClosedLeaseRefusesEveryCallButThePoolGoesOn() {
        try (TestingServer server = InProcessEnsembles.startServer();
                ZkSessionPool pool = ZkSessionPool.builder()
                        .connectString(server.getConnectString())
                        .build()) {
            ZkLease lease = pool.lease();
            lease.close();
            lease.close(); // idempotent
            assertThatThrownBy(() -> lease.exists("/"))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("lease is closed");
            assertThatThrownBy(() -> lease.getDataAsync("/")).isInstanceOf(IllegalStateException.class);
            assertThatThrownBy(() -> lease.ephemeral("/e", new byte[0])).isInstanceOf(IllegalStateException.class);
            assertThatThrownBy(() -> lease.watch("/", e -> {})).isInstanceOf(IllegalStateException.class);
            try (ZkLease fresh = pool.lease()) {
                assertThat(fresh.exists("/")).isNotNull();
            }
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    private static Set<String> poolThreads() {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(Thread::isAlive)
                .map(Thread::getName)
                .filter(n -> n.startsWith("closetest-"))
                .collect(Collectors.toSet());
    }
}
