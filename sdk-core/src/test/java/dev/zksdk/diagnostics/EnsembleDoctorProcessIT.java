package dev.zksdk.diagnostics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.zksdk.testing.ProcessEnsemble;
import dev.zksdk.testing.ServerProcess;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The doctor against separate server processes with a real fault injected: a member stopped with SIGSTOP (a hung
 * process: its kernel still accepts connections, nothing answers) and a member started with another server list.
 */
class EnsembleDoctorProcessIT {

    private static final Duration QUORUM_TIMEOUT = Duration.ofSeconds(30);

    /** Shared by the SIGSTOP tests; each leaves every member running and the quorum whole. */
    private static ProcessEnsemble ensemble;

    private ServerProcess stopped;

    @BeforeAll
    static void startEnsemble() {
        ensemble = ProcessEnsemble.builder().size(3).start();
    }

    @AfterAll
    static void closeEnsemble() {
        if (ensemble != null) {
            ensemble.close();
        }
    }

    @AfterEach
    void resumeStoppedMember() {
        if (stopped != null && stopped.isSuspended()) {
            stopped.sigcont();
        }
        if (stopped != null) {
            stopped.awaitServing(QUORUM_TIMEOUT);
            ensemble.awaitQuorum(QUORUM_TIMEOUT);
        }
    }

    @Test
    void sigstoppedFollowerIsUnreachableAndTheOthersAreHealthy() throws Exception {
        stopped = ensemble.servers().stream()
                .filter(s -> s.mode().filter("follower"::equals).isPresent())
                .findFirst()
                .orElseThrow();
        stopped.sigstop();

        DiagnosticsReport report = EnsembleDoctor.probe(ensemble.connectString(), options());

        assertStoppedMemberNamedAndRestHealthy(report);
        assertThat(report.servers())
                .filteredOn(ServerReport::serving)
                .extracting(ServerReport::mode)
                .containsExactlyInAnyOrder("leader", "follower");
    }

    @Test
    void sigstoppedLeaderIsUnreachableOnceTheOthersElectANewOne() throws Exception {
        stopped = ensemble.leader();
        stopped.sigstop();

        // The followers notice the silent leader only after syncLimit ticks (until then they still say 'follower'),
        // then say they are not serving (NOT_SERVING) while they elect a new leader among themselves.
        AtomicReference<DiagnosticsReport> last = new AtomicReference<>();
        await().atMost(QUORUM_TIMEOUT).pollInterval(Duration.ofMillis(200)).until(() -> {
            DiagnosticsReport r = EnsembleDoctor.probe(ensemble.connectString(), options());
            last.set(r);
            return r.servers().stream().filter(ServerReport::serving).count() == 2
                    && r.servers().stream().anyMatch(s -> "leader".equals(s.mode()));
        });
        DiagnosticsReport report = last.get();

        assertStoppedMemberNamedAndRestHealthy(report);
        assertThat(report.servers())
                .filteredOn(ServerReport::serving)
                .extracting(ServerReport::mode)
                .containsExactlyInAnyOrder("leader", "follower");
        assertThat(report.findings(FindingCode.NO_LEADER)).isEmpty();
    }

    @Test
    void sigstoppedLeaderWhoseFollowersHaveNotNoticedIsNoLeaderNotAWarning() throws Exception {
        // syncLimit 50 ticks (10 s): the followers keep following the stopped leader while the doctor probes.
        try (ProcessEnsemble slow =
                ProcessEnsemble.builder().size(3).syncLimit(50).start()) {
            ServerProcess leader = slow.leader();
            leader.sigstop();
            try {
                DiagnosticsReport report = EnsembleDoctor.probe(slow.connectString(), options());

                assertThat(report.servers())
                        .filteredOn(ServerReport::serving)
                        .extracting(ServerReport::mode)
                        .containsExactly("follower", "follower");
                assertThat(report.findings(FindingCode.NO_LEADER))
                        .singleElement()
                        .satisfies(f -> {
                            assertThat(f.severity()).isEqualTo(Severity.CRITICAL);
                            assertThat(f.evidence())
                                    .contains(
                                            "say they follow",
                                            "no member that answers leads",
                                            leader.address() + " unreachable (");
                        });
                assertThat(report.findings(FindingCode.UNREACHABLE))
                        .singleElement()
                        .satisfies(f -> assertThat(f.server()).isEqualTo(leader.address()));
                assertThat(report.exitCode()).isEqualTo(2);
            } finally {
                leader.sigcont();
            }
        }
    }

