package dev.zksdk.hosts;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.zksdk.EphemeralNode;
import dev.zksdk.ZkLease;
import dev.zksdk.ZkSessionPool;
import dev.zksdk.metrics.SessionStatus;
import dev.zksdk.testing.ProcessEnsemble;
import dev.zksdk.testing.RawZooKeeper;
import dev.zksdk.testing.ServerProcess;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.data.Stat;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Server weights ({@link HostsConfig.Builder#weight}) on three separate-process servers: a pool's sessions are spread
 * in proportion to the weights, go back to that proportion after the heaviest server is killed and restarted (each
 * keeping its id and its ephemeral), and a server of weight 0 takes a session only when no server of positive weight
 * can (here: both at their connection budget). What each server holds is read from the pool's session status and the
 * ephemerals' owners with a plain handle.
 */
class WeightsIT {

    static final Duration SESSION_TIMEOUT = Duration.ofSeconds(15);
    static final Duration INTERVAL = Duration.ofMillis(500);
    static final byte[] V = "v".getBytes(StandardCharsets.UTF_8);

    static ProcessEnsemble ensemble;

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

    @BeforeEach
    void allUp() {
        ensemble.restoreAll(Duration.ofSeconds(60));
    }

    private static ZkSessionPool pool(String name, int sessions, HostsConfig hosts) {
        return ZkSessionPool.builder()
                .name(name)
                .connectString(ensemble.connectString())
                .sessionTimeout(SESSION_TIMEOUT)
                .connectionTimeout(Duration.ofSeconds(3))
                .sessionsPerEnsemble(sessions)
                .hosts(hosts)
                .build();
    }

    private static List<SessionStatus> sessions(ZkSessionPool pool) {
        return pool.ensembles().get(0).sessions();
    }

    /** Connected sessions per server (every server listed), or null while a session is not connected. */
    private static Map<String, Integer> spread(ZkSessionPool pool) {
        Map<String, Integer> out = new TreeMap<>();
        for (ServerProcess s : ensemble.servers()) {
            out.put(s.address(), 0);
        }
        for (SessionStatus s : sessions(pool)) {
            if (!s.connected() || s.server() == null) {
                return null;
            }
            out.merge(s.server(), 1, Integer::sum);
        }
        return out;
    }

    private static Map<Integer, Long> ids(ZkSessionPool pool) {
        Map<Integer, Long> out = new TreeMap<>();
        for (SessionStatus s : sessions(pool)) {
            out.put(s.index(), s.sessionId());
        }
        return out;
    }

    private static Map<String, Integer> expected(
            ServerProcess a, int na, ServerProcess b, int nb, ServerProcess c, int nc) {
        Map<String, Integer> out = new TreeMap<>();
        out.put(a.address(), na);
        out.put(b.address(), nb);
        out.put(c.address(), nc);
        return out;
    }

    /**
     * Weights 2:1:1 and eight sessions: 4/2/2 as they connect (with rebalancing off: no move made it so). The weight-2
     * server killed (-9): all eight on the other two, none lost;
     * restarted: 4/2/2 again, by moves, each session with its id and its ephemeral.
     */
    @Test
    void sessionsFollowTheWeightsAndReturnToThemAfterTheHeaviestServerIsRestarted() throws Exception {
        List<ServerProcess> s = ensemble.servers();
        ServerProcess heavy = s.get(0);
        HostsConfig hosts = HostsConfig.builder()
                .weight(heavy.address(), 2)
                .weight(s.get(1).address(), 1)
                .weight(s.get(2).address(), 1)
                .rebalance(INTERVAL)
                .build();
        // Placed by the weights as they connect, with no move: 4/2/2 at once.
        try (ZkSessionPool placed = pool(
                "weights-211-placed",
                8,
                HostsConfig.builder()
                        .weight(heavy.address(), 2)
                        .weight(s.get(1).address(), 1)
                        .weight(s.get(2).address(), 1)
                        .noRebalance()
                        .build())) {
            placed.lease().close();
            await("all eight connected").atMost(Duration.ofSeconds(60)).until(() -> spread(placed) != null);
            assertThat(spread(placed))
                    .as("placed as they connect")
                    .isEqualTo(expected(heavy, 4, s.get(1), 2, s.get(2), 2));
        }
        try (ZkSessionPool pool = pool("weights-211", 8, hosts);
                RawZooKeeper observer = RawZooKeeper.connect(ensemble.connectString(), Duration.ofSeconds(30))) {
            List<ZkLease> leases = new ArrayList<>();
            List<EphemeralNode> nodes = new ArrayList<>();
            try {
                ZkLease first = pool.lease();
                leases.add(first);
                if (first.exists("/weights") == null) {
                    first.create("/weights", V, CreateMode.PERSISTENT);
                }
                await("all eight connected").atMost(Duration.ofSeconds(60)).until(() -> spread(pool) != null);
                for (int i = 1; i < 8; i++) {
                    leases.add(pool.lease());
                }
                assertThat(leases.stream().map(ZkLease::sessionId).distinct().count())
                        .as("one lease per session")
                        .isEqualTo(8);
                for (ZkLease l : leases) {
                    nodes.add(l.ephemeral("/weights/e-" + Long.toHexString(l.sessionId()), V));
                }
                Map<String, Integer> proportional = expected(heavy, 4, s.get(1), 2, s.get(2), 2);
                await("spread 4/2/2 by the weights")
                        .atMost(Duration.ofSeconds(30))
                        .until(() -> proportional.equals(spread(pool)));
                Map<Integer, Long> before = ids(pool);

                heavy.kill9();
                await("all eight on the two live servers")
                        .atMost(Duration.ofSeconds(30))
                        .until(() -> {
                            Map<String, Integer> sp = spread(pool);
                            return sp != null && sp.get(heavy.address()) == 0;
                        });
                heavy.restart();
                heavy.awaitServing(Duration.ofSeconds(60));
                // A write, so that the restarted follower has applied what the sessions have seen (see README).
                first.setData("/weights", V, -1);
                await("back to 4/2/2 after the restart")
                        .atMost(Duration.ofSeconds(60))
                        .until(() -> proportional.equals(spread(pool)));

                assertThat(ids(pool)).as("every session kept its id").isEqualTo(before);
                for (ZkLease l : leases) {
                    Stat st = observer.zk().exists("/weights/e-" + Long.toHexString(l.sessionId()), false);
                    assertThat(st)
                            .as("ephemeral of 0x%s", Long.toHexString(l.sessionId()))
                            .isNotNull();
                    assertThat(st.getEphemeralOwner()).isEqualTo(l.sessionId());
                }
            } finally {
                nodes.forEach(EphemeralNode::close);
                leases.forEach(ZkLease::close);
            }
        }
    }

    /**
     * A server of weight 0 beside two of weight 1, each with a connection budget of 2: four sessions go to the two
     * weighted servers, the fifth (no slot left there) to the weight-0 one, and none more than that.
     */
    @Test
    void aWeightZeroServerTakesOnlyWhatTheOthersCannot() {
        List<ServerProcess> s = ensemble.servers();
        ServerProcess spare = s.get(2);
        HostsConfig hosts = HostsConfig.builder()
                .weight(s.get(0).address(), 1)
                .weight(s.get(1).address(), 1)
                .weight(spare.address(), 0)
                .perServerConnectionBudget(2)
                .rebalance(INTERVAL)
                .build();
        try (ZkSessionPool four = pool("weights-0-four", 4, hosts)) {
            four.lease().close();
            await("four connected").atMost(Duration.ofSeconds(60)).until(() -> spread(four) != null);
            assertThat(spread(four)).isEqualTo(expected(s.get(0), 2, s.get(1), 2, spare, 0));
            try (ZkSessionPool fifth = pool("weights-0-fifth", 1, hosts)) {
                fifth.lease().close();
                await("the fifth connected").atMost(Duration.ofSeconds(60)).until(() -> spread(fifth) != null);
                assertThat(spread(fifth)).isEqualTo(expected(s.get(0), 0, s.get(1), 0, spare, 1));
                // For six looks of rebalancing, nothing moves onto the weight-0 server nor off it.
                Map<String, Integer> fourThen = expected(s.get(0), 2, s.get(1), 2, spare, 0);
                Map<String, Integer> fifthThen = expected(s.get(0), 0, s.get(1), 0, spare, 1);
                await().during(INTERVAL.multipliedBy(6))
                        .atMost(Duration.ofSeconds(10))
                        .until(() -> fourThen.equals(spread(four)) && fifthThen.equals(spread(fifth)));
            }
        }
    }

    /**
     * Six pools of one session each, rebalancing off: each new session goes where the process has the fewest
     * connections (the pools share the process's counts), so they start 2/2/2 with no move; each pool alone is always
     * "even", and a choice by the pool's own sessions only would have been a random one.
     */
    @Test
    void oneSessionPoolsStartSpreadByTheProcessCounts() {
        List<ServerProcess> s = ensemble.servers();
        HostsConfig hosts = HostsConfig.builder().noRebalance().build();
        List<ZkSessionPool> pools = new ArrayList<>();
        try {
            Map<String, Integer> total = new TreeMap<>();
            for (int i = 0; i < 6; i++) {
                ZkSessionPool p = pool("weights-one-" + i, 1, hosts);
                pools.add(p);
                p.lease().close();
                await("pool " + i + " connected").atMost(Duration.ofSeconds(60)).until(() -> spread(p) != null);
                spread(p).forEach((server, n) -> total.merge(server, n, Integer::sum));
            }
            assertThat(total).isEqualTo(expected(s.get(0), 2, s.get(1), 2, s.get(2), 2));
        } finally {
            pools.forEach(ZkSessionPool::close);
        }
    }
}
