package dev.zksdk.hosts;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.zksdk.testing.ProcessEnsemble;
import dev.zksdk.testing.ServerProcess;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.data.Stat;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A session that must fail over while the process's connection budget is full everywhere but on one live server:
 * real handles ({@link BudgetedZooKeeper}) on three separate-process servers, kill -9 and SIGSTOP.
 */
class BudgetTurnIT {

    static final int SESSION_TIMEOUT_MS = 20_000;

    static ProcessEnsemble ensemble;

    private final List<ZooKeeper> handles = new ArrayList<>();

    @BeforeAll
    static void start() {
        ensemble = ProcessEnsemble.builder().size(3).start();
    }

    @AfterAll
    static void stop() {
        if (ensemble != null) {
            ensemble.close();
        }
    }

    @AfterEach
    void closeHandlesAndRestoreServers() throws InterruptedException {
        for (ZooKeeper zk : handles) {
            zk.close(); // the handle closes its provider, returning the slot
        }
        for (ServerProcess s : ensemble.servers()) {
            if (s.isSuspended()) {
                s.sigcont();
            }
            if (!s.isAlive()) {
                s.restart();
            }
        }
    }

    private BudgetedZooKeeper open(
            List<ServerProcess> servers, SessionSpread spread, ConnectionBudget budget, Watcher watcher)
            throws Exception {
        List<InetSocketAddress> addresses = new ArrayList<>();
        for (ServerProcess s : servers) {
            addresses.add(InetSocketAddress.createUnresolved("127.0.0.1", s.clientPort()));
        }
        WeightedHostProvider provider = new WeightedHostProvider(addresses, spread, budget, SESSION_TIMEOUT_MS);
        String connect =
                String.join(",", servers.stream().map(ServerProcess::address).toList());
        BudgetedZooKeeper zk = BudgetedZooKeeper.open(connect, SESSION_TIMEOUT_MS, watcher, provider, null);
        handles.add(zk);
        return zk;
    }

    /**
     * Budget 1 per server; another pool's session holds the slot of server B. The session is on A, which is killed
     * while C is stopped: its attempts fail on C (no answer) and on A (refused), so it takes the servers in turn, and
     * holds A's slot. C is then resumed and serves again (with B). Its slot is free: the session must reach it and
     * resume there with its id and ephemeral, not go back to dead A after every attempt because B, the server it tried
     * longest ago, is full (the two-pools case of {@code Review21cAdversarialIT} lost a session so).
     */
    @Test
    void aSessionHoldingTheSlotOfADeadServerReachesTheOnlyLiveServerWithAFreeSlot() throws Exception {
        HostsConfig cfg = HostsConfig.builder().perServerConnectionBudget(1).build();
        ConnectionBudget budget = new ConnectionBudget();
        ServerProcess b = ensemble.servers().get(1);
        ZooKeeper other = open(List.of(b), new SessionSpread(cfg), budget, e -> {});
        await("the other pool's session on B")
                .atMost(Duration.ofSeconds(30))
                .until(() -> other.getState() == ZooKeeper.States.CONNECTED);

        Queue<Watcher.Event.KeeperState> states = new ConcurrentLinkedQueue<>();
        SessionSpread spread = new SessionSpread(cfg);
        BudgetedZooKeeper zk = open(ensemble.servers(), spread, budget, e -> {
            if (e.getType() == Watcher.Event.EventType.None) {
                states.add(e.getState());
            }
        });
        await("the session connected")
                .atMost(Duration.ofSeconds(30))
                .until(() -> zk.getState() == ZooKeeper.States.CONNECTED);
        long id = zk.getSessionId();
        zk.create(
                "/budget-turn",
                "v".getBytes(StandardCharsets.UTF_8),
                ZooDefs.Ids.OPEN_ACL_UNSAFE,
                CreateMode.EPHEMERAL);
        String onA = zk.weightedHostProvider().currentServer();
        ServerProcess a = ensemble.servers().stream()
                .filter(s -> s.address().equals(onA))
                .findFirst()
                .orElseThrow();
        ServerProcess c = ensemble.servers().stream()
                .filter(s -> s != a && s != b)
                .findFirst()
                .orElseThrow();
        assertThat(budget.snapshot()).as("budget before").isEqualTo(Map.of(a.address(), 1, b.address(), 1));

        c.sigstop();
        a.kill9();
        long failuresBefore = spread.stats().connectFailures();
        await("attempts failed on C and A")
                .atMost(Duration.ofSeconds(10))
                .pollInterval(Duration.ofMillis(20))
                .until(() -> spread.stats().connectFailures() >= failuresBefore + 2);
        c.sigcont();

        // C may take the session as soon as it resumes and drop it again when it learns that its quorum went away
        // (ConnectionLoss meanwhile): the session must end up on C, the only live server with a free slot, serving.
        await("the session back on C, the only live server with a free slot, and served there")
                .atMost(Duration.ofSeconds(40))
                .ignoreExceptionsInstanceOf(KeeperException.class)
                .untilAsserted(() -> {
                    assertThat(zk.getState()).isEqualTo(ZooKeeper.States.CONNECTED);
                    assertThat(zk.weightedHostProvider().currentServer()).isEqualTo(c.address());
                    Stat st = zk.exists("/budget-turn", false);
                    assertThat(st).as("ephemeral").isNotNull();
                    assertThat(st.getEphemeralOwner()).as("ephemeral owner").isEqualTo(id);
                    assertThat(c.fourLetter("cons", Duration.ofSeconds(5)))
                            .as("C's own cons")
                            .contains("sid=0x" + Long.toHexString(id));
                });
        assertThat(zk.getSessionId()).as("same session").isEqualTo(id);
        assertThat(states).as("session events").doesNotContain(Watcher.Event.KeeperState.Expired);
        assertThat(budget.snapshot()).as("budget after").isEqualTo(Map.of(b.address(), 1, c.address(), 1));
    }
}
