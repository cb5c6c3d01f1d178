package dev.zksdk.diagnostics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.zksdk.testing.FreePorts;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.curator.test.InstanceSpec;
import org.apache.curator.test.TestingCluster;
import org.junit.jupiter.api.Test;

/** The doctor against real in-process quorums (curator-test {@link TestingCluster}). */
class EnsembleDoctorClusterIT {

    private static final int TICK_MS = 200;

    @Test
    void healthyThreeMemberEnsembleHasNothingAboveInfo() throws Exception {
        try (TestingCluster cluster = startCluster(3)) {
            DiagnosticsReport report = awaitServing(cluster, 3);

            assertThat(report.findings())
                    .filteredOn(f -> f.severity() != Severity.INFO)
                    .isEmpty();
            assertThat(report.worstSeverity()).isEqualTo(Severity.INFO);
            assertThat(report.exitCode()).isZero();
            assertThat(report.servers()).hasSize(3).allSatisfy(s -> {
                assertThat(s.reachable()).isTrue();
                assertThat(s.serving()).isTrue();
                assertThat(s.problem()).isNull();
                assertThat(s.zxid()).isNotNull();
                assertThat(s.version()).startsWith("3.9");
                assertThat(s.membership()).hasSize(3).allMatch(line -> line.startsWith("server."));
                assertThat(s.config()).containsEntry("tickTime", String.valueOf(TICK_MS));
                assertThat(s.metrics())
                        .containsKeys("zk_avg_latency", "zk_outstanding_requests", "zk_connection_rejected");
                assertThat(s.answers().values()).containsOnly("4lw");
            });
            assertThat(report.servers())
                    .extracting(ServerReport::mode)
                    .containsExactlyInAnyOrder("leader", "follower", "follower");
            assertThat(report.servers())
                    .extracting(ServerReport::server)
                    .containsExactlyElementsOf(specs(cluster).stream()
                            .map(s -> "127.0.0.1:" + s.getPort())
                            .toList());
            assertThat(Json.parse(report.toJson())).isInstanceOf(Map.class);
            assertThat(report.toText()).contains("Result: INFO", "leader", "follower");
        }
    }

    @Test
    void fourVotingMembersAreReportedAsEvenEnsemble() throws Exception {
        try (TestingCluster cluster = startCluster(4)) {
            DiagnosticsReport report = awaitServing(cluster, 4);

            assertThat(report.findings(FindingCode.EVEN_ENSEMBLE))
                    .singleElement()
                    .satisfies(f -> {
                        assertThat(f.severity()).isEqualTo(Severity.WARNING);
                        assertThat(f.server()).isNull();
                        assertThat(f.evidence()).contains("4 voting members", "a quorum needs 3", "survives 1 failure");
                    });
            assertThat(report.exitCode()).isEqualTo(1);
        }
    }

    @Test
    void stoppedMemberIsUnreachableAndNamed() throws Exception {
        try (TestingCluster cluster = startCluster(3)) {
            awaitServing(cluster, 3);
            InstanceSpec victim = specs(cluster).get(0);
            assertThat(cluster.killServer(victim)).isTrue();
            String victimAddress = "127.0.0.1:" + victim.getPort();

            AtomicReference<DiagnosticsReport> last = new AtomicReference<>();
            // The survivors may need a re-election when the victim led; wait until they serve again.
            await().atMost(Duration.ofSeconds(30))
                    .pollInterval(Duration.ofMillis(200))
                    .until(() -> {
                        DiagnosticsReport r = EnsembleDoctor.probe(cluster.getConnectString(), options());
                        last.set(r);
                        return r.servers().stream()
                                        .filter(ServerReport::serving)
                                        .count()
                                == 2;
                    });
            DiagnosticsReport report = last.get();

            assertThat(report.findings(FindingCode.UNREACHABLE)).singleElement().satisfies(f -> {
                assertThat(f.server()).isEqualTo(victimAddress);
                assertThat(f.severity()).isEqualTo(Severity.WARNING);
                assertThat(f.evidence())
                        .contains(
                                victimAddress,
                                "connection refused",
                                "2 of 3 voting members serve",
                                "one more failure stops the ensemble");
            });
            assertThat(report.findings(FindingCode.NO_LEADER)).isEmpty();
            ServerReport down = report.servers().get(0);
            assertThat(down.server()).isEqualTo(victimAddress);
            assertThat(down.reachable()).isFalse();
            assertThat(down.problem()).contains("connection refused");
            assertThat(report.exitCode()).isEqualTo(1);
        }
    }

