package dev.zksdk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.zksdk.hosts.HostsConfig;
import dev.zksdk.testing.InProcessEnsembles;
import dev.zksdk.testing.ProcessEnsemble;
import dev.zksdk.testing.ServerConnections;
import dev.zksdk.testing.ServerProcess;
import dev.zksdk.testing.SessionLeases;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.curator.test.InstanceSpec;
import org.apache.curator.test.TestingCluster;
import org.apache.curator.test.TestingServer;
import org.apache.zookeeper.ZooKeeper;
import org.junit.jupiter.api.Test;

/** Server selection at the pool level: spreading within a connection budget, weights, dead addresses, drift. */
class HostSelectionIT {

    @Test
    void sixSessionsOnThreeServersWithMaxClientCnxnsTwoAllConnectTwoPerServer() throws Exception {
        try (ProcessEnsemble ensemble =
                ProcessEnsemble.builder().size(3).maxClientCnxns(2).start()) {
            // The pool: budget 2 per server, so six sessions can only land 2/2/2, and nothing is ever refused.
            try (ZkSessionPool pool = ZkSessionPool.builder()
                    .connectString(ensemble.connectString())
                    .sessionsPerEnsemble(6)
                    .hosts(HostsConfig.builder().perServerConnectionBudget(2).build())
                    .build()) {
                List<ZkLease> leases = SessionLeases.oneOnEachSession(pool, 6);
                for (ZkLease lease : leases) {
                    assertThat(lease.exists("/")).isNotNull();
                }
                assertThat(leases.stream().map(ZkLease::sessionId).distinct().count())
                        .isEqualTo(6);
                Map<String, Integer> perServer = pool.stats().connectionsPerServer();
                assertThat(perServer)
                        .hasSize(3)
                        .allSatisfy((server, count) -> assertThat(count).isEqualTo(2));
                leases.forEach(ZkLease::close);
            }
            assertThat(totalRejected(ensemble))
                    .as("the pool never overflowed maxClientCnxns")
                    .isZero();

            // Plain ZooKeeper: each client shuffles the list on its own. Six independent shuffles land 2/2/2 only
            // about one time in eight (90 of 729 placements), so some batch soon sends a third client to a full
            // server, which refuses it.
            long rejected = 0;
            for (int batch = 0; batch < 10 && rejected == 0; batch++) {
                List<ZooKeeper> raw = new ArrayList<>();
                try {
                    for (int i = 0; i < 6; i++) {
                        raw.add(new ZooKeeper(ensemble.connectString(), 10_000, e -> {}));
                    }
                    await().atMost(Duration.ofSeconds(60))
                            .until(() -> raw.stream().allMatch(z -> z.getState().isConnected()));
                } finally {
                    for (ZooKeeper z : raw) {
                        z.close();
                    }
                }
                await().atMost(Duration.ofSeconds(10)).ignoreExceptions().until(() -> totalRejected(ensemble) >= 0);
                rejected = totalRejected(ensemble);
            }
            assertThat(rejected)
                    .as("plain shuffling overflowed maxClientCnxns in some batch")
                    .isPositive();
        }
    }

    private static long totalRejected(ProcessEnsemble ensemble) {
        long total = 0;
        for (ServerProcess s : ensemble.servers()) {
            total += ServerConnections.mntr(s.address(), "zk_connection_rejected");
        }
        return total;
    }

    @Test
    void weightsSteerSessionsAcrossPoolsAndWeightZeroIsOnlyAFallback() throws Exception {
        // maxClientCnxns off: 60% of 150 sessions is over ZooKeeper's default of 60 per client address, which is
        // exactly what the budget normally protects against; here the weights alone are under test.
        try (TestingCluster cluster = InProcessEnsembles.startCluster(
                3, InProcessEnsembles.options().maxClientCnxns(0).build())) {
            List<String> servers = new ArrayList<>();
            for (InstanceSpec spec : cluster.getInstances()) {
                servers.add("127.0.0.1:" + spec.getPort());
            }
            String connect = String.join(",", servers);
            HostsConfig weighted = HostsConfig.builder()
                    .weight(servers.get(0), 3)
                    .weight(servers.get(1), 1)
                    .weight(servers.get(2), 1)
                    .perServerConnectionBudget(500)
                    .sessionCreationRate(200)
                    .build();
            int sessions = 150;
            Map<String, Integer> counts = new HashMap<>();
            // One pool, many ensembles (distinct session timeouts): each session is placed on its own, as sessions of
            // separate pools in one JVM are.
            try (ZkSessionPool pool = ZkSessionPool.builder()
                    .connectString(connect)
                    .hosts(weighted)
                    .build()) {
                for (int i = 0; i < sessions; i++) {
                    EnsembleConfig ensemble = EnsembleConfig.builder()
                            .connectString(connect)
                            .sessionTimeout(Duration.ofMillis(10_000 + i))
                            .build();
                    try (ZkLease lease = pool.lease(ensemble)) {
                        assertThat(lease.exists("/")).isNotNull();
                    }
                }
                pool.stats().connectionsPerServer().forEach(counts::put);
            }
            System.out.println("weighted placement " + servers + " -> " + counts);
            assertThat(counts.values().stream().mapToInt(Integer::intValue).sum())
                    .isEqualTo(sessions);
            assertShare(counts.getOrDefault(servers.get(0), 0), sessions, 0.6);
            assertShare(counts.getOrDefault(servers.get(1), 0), sessions, 0.2);
            assertShare(counts.getOrDefault(servers.get(2), 0), sessions, 0.2);

            // Weight 0: never chosen while a weighted server serves; taken when it is the only one left.
            HostsConfig fallback = HostsConfig.builder()
                    .weight(servers.get(0), 1)
                    .weight(servers.get(1), 0)
                    .weight(servers.get(2), 0)
                    .build();
            try (ZkSessionPool pool = ZkSessionPool.builder()
                    .connectString(connect)
                    .hosts(fallback)
                    .sessionsPerEnsemble(4)
                    .sessionTimeout(Duration.ofSeconds(20))
                    .build()) {
                List<ZkLease> leases = new ArrayList<>();
                for (int i = 0; i < 4; i++) {
                    leases.add(pool.lease());
                }
                assertThat(pool.stats().connectionsPerServer()).containsOnlyKeys(servers.get(0));
                InstanceSpec first = cluster.getInstances().stream()
                        .filter(s -> servers.get(0).equals("127.0.0.1:" + s.getPort()))
                        .findFirst()
                        .orElseThrow();
                cluster.killServer(first);
                await().atMost(Duration.ofSeconds(30)).until(() -> {
                    Map<String, Integer> now = pool.stats().connectionsPerServer();
                    return now.values().stream().mapToInt(Integer::intValue).sum() == 4
                            && !now.containsKey(servers.get(0));
                });
                for (ZkLease lease : leases) {
                    assertThat(lease.exists("/")).isNotNull();
                }
            }
        }
    }

