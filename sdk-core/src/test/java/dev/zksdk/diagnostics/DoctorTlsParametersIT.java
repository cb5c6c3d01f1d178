package dev.zksdk.diagnostics;

import static org.assertj.core.api.Assertions.assertThat;

import dev.zksdk.security.TlsConfig;
import dev.zksdk.testing.SecureServer;
import dev.zksdk.testing.TestPki;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The doctor's TLS probe offers the protocols and cipher suites of its {@link TlsConfig}, as a pooled session with the
 * same settings does: against a real TLS server (client certificates required) that accepts only TLSv1.3, or only one
 * cipher suite, a probe restricted to something else is a {@link FindingCode#TLS_MISMATCH} that names what was
 * offered and the server's alert; a probe offering what the server accepts is healthy.
 */
class DoctorTlsParametersIT {

    /** The test PKI's keys are EC, so the TLSv1.2 suites are ECDHE_ECDSA ones. */
    private static final String ACCEPTED_SUITE = "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384";

    private static final String OTHER_SUITE = "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256";

    private static TestPki pki;
    private static SecureServer server;

    @BeforeAll
    static void startServer() {
        pki = TestPki.shared();
        server = SecureServer.start(pki, Map.of());
    }

    @AfterEach
    void acceptTheDefaultsAgain() {
        server.acceptOnly(List.of(), List.of());
    }

    @AfterAll
    static void stopServer() {
        server.close();
    }

    @Test
    void aProbeOfferingOnlyAProtocolTheServerRefusesIsATlsMismatch() {
        server.acceptOnly(List.of("TLSv1.3"), List.of());

        DiagnosticsReport refused = probe(tls().enabledProtocols("TLSv1.2"));
        DiagnosticsReport accepted = probe(tls().enabledProtocols("TLSv1.3"));
        DiagnosticsReport defaults = probe(tls());

        assertThat(refused.findings(FindingCode.TLS_MISMATCH))
                .as(refused.toText())
                .hasSize(1);
        Finding mismatch = refused.findings(FindingCode.TLS_MISMATCH).get(0);
        assertThat(mismatch.severity()).isEqualTo(Severity.CRITICAL);
        assertThat(mismatch.evidence())
                .contains(server.secureConnectString())
                .contains("the port speaks TLS but accepts none of the protocols and cipher suites offered")
                .contains("protocols TLSv1.2;")
                .contains("protocol_version");
        assertThat(mismatch.remedy()).contains("enabledProtocols");
        assertThat(refused.toText()).doesNotContain(pki.clientKeyStorePassword());
        assertThat(accepted.findings(FindingCode.TLS_MISMATCH))
                .as(accepted.toText())
                .isEmpty();
        assertThat(accepted.exitCode()).as(accepted.toText()).isZero();
        assertThat(defaults.exitCode()).as(defaults.toText()).isZero();
    }

    @Test
    void aProbeOfferingOnlyACipherSuiteTheServerRefusesIsATlsMismatch() {
        server.acceptOnly(List.of("TLSv1.2"), List.of(ACCEPTED_SUITE));

        DiagnosticsReport refused = probe(tls().enabledProtocols("TLSv1.2").cipherSuites(OTHER_SUITE));
        DiagnosticsReport accepted = probe(tls().enabledProtocols("TLSv1.2").cipherSuites(ACCEPTED_SUITE));

        assertThat(refused.findings(FindingCode.TLS_MISMATCH))
                .as(refused.toText())
                .hasSize(1);
        Finding mismatch = refused.findings(FindingCode.TLS_MISMATCH).get(0);
        assertThat(mismatch.evidence())
                .contains("the port speaks TLS but accepts none of the protocols and cipher suites offered")
                .contains("cipher suites " + OTHER_SUITE)
                .contains("handshake_failure");
        assertThat(mismatch.remedy()).contains("cipherSuites");
        assertThat(accepted.findings(FindingCode.TLS_MISMATCH))
                .as(accepted.toText())
                .isEmpty();
        assertThat(accepted.exitCode()).as(accepted.toText()).isZero();
    }

    private static TlsConfig.Builder tls() {
        return TlsConfig.builder()
                .trustStore(pki.clientTrustStore(), pki.clientTrustStorePassword())
                .keyStore(pki.clientKeyStore(), pki.clientKeyStorePassword());
    }

    private static DiagnosticsReport probe(TlsConfig.Builder tls) {
        return EnsembleDoctor.probe(
                server.secureConnectString(),
                DoctorOptions.builder()
                        .timeout(Duration.ofSeconds(5))
                        .adminServerUse(AdminServerUse.NEVER)
                        .tls(tls.build())
                        .build());
    }
}
