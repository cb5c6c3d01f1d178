package dev.zksdk.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.zksdk.testing.SecureServer;
import dev.zksdk.testing.TestPki;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Review of issue 20 (review20): the doctor's TLS protocol and cipher options as a user mistypes them, and a TLS server
 * refusing the offered cipher suites. README: exit 64 is a usage error; bad input fails early naming the setting and
 * the value; a TLS port accepting none of the offered protocols/ciphers is TLS_MISMATCH naming them and the alert.
 */
class DoctorCliAdversarialIT {

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

    private static Cli doctor(String connect, String... extra) {
        List<String> args = new ArrayList<>(List.of(
                "doctor",
                "--connect",
                connect,
                "--timeout",
                "5s",
                "--tls-trust-store",
                pki.clientTrustStore().toString(),
                "--tls-trust-store-password=" + pki.clientTrustStorePassword(),
                "--tls-key-store",
                pki.clientKeyStore().toString(),
                "--tls-key-store-password=" + pki.clientKeyStorePassword()));
        args.addAll(List.of(extra));
        return Cli.run(args.toArray(String[]::new));
    }

    @Test
    void anUnknownProtocolIsAUsageErrorNamingIt() {
        Cli r = doctor(server.secureConnectString(), "--tls-protocols", "TLSv1.9");
        System.out.println("review20 TLSv1.9: exit " + r.exitCode() + "\n" + r.out() + r.err());
        assertThat(r.exitCode()).as(r.out() + r.err()).isEqualTo(64);
        assertThat(r.err()).contains("--tls-protocols").contains("TLSv1.9");
    }

    @Test
    void anUnknownCipherSuiteIsAUsageErrorNamingIt() {
        Cli r = doctor(server.secureConnectString(), "--tls-cipher-suites", "TLS_NOPE_SHA256");
        assertThat(r.exitCode()).as(r.out() + r.err()).isEqualTo(64);
        assertThat(r.err()).contains("--tls-cipher-suites").contains("TLS_NOPE_SHA256");
    }

    @Test
    void anEmptyProtocolListIsAUsageError() {
        Cli r = doctor(server.secureConnectString(), "--tls-protocols", ",");
        System.out.println("review20 empty protocols: exit " + r.exitCode() + "\n" + r.out() + r.err());
        assertThat(r.exitCode()).as(r.out() + r.err()).isEqualTo(64);
    }

    @Test
    void aZeroTimeoutIsRefusedNamingTheValueAsTyped() {
        Cli r = Cli.run("doctor", "--connect", "127.0.0.1:1", "--timeout", "0s");
        assertThat(r.exitCode()).isEqualTo(64);
        assertThat(r.err()).contains("'0s'");
    }

    @Test
    void aCipherSuiteTheServerRefusesIsATlsMismatchNamingItAndTheAlert() {
        server.acceptOnly(List.of("TLSv1.3"), List.of("TLS_AES_256_GCM_SHA384"));
        try {
            Cli r = doctor(
                    server.secureConnectString(),
                    "--tls-protocols",
                    "TLSv1.3",
                    "--tls-cipher-suites",
                    "TLS_AES_128_GCM_SHA256");
            System.out.println("review20 cipher refused: exit " + r.exitCode() + "\n" + r.out());
            assertThat(r.exitCode()).as(r.out()).isEqualTo(2);
            assertThat(r.out())
                    .contains("[CRITICAL] TLS_MISMATCH")
                    .contains("TLS_AES_128_GCM_SHA256")
                    .contains("handshake_failure");
            Cli ok = doctor(
                    server.secureConnectString(),
                    "--tls-protocols",
                    "TLSv1.3",
                    "--tls-cipher-suites",
                    "TLS_AES_128_GCM_SHA256,TLS_AES_256_GCM_SHA384");
            assertThat(ok.exitCode()).as(ok.out()).isZero();
        } finally {
            server.acceptOnly(List.of(), List.of());
        }
    }
}