    /** Within three standard deviations of a binomial share: the placement is random, the bound is not loose. */
    private static void assertShare(int count, int total, double p) {
        double sd = Math.sqrt(total * p * (1 - p));
        assertThat((double) count)
                .as("sessions with share %.0f%% of %d", p * 100, total)
                .isBetween(total * p - 3 * sd, total * p + 3 * sd);
    }

    @Test
    void aDeadAddressInTheConnectStringDoesNotStallConnecting() throws Exception {
        int deadPort;
        try (ServerSocket s = new ServerSocket(0)) {
            deadPort = s.getLocalPort(); // closed again: nothing listens there
        }
        try (TestingServer server = InProcessEnsembles.startServer()) {
            String live = "127.0.0.1:" + server.getPort();
            String dead = "127.0.0.1:" + deadPort;
            // The dead address carries most of the weight, so it is tried first and must be given up quickly.
            try (ZkSessionPool pool = ZkSessionPool.builder()
                    .connectString(dead + "," + live)
                    .connectionTimeout(Duration.ofSeconds(5))
                    .hosts(HostsConfig.builder()
                            .weight(dead, 100)
                            .weight(live, 1)
                            .build())
                    .sessionsPerEnsemble(3)
                    .build()) {
                for (int i = 0; i < 3; i++) {
                    try (ZkLease lease = pool.lease()) {
                        assertThat(lease.exists("/")).isNotNull();
                    }
                }
                assertThat(pool.stats().connectionsPerServer())
                        .containsOnlyKeys(live)
                        .containsEntry(live, 3);
            }
        }
    }

    /**
     * The drifted member joins only if the first election goes its way (seen in CI: it did not, and the ensemble never
     * had all three serving): the fixture then tries a fresh ensemble, up to three times. The behaviour under test
     * starts after.
     */
    private static ProcessEnsemble startWithDriftedMemberServing() {
        return ProcessEnsemble.builder()
                .size(3)
                .serverListOverride(3, List.of(1, 2, 3, 4, 5))
                .start();
    }

    @Test
    void whenAMemberWithADifferentServerListRestartsThePoolKeepsItsSessionsOnTheMembersThatServe() {
        // The seed incident: one member's config lists servers the others do not know. It joins while the others
        // start, but after a restart it cannot rejoin ("Oracle indicates not to follow") and does not serve.
        try (ProcessEnsemble ensemble = startWithDriftedMemberServing()) {
            String drifted = ensemble.server(3).address();
            try (ZkSessionPool pool = ZkSessionPool.builder()
                    .connectString(ensemble.connectString())
                    .sessionTimeout(Duration.ofSeconds(6))
                    .connectionTimeout(Duration.ofSeconds(20))
                    .sessionsPerEnsemble(3)
                    .build()) {
                List<ZkLease> leases = new ArrayList<>();
                List<Long> ids = new ArrayList<>();
                for (int i = 0; i < 3; i++) {
                    ZkLease lease = pool.lease();
                    leases.add(lease);
                    ids.add(lease.sessionId());
                }
                // The pool spreads its three sessions over the three members, so one is on the drifted member.
                assertThat(pool.stats().connectionsPerServer()).containsEntry(drifted, 1);

                ensemble.server(3).restart();
                // Whether the drifted member rejoins after its restart depends on the election ("Oracle indicates not
                // to
                // follow" when the others lead): either way every session must end on a member that serves.
                await().atMost(Duration.ofSeconds(60)).ignoreExceptions().until(() -> {
                    Map<String, Integer> now = pool.stats().connectionsPerServer();
                    return now.values().stream().mapToInt(Integer::intValue).sum() == 3
                            && now.keySet().stream()
                                    .allMatch(address -> ensemble.servers().stream()
                                            .filter(s -> s.address().equals(address))
                                            .allMatch(ServerProcess::isServing));
                });
                for (int i = 0; i < 3; i++) {
                    assertThat(leases.get(i).exists("/")).isNotNull();
                    assertThat(leases.get(i).sessionId())
                            .as("session %d survived", i)
                            .isEqualTo(ids.get(i));
                }
                assertThat(pool.stats().sessionsOpened()).isEqualTo(3);
                leases.forEach(ZkLease::close);
            }
        }
    }
}
