package dev.zksdk.hosts;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryOneTime;
import org.apache.curator.test.TestingServer;
import org.apache.zookeeper.ZooKeeper;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The factory wired into a real Curator client: budget slots follow the handles Curator creates and closes. */
class HostsZookeeperFactoryIT {

    private static final int SESSION_TIMEOUT_MS = 4_000;

    private TestingServer server;
    private String serverKey;

    @BeforeEach
    void startServer() throws Exception {
        server = LocalServers.server();
        serverKey = LocalServers.LOOPBACK + ":" + server.getPort();
    }

    @AfterEach
    void stopServer() throws Exception {
        server.close();
    }

    private CuratorFramework curator(HostsZookeeperFactory factory) {
        return CuratorFrameworkFactory.builder()
                .connectString(server.getConnectString())
                .sessionTimeoutMs(SESSION_TIMEOUT_MS)
                .connectionTimeoutMs(SESSION_TIMEOUT_MS)
                .retryPolicy(new RetryOneTime(100))
                .zookeeperFactory(factory)
                .build();
    }

    @Test
    void curatorHandlesHoldOneSlotEachAcrossSessionExpiryAndReturnItOnClose() throws Exception {
        SessionSpread spread = new SessionSpread();
        ConnectionBudget budget = new ConnectionBudget();
        HostsZookeeperFactory factory =
                new HostsZookeeperFactory(spread, budget, SessionCreationLimiter.create(50, System::nanoTime));
        CuratorFramework client = curator(factory);
        client.start();
        assertThat(client.blockUntilConnected(10, TimeUnit.SECONDS)).isTrue();
        ZooKeeper first = client.getZookeeperClient().getZooKeeper();
        assertThat(first).isInstanceOf(BudgetedZooKeeper.class);
        client.create().forPath("/hosts-it", new byte[] {1});
        assertThat(budget.snapshot()).containsExactly(Map.entry(serverKey, 1));
        assertThat(spread.stats().connectionsPerServer()).containsExactly(Map.entry(serverKey, 1));

        // a real server-side expiry: a second handle takes over the session and closes it
        long expiredId = first.getSessionId();
        ZooKeeper thief = new ZooKeeper(
                server.getConnectString(), SESSION_TIMEOUT_MS, e -> {}, expiredId, first.getSessionPasswd());
        await().atMost(Duration.ofSeconds(10)).until(() -> thief.getState().isConnected());
        thief.close();

        await().atMost(Duration.ofSeconds(20)).until(() -> {
            ZooKeeper now = client.getZookeeperClient().getZooKeeper();
            return now != first && now.getState().isConnected() && now.getSessionId() != expiredId;
        });
        assertThat(client.getData().forPath("/hosts-it")).containsExactly(1);
        assertThat(((BudgetedZooKeeper) first).weightedHostProvider().isClosed())
                .as("Curator closed the expired handle, which returned its slot")
                .isTrue();
        assertThat(budget.snapshot()).containsExactly(Map.entry(serverKey, 1));
        assertThat(spread.stats().sessionsPerServer()).containsExactly(Map.entry(serverKey, 1));

        client.close();
        assertThat(budget.snapshot()).isEmpty();
        assertThat(spread.stats().sessionsPerServer()).isEmpty();
    }

    @Test
    void factoryRefusesWhenTheBudgetIsExhaustedOrTheRateExceeded() throws Exception {
        SessionSpread spread = new SessionSpread(HostsConfig.builder()
                .perServerConnectionBudget(1)
                .sessionCreationMaxWait(Duration.ZERO)
                .build());
        ConnectionBudget budget = new ConnectionBudget();
        HostsZookeeperFactory factory =
                new HostsZookeeperFactory(spread, budget, SessionCreationLimiter.create(1_000, System::nanoTime));
        String connect = server.getConnectString();

        ZooKeeper one = factory.newZooKeeper(connect, SESSION_TIMEOUT_MS, e -> {}, false);
        try {
            await().atMost(Duration.ofSeconds(10))
                    .pollDelay(Duration.ofMillis(5))
                    .until(() -> one.getState().isConnected());
            assertThatThrownBy(() -> factory.newZooKeeper(connect, SESSION_TIMEOUT_MS, e -> {}, false))
                    .isInstanceOf(ConnectionBudgetExhaustedException.class)
                    .hasMessageContaining("perServerConnectionBudget=1")
                    .hasMessageContaining(serverKey + "=1");
        } finally {
            one.close();
        }
        assertThat(budget.snapshot()).isEmpty();

        HostsZookeeperFactory slow =
                new HostsZookeeperFactory(spread, budget, SessionCreationLimiter.create(0.01, System::nanoTime));
        ZooKeeper two = slow.newZooKeeper(connect, SESSION_TIMEOUT_MS, e -> {}, false);
        try {
            assertThatThrownBy(() -> slow.newZooKeeper(connect, SESSION_TIMEOUT_MS, e -> {}, false))
                    .isInstanceOf(SessionRateLimitedException.class)
                    .hasMessageContaining("sessionCreationRate=0.01/s");
            assertThat(budget.snapshot())
                    .as("a refused session takes no slot")
                    .containsExactly(Map.entry(serverKey, 1));
        } finally {
            two.close();
        }
        assertThat(budget.snapshot()).isEmpty();
    }
}
