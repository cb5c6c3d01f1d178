package dev.zksdk.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.zksdk.ZkSessionPool;
import dev.zksdk.ZkUnavailableException;
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
 * A pool whose TLS handshake fails because the server accepts none of the protocols or cipher suites it offers is told
 * which ones it offered, as the doctor's TLS probe says ({@code DoctorTlsParametersIT}), against a real TLS server that
 * accepts only TLSv1.3, or only one cipher suite; never a password.
 */
class TlsParametersRefusedIT {

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
    void aRefusedCipherSuiteIsNamedInThePoolsError() {
        server.acceptOnly(List.of("TLSv1.2"), List.of(ACCEPTED_SUITE));

        Throwable failure = leaseWith(tls().enabledProtocols("TLSv1.2").cipherSuites(OTHER_SUITE));

        assertThat(failure)
                .isInstanceOf(ZkUnavailableException.class)
                .hasMessageContaining("TLS handshake with " + server.secureConnectString() + " failed")
                .hasMessageContaining("accepts none of the protocols and cipher suites offered")
                .hasMessageContaining("protocols TLSv1.2;")
                .hasMessageContaining("cipher suites " + OTHER_SUITE)
                .hasMessageContaining("handshake_failure");
        assertNoSecret(failure);
    }

    @Test
    void aRefusedProtocolIsNamedWithTheCipherSuitesInThePoolsError() {
        server.acceptOnly(List.of("TLSv1.3"), List.of());

        Throwable failure = leaseWith(tls().enabledProtocols("TLSv1.2"));

        assertThat(failure)
                .isInstanceOf(ZkUnavailableException.class)
                .hasMessageContaining("TLS handshake with " + server.secureConnectString() + " failed")
                .hasMessageContaining("accepts none of the protocols and cipher suites offered")
                .hasMessageContaining("protocols TLSv1.2;")
                .hasMessageContaining("cipher suites the JVM's default")
                .hasMessageContaining("protocol_version");
        assertNoSecret(failure);
    }

    private static void assertNoSecret(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            assertThat(String.valueOf(t.getMessage()))
                    .doesNotContain(pki.clientKeyStorePassword())
                    .doesNotContain(pki.clientTrustStorePassword());
        }
    }

    private static TlsConfig.Builder tls() {
        return TlsConfig.builder()
                .trustStore(pki.clientTrustStore(), pki.clientTrustStorePassword())
                .keyStore(pki.clientKeyStore(), pki.clientKeyStorePassword());
    }

    private static Throwable leaseWith(TlsConfig.Builder tls) {
        try (ZkSessionPool pool = ZkSessionPool.builder()
                .connectString(server.secureConnectString())
                .sessionTimeout(Duration.ofSeconds(4))
                .connectionTimeout(Duration.ofSeconds(2))
                .tls(tls.build())
                .build()) {
            return catchThrowable(pool::lease);
        }
    }
}
