package dev.zksdk.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.curator.test.TestingServer;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException.Code;
import org.apache.zookeeper.Watcher.Event.KeeperState;
import org.apache.zookeeper.ZooDefs.Ids;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class ZkProxyIT {

    /** The client's read timeout is two thirds of this: long enough to freeze for a second without losing it. */
    private static final Duration SESSION_TIMEOUT = Duration.ofSeconds(6);

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
    void freezeStallsARequestAndUnfreezeCompletesItInTheSameSession() throws Exception {
        try (ZkProxy proxy = ZkProxy.to(server.getConnectString());
                RawZooKeeper client = RawZooKeeper.connect(proxy.connectString(), SESSION_TIMEOUT)) {
            long sessionId = client.sessionId();
            client.zk().create("/frozen", "before".getBytes(), Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);

            proxy.freeze();
            assertThat(proxy.isFrozen()).isTrue();
            CompletableFuture<Integer> reply = new CompletableFuture<>();
            client.zk().getData("/frozen", false, (rc, path, ctx, data, stat) -> reply.complete(rc), null);

            await().during(Duration.ofMillis(800)).atMost(Duration.ofSeconds(2)).until(() -> !reply.isDone());

            proxy.unfreeze();

            assertThat(reply.get(5, TimeUnit.SECONDS)).isEqualTo(Code.OK.intValue());
            assertThat(client.sessionId()).isEqualTo(sessionId);
            assertThat(client.states()).containsExactly(KeeperState.SyncConnected);
        }
    }

    @Test
    void closeAllConnectionsMakesTheClientReconnectToTheSameSession() throws Exception {
        try (ZkProxy proxy = ZkProxy.to(server.getConnectString());
                RawZooKeeper client = RawZooKeeper.connect(proxy.connectString(), SESSION_TIMEOUT)) {
            long sessionId = client.sessionId();
            assertThat(proxy.clientConnectionCount()).isEqualTo(1);

            proxy.closeAllConnections();

            client.awaitState(KeeperState.Disconnected, Duration.ofSeconds(5));
            client.awaitCount(KeeperState.SyncConnected, 2, Duration.ofSeconds(10));
            assertThat(client.sessionId()).isEqualTo(sessionId);
            assertThat(client.states()).doesNotContain(KeeperState.Expired);
            assertThat(client.zk().exists("/", false)).isNotNull();
            assertThat(proxy.clientConnectionCount()).isEqualTo(1);
        }
    }

    @Test
    void proxyCountsItsConnectionsAndClosesThemOnClose() {
        ZkProxy proxy = ZkProxy.to(server.getConnectString());
        try (RawZooKeeper first = RawZooKeeper.connect(proxy.connectString(), SESSION_TIMEOUT);
                RawZooKeeper second = RawZooKeeper.connect(proxy.connectString(), SESSION_TIMEOUT)) {
            assertThat(proxy.clientConnectionCount()).isEqualTo(2);

            proxy.close();

            first.awaitState(KeeperState.Disconnected, Duration.ofSeconds(5));
            second.awaitState(KeeperState.Disconnected, Duration.ofSeconds(5));
        } finally {
            proxy.close();
        }
    }

    @Test
    void proxiedEnsembleFreezesEveryMember() throws Exception {
        try (ProxiedEnsemble proxied = ProxiedEnsemble.of(server.getConnectString())) {
            assertThat(proxied.proxies()).hasSize(1);
            assertThat(proxied.proxyFor(server.getConnectString()).target()).isEqualTo(server.getConnectString());
            try (RawZooKeeper client = RawZooKeeper.connect(proxied.connectString(), SESSION_TIMEOUT)) {
                proxied.freezeAll();
                CompletableFuture<Integer> reply = new CompletableFuture<>();
                client.zk().exists("/", false, (rc, path, ctx, stat) -> reply.complete(rc), null);
                await().during(Duration.ofMillis(500))
                        .atMost(Duration.ofSeconds(2))
                        .until(() -> !reply.isDone());

                proxied.unfreezeAll();

                assertThat(reply.get(5, TimeUnit.SECONDS)).isEqualTo(Code.OK.intValue());
            }
        }
    }
}