    @Test
    void ensembleWithoutQuorumHasNoLeaderAndNotServingMembers() throws Exception {
        try (TestingCluster cluster = startCluster(3)) {
            awaitServing(cluster, 3);
            List<InstanceSpec> specs = specs(cluster);
            cluster.killServer(specs.get(1));
            cluster.killServer(specs.get(2));
            String survivor = "127.0.0.1:" + specs.get(0).getPort();

            AtomicReference<DiagnosticsReport> last = new AtomicReference<>();
            await().atMost(Duration.ofSeconds(30))
                    .pollInterval(Duration.ofMillis(200))
                    .until(() -> {
                        DiagnosticsReport r = EnsembleDoctor.probe(cluster.getConnectString(), options());
                        last.set(r);
                        return !r.findings(FindingCode.NOT_SERVING).isEmpty();
                    });
            DiagnosticsReport report = last.get();

            assertThat(report.findings(FindingCode.NOT_SERVING)).singleElement().satisfies(f -> {
                assertThat(f.server()).isEqualTo(survivor);
                assertThat(f.severity()).isEqualTo(Severity.CRITICAL);
                assertThat(f.evidence()).contains("This ZooKeeper instance is not currently serving requests");
                assertThat(f.remedy()).contains("Have smaller server identifier, so dropping the connection");
            });
            assertThat(report.findings(FindingCode.NO_LEADER))
                    .singleElement()
                    .satisfies(f -> assertThat(f.severity()).isEqualTo(Severity.CRITICAL));
            assertThat(report.findings(FindingCode.UNREACHABLE))
                    .hasSize(2)
                    .allSatisfy(f -> assertThat(f.severity()).isEqualTo(Severity.CRITICAL));
            assertThat(report.exitCode()).isEqualTo(2);
        }
    }

    @Test
    void memberMissingFromConnectStringIsFoundThroughTheServerListAndProbed() throws Exception {
        try (TestingCluster cluster = startCluster(3)) {
            awaitServing(cluster, 3);
            List<InstanceSpec> specs = specs(cluster);
            String partial = "127.0.0.1:" + specs.get(0).getPort() + ",127.0.0.1:"
                    + specs.get(1).getPort();

            DiagnosticsReport report = EnsembleDoctor.probe(partial, options());

            assertThat(report.servers()).hasSize(3);
            ServerReport extra = report.servers().get(2);
            assertThat(extra.server()).isEqualTo("127.0.0.1:" + specs.get(2).getPort());
            assertThat(extra.inConnectString()).isFalse();
            assertThat(extra.serving()).isTrue();
            assertThat(report.findings(FindingCode.MEMBER_NOT_IN_CONNECT_STRING))
                    .singleElement()
                    .satisfies(f -> {
                        assertThat(f.severity()).isEqualTo(Severity.INFO);
                        assertThat(f.evidence())
                                .contains("server." + specs.get(2).getServerId() + "=");
                    });
        }
    }

    static DoctorOptions options() throws IOException {
        return DoctorOptions.builder()
                .timeout(Duration.ofSeconds(2))
                .adminPort(unusedPort())
                .build();
    }

    /** A port nothing listens on, so an AdminServer fallback meets a refusal rather than a stranger's service. */
    static int unusedPort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    private static TestingCluster startCluster(int size) throws Exception {
        List<InstanceSpec> specs = new ArrayList<>();
        for (int i = 0; i < size; i++) {
            specs.add(new InstanceSpec(
                    null,
                    FreePorts.take(),
                    FreePorts.take(),
                    FreePorts.take(),
                    true,
                    -1,
                    TICK_MS,
                    -1,
                    Map.of(),
                    "127.0.0.1"));
        }
        TestingCluster cluster = new TestingCluster(specs);
        cluster.start();
        return cluster;
    }

    private static List<InstanceSpec> specs(TestingCluster cluster) {
        return new ArrayList<>(cluster.getInstances());
    }

    private static DiagnosticsReport awaitServing(TestingCluster cluster, int size) {
        AtomicReference<DiagnosticsReport> last = new AtomicReference<>();
        await().atMost(Duration.ofSeconds(30))
                .pollInterval(Duration.ofMillis(200))
                .until(() -> {
                    DiagnosticsReport r = EnsembleDoctor.probe(cluster.getConnectString(), options());
                    last.set(r);
                    return r.servers().stream().filter(ServerReport::serving).count() == size
                            && r.servers().stream()
                                            .filter(s -> "leader".equals(s.mode()))
                                            .count()
                                    == 1;
                });
        return last.get();
    }
}