    private void assertStoppedMemberNamedAndRestHealthy(DiagnosticsReport report) {
        String victim = stopped.address();
        assertThat(report.findings(FindingCode.UNREACHABLE)).singleElement().satisfies(f -> {
            assertThat(f.server()).isEqualTo(victim);
            // Two of three still serve: the ensemble works, one more failure stops it.
            assertThat(f.severity()).isEqualTo(Severity.WARNING);
            assertThat(f.evidence())
                    .contains(
                            victim,
                            "accepted",
                            "no answer",
                            "SIGSTOP",
                            "2 of 3 voting members serve",
                            "one more failure stops the ensemble");
            assertThat(f.remedy()).contains("SIGCONT");
        });
        assertThat(report.findings())
                .filteredOn(f -> f.severity() != Severity.INFO)
                .allSatisfy(f -> assertThat(f.server()).isEqualTo(victim));
        ServerReport down = report.servers().stream()
                .filter(s -> s.server().equals(victim))
                .findFirst()
                .orElseThrow();
        assertThat(down.reachable()).isFalse();
        assertThat(down.serving()).isFalse();
        assertThat(report.servers())
                .hasSize(3)
                .filteredOn(s -> !s.server().equals(victim))
                .hasSize(2)
                .allSatisfy(s -> {
                    assertThat(s.reachable()).isTrue();
                    assertThat(s.serving()).isTrue();
                    assertThat(s.problem()).isNull();
                    assertThat(s.membership()).hasSize(3);
                });
        assertThat(report.exitCode()).isEqualTo(1);
        assertThat(report.toText()).contains(victim + ": UNREACHABLE");
    }

    /** On the project's own server version and on 3.5.10 (whose {@code conf} lists the members too). */
    @ParameterizedTest(name = "ZooKeeper {0}")
    @ValueSource(strings = {"3.9", "3.5.10"})
    void memberWithAnotherServerListIsNamedAsConfigDrift(String version) throws Exception {
        try (ProcessEnsemble drifted = ProcessEnsemble.builder()
                .serverVersion(version)
                .size(3)
                .serverListOverride(3, List.of(1, 2, 3, 4))
                .start()) {
            ServerProcess odd = drifted.server(3);

            DiagnosticsReport report = EnsembleDoctor.probe(drifted.connectString(), options());

            assertThat(report.findings(FindingCode.CONFIG_DRIFT))
                    .singleElement()
                    .satisfies(f -> {
                        assertThat(f.server()).isEqualTo(odd.address());
                        assertThat(f.severity()).isEqualTo(Severity.CRITICAL);
                        assertThat(f.evidence())
                                .contains(
                                        drifted.server(1).address() + ", "
                                                + drifted.server(2).address() + " list server.1=",
                                        odd.address() + " differs: extra server.4=");
                        assertThat(f.remedy())
                                .contains(
                                        "Make the server.N lines identical on every member", "restart the leader last");
                    });
            assertThat(report.servers())
                    .filteredOn(ServerReport::inConnectString)
                    .allSatisfy(s -> assertThat(s.serving()).isTrue());
            assertThat(report.servers())
                    .filteredOn(s -> s.server().equals(odd.address()))
                    .singleElement()
                    .satisfies(s -> assertThat(s.membership()).hasSize(4).anyMatch(l -> l.startsWith("server.4=")));
            assertThat(report.exitCode()).isEqualTo(2);
        }
    }

    private static DoctorOptions options() throws IOException {
        return DoctorOptions.builder()
                .timeout(Duration.ofSeconds(1))
                // Nothing listens there: an AdminServer fallback meets a refusal rather than a stranger's service.
                .adminPort(unusedPort())
                .build();
    }

    private static int unusedPort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            return socket.getLocalPort();
        }
    }
}
