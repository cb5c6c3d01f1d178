package dev.zksdk.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.zksdk.testing.SecureServer;
import dev.zksdk.testing.TestPki;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code zk-sdk doctor} against a real server with a plain client port and a TLS one ({@code secureClientPort}, client
 * certificates required), probed with and without TLS options.
 */
class DoctorTlsIT {

    private static TestPki pki;
    private static SecureServer server;

    @BeforeAll
    static void startServer() {
        pki = TestPki.shared();
        server = SecureServer.start(pki, Map.of());
    }

    @AfterAll
    static void stopServer() {
        server.close();
    }

    @Test
    void tlsPortProbedWithTlsOptionsIsHealthy() {
        String secure = server.secureConnectString();

        Cli r = doctor(secure, tlsOptions());

        assertThat(r.exitCode()).as(r.out() + r.err()).isZero();
        assertThat(r.out()).contains("Result: INFO", secure + ": standalone", "SINGLE_SERVER");
        // The passwords were given on the command line: the report must not carry them.
        assertThat(r.out() + r.err())
                .doesNotContain(pki.clientKeyStorePassword())
                .doesNotContain(pki.clientTrustStorePassword());
    }

    @Test
    void tlsPortProbedInPlainTextIsReportedAsSuch() {
        String secure = server.secureConnectString();

        Cli r = doctor(secure, List.of());

        assertThat(r.exitCode()).as(r.out()).isEqualTo(2);
        assertThat(r.out())
                .contains(
                        secure + ": TLS MISMATCH - the port speaks TLS and was probed in plain text",
                        "CN=zk-sdk-server",
                        "[CRITICAL] TLS_MISMATCH")
                .doesNotContain("CONNECTIONS_REJECTED");
    }

    @Test
    void plainPortProbedOverTlsIsReportedAsSuch() {
        String plain = server.plainConnectString();

        Cli r = doctor(plain, tlsOptions());

        assertThat(r.exitCode()).as(r.out()).isEqualTo(2);
        assertThat(r.out())
                .contains(
                        plain + ": TLS MISMATCH - the port speaks plain text and was probed over TLS",
                        "'imok'",
                        "[CRITICAL] TLS_MISMATCH");
    }

    @Test
    void aProtocolTheServerRefusesIsATlsMismatch() {
        server.acceptOnly(List.of("TLSv1.3"), List.of());
        try {
            Cli refused = doctor(
                    server.secureConnectString(),
                    Stream.concat(tlsOptions().stream(), Stream.of("--tls-protocols", "TLSv1.2"))
                            .toList());
            Cli accepted = doctor(
                    server.secureConnectString(),
                    Stream.concat(tlsOptions().stream(), Stream.of("--tls-protocols=TLSv1.3,TLSv1.2"))
                            .toList());

            assertThat(refused.exitCode()).as(refused.out()).isEqualTo(2);
            assertThat(refused.out())
                    .contains(
                            "accepts none of the protocols and cipher suites offered (protocols TLSv1.2;",
                            "protocol_version",
                            "[CRITICAL] TLS_MISMATCH");
            assertThat(accepted.exitCode()).as(accepted.out()).isZero();
        } finally {
            server.acceptOnly(List.of(), List.of());
        }
    }

    @Test
    void plainPortProbedInPlainTextIsHealthy() {
        Cli r = doctor(server.plainConnectString(), List.of());

        assertThat(r.exitCode()).as(r.out()).isZero();
    }

    @Test
    void missingClientCertificateIsAFailedHandshakeNotAMismatch() {
        Cli r = doctor(
                server.secureConnectString(),
                List.of(
                        "--tls-trust-store",
                        pki.clientTrustStore().toString(),
                        "--tls-trust-store-password=" + pki.clientTrustStorePassword()));

        assertThat(r.exitCode()).as(r.out()).isEqualTo(2);
        assertThat(r.out())
                .contains("UNREACHABLE - TLS handshake failed", "set a key store")
                .doesNotContain("TLS_MISMATCH");
    }

    @Test
    void certificateNamingAnotherHostFailsUnlessHostnameVerificationIsOff() {
        server.presentWrongNameCertificate(true);
        try {
            Cli verified = doctor(server.secureConnectString(), tlsOptions());
            assertThat(verified.exitCode()).as(verified.out()).isEqualTo(2);
            assertThat(verified.out())
                    .contains("TLS handshake failed", "does not name the host connected to")
                    .doesNotContain("TLS_MISMATCH");

            Cli unverified = doctor(
                    server.secureConnectString(),
                    Stream.concat(tlsOptions().stream(), Stream.of("--no-tls-hostname-verification"))
                            .toList());
            assertThat(unverified.exitCode()).as(unverified.out()).isZero();
        } finally {
            server.presentWrongNameCertificate(false);
        }
    }

    @Test
    void aMemberThatAcceptsAndNeverAnswersIsReportedStoppedWithinTheTimeoutOverTls() throws Exception {
        // A stopped process: the kernel accepts the connection, nothing reads it (no TLS handshake answer either).
        try (ServerSocket silent = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            String connect = "127.0.0.1:" + silent.getLocalPort();
            long started = System.nanoTime();
            Cli r = Cli.run(Stream.concat(
                            Stream.of("doctor", "--connect", connect, "--timeout", "500ms"), tlsOptions().stream())
                    .toArray(String[]::new));
            long tookMs = (System.nanoTime() - started) / 1_000_000;

            assertThat(r.exitCode()).as(r.out()).isEqualTo(2);
            assertThat(r.out()).contains("got no answer within 500 ms").contains("SIGSTOP");
            // The doctor's own per-member limit is 24 timeouts (12 s): the handshake must not wait for it.
            assertThat(tookMs).as("ms the doctor took, output:%n%s", r.out()).isLessThan(6_000);
        }
    }

    private static List<String> tlsOptions() {
        return List.of(
                "--tls-trust-store",
                pki.clientTrustStore().toString(),
                "--tls-trust-store-password=" + pki.clientTrustStorePassword(),
                "--tls-key-store",
                pki.clientKeyStore().toString(),
                "--tls-key-store-password=" + pki.clientKeyStorePassword());
    }

    private static Cli doctor(String connect, List<String> options) {
        return Cli.run(Stream.concat(Stream.of("doctor", "--connect", connect, "--timeout", "5s"), options.stream())
                .toArray(String[]::new));
    }
}
