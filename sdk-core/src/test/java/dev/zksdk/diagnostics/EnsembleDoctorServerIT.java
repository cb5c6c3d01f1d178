package dev.zksdk.diagnostics;

import static dev.zksdk.diagnostics.EnsembleDoctorClusterIT.unusedPort;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.zksdk.testing.FreePorts;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.curator.test.InstanceSpec;
import org.apache.curator.test.TestingServer;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.server.command.FourLetterCommands;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The doctor against a real in-process standalone server (curator-test {@link TestingServer}). */
class EnsembleDoctorServerIT {

    private static final int TICK_MS = 200;
    private static final String WHITELIST_PROPERTY = "zookeeper.4lw.commands.whitelist";

    private final List<ZooKeeper> clients = new ArrayList<>();

    @AfterEach
    void closeClients() throws InterruptedException {
        for (ZooKeeper zk : clients) {
            zk.close();
        }
        clients.clear();
    }

    @Test
    void requestedTimeoutOutsideServerBoundsIsReportedAsClamped() throws Exception {
        try (TestingServer server = startServer(60, Map.of("minSessionTimeout", "1000", "maxSessionTimeout", "4000"))) {
            String address = "127.0.0.1:" + server.getPort();

            DiagnosticsReport tooLong = EnsembleDoctor.probe(
                    server.getConnectString(),
                    options().requestedSessionTimeout(Duration.ofSeconds(30)).build());
            assertThat(tooLong.findings(FindingCode.SESSION_TIMEOUT_CLAMPED))
                    .singleElement()
                    .satisfies(f -> {
                        assertThat(f.server()).isEqualTo(address);
                        assertThat(f.severity()).isEqualTo(Severity.WARNING);
                        assertThat(f.evidence())
                                .contains(
                                        "30000 ms", "minSessionTimeout=1000", "maxSessionTimeout=4000", "gets 4000 ms");
                    });

            DiagnosticsReport tooShort = EnsembleDoctor.probe(
                    server.getConnectString(),
                    options().requestedSessionTimeout(Duration.ofMillis(500)).build());
            assertThat(tooShort.findings(FindingCode.SESSION_TIMEOUT_CLAMPED))
                    .singleElement()
                    .satisfies(f -> assertThat(f.evidence()).contains("500 ms", "gets 1000 ms"));

            DiagnosticsReport inside = EnsembleDoctor.probe(
                    server.getConnectString(),
                    options().requestedSessionTimeout(Duration.ofSeconds(3)).build());
            assertThat(inside.findings(FindingCode.SESSION_TIMEOUT_CLAMPED)).isEmpty();
            assertThat(inside.exitCode()).isZero();
        }
    }

    @Test
    void sessionsNearMaxClientCnxnsUseUpTheConnectionBudget() throws Exception {
        try (TestingServer server = startServer(10, Map.of())) {
            for (int i = 0; i < 8; i++) {
                connect(server);
            }

            DiagnosticsReport report = EnsembleDoctor.probe(
                    server.getConnectString(),
                    options().clientAddress("127.0.0.1").build());

            assertThat(report.servers().get(0).sessionsPerAddress()).containsEntry("127.0.0.1", 8);
            assertThat(report.findings(FindingCode.CONNECTION_BUDGET))
                    .singleElement()
                    .satisfies(f -> {
                        assertThat(f.server()).isEqualTo("127.0.0.1:" + server.getPort());
                        assertThat(f.severity()).isEqualTo(Severity.WARNING);
                        assertThat(f.evidence())
                                .contains(
                                        "8 sessions from 127.0.0.1 (this client's address)",
                                        "maxClientCnxns=10",
                                        "2 more can connect");
                    });
            assertThat(report.findings(FindingCode.CONNECTIONS_REJECTED)).isEmpty();

            closeClients();
            await().atMost(Duration.ofSeconds(10))
                    .until(() -> EnsembleDoctor.probe(
                                    server.getConnectString(), options().build())
                            .findings(FindingCode.CONNECTION_BUDGET)
                            .isEmpty());
        }
    }

    @Test
    void connectionsBeyondMaxClientCnxnsAreReportedAsRejected() throws Exception {
        try (TestingServer server = startServer(4, Map.of())) {
            for (int i = 0; i < 4; i++) {
                connect(server);
            }
            // A fifth client keeps knocking and is turned away, as in production when one host opens too many.
            ZooKeeper rejected = new ZooKeeper(server.getConnectString(), 3000, event -> {});
            String address = "127.0.0.1:" + server.getPort();

            DiagnosticsReport full =
                    EnsembleDoctor.probe(server.getConnectString(), options().build());
            assertThat(full.findings(FindingCode.CONNECTIONS_REJECTED))
                    .singleElement()
                    .satisfies(f -> {
                        assertThat(f.server()).isEqualTo(address);
                        assertThat(f.severity()).isEqualTo(Severity.CRITICAL);
                        assertThat(f.evidence()).contains("closed it without answering 'ruok'", "maxClientCnxns");
                    });
            assertThat(full.findings(FindingCode.UNREACHABLE)).isEmpty();
            assertThat(full.exitCode()).isEqualTo(2);
            // The server resets the probe's connection; whether the reset overtakes the request (broken pipe) or
            // not (end of stream, or a reset while reading) is a race that must not change the verdict.
            for (int i = 0; i < 20; i++) {
                DiagnosticsReport again = EnsembleDoctor.probe(
                        server.getConnectString(), options().build());
                assertThat(again.findings(FindingCode.CONNECTIONS_REJECTED))
                        .as(again.toText())
                        .singleElement()
                        .satisfies(f -> assertThat(f.severity()).isEqualTo(Severity.CRITICAL));
                assertThat(again.findings(FindingCode.UNREACHABLE))
                        .as(again.toText())
                        .isEmpty();
            }

            rejected.close();
            clients.remove(0).close();
            AtomicReference<DiagnosticsReport> last = new AtomicReference<>();
            await().atMost(Duration.ofSeconds(10)).until(() -> {
                DiagnosticsReport r = EnsembleDoctor.probe(
                        server.getConnectString(), options().build());
                last.set(r);
                return r.servers().get(0).serving();
            });
            assertThat(last.get().findings(FindingCode.CONNECTIONS_REJECTED))
                    .singleElement()
                    .satisfies(f -> {
                        assertThat(f.server()).isEqualTo(address);
                        assertThat(f.severity()).isEqualTo(Severity.WARNING);
                        assertThat(f.evidence())
                                .containsPattern("zk_connection_rejected=[1-9]\\d* since the server started")
                                .contains("maxClientCnxns=4");
                    });
        }
    }

    @Test
    void wordsMissingFromTheWhitelistAreReportedWithWhatToWhitelist() throws Exception {
        try (TestingServer server = startServer(60, Map.of())) {
            int adminPort = unusedPort();
            // The whitelist is JVM-wide and cached by ZooKeeper; it is restored below for the other tests.
            System.setProperty(WHITELIST_PROPERTY, "ruok,srvr,cons,wchs");
            FourLetterCommands.resetWhiteList();
            try {
                DiagnosticsReport report = EnsembleDoctor.probe(
                        server.getConnectString(),
                        options()
                                .adminPort(adminPort)
                                .requestedSessionTimeout(Duration.ofSeconds(3))
                                .build());

                assertThat(report.findings(FindingCode.FOUR_LETTER_WORDS_DISABLED))
                        .singleElement()
                        .satisfies(f -> {
                            assertThat(f.server()).isEqualTo("127.0.0.1:" + server.getPort());
                            assertThat(f.severity()).isEqualTo(Severity.WARNING);
                            assertThat(f.evidence())
                                    .contains(
                                            "'conf', 'mntr'",
                                            "not in the whitelist",
                                            "AdminServer at 127.0.0.1:" + adminPort + " not usable",
                                            "connection refused");
                            assertThat(f.remedy()).contains("4lw.commands.whitelist=srvr,mntr,conf,cons,ruok,wchs");
                        });
                ServerReport s = report.servers().get(0);
                assertThat(s.serving()).isTrue();
                assertThat(s.mode()).isEqualTo("standalone");
                assertThat(s.answers())
                        .containsEntry("conf", "not whitelisted")
                        .containsEntry("mntr", "not whitelisted")
                        .containsEntry("srvr", "4lw")
                        .containsEntry("cons", "4lw");
                assertThat(s.config()).isEmpty();
                assertThat(report.exitCode()).isEqualTo(1);
            } finally {
                System.setProperty(WHITELIST_PROPERTY, "*");
                FourLetterCommands.resetWhiteList();
            }
        }
    }

    private static DoctorOptions.Builder options() throws Exception {
        return DoctorOptions.builder().timeout(Duration.ofSeconds(2)).adminPort(unusedPort());
    }

    private static TestingServer startServer(int maxClientCnxns, Map<String, Object> properties) throws Exception {
        InstanceSpec spec = new InstanceSpec(
                null,
                FreePorts.take(),
                -1,
                -1,
                true,
                -1,
                TICK_MS,
                maxClientCnxns,
                new HashMap<>(properties),
                "127.0.0.1");
        return new TestingServer(spec, true);
    }

    private void connect(TestingServer server) throws Exception {
        ZooKeeper zk = new ZooKeeper(server.getConnectString(), 3000, event -> {});
        clients.add(zk);
        await().atMost(Duration.ofSeconds(10)).until(() -> zk.getState() == ZooKeeper.States.CONNECTED);
    }
}
