package dev.zksdk.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.zksdk.ZkLease;
import dev.zksdk.ZkSessionPool;
import dev.zksdk.ZkUnavailableException;
import dev.zksdk.testing.SecureServer;
import dev.zksdk.testing.TestPki;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.data.ClientInfo;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * TLS to a real server's secure client port (Netty, client certificates required), with key and trust stores made
 * for the test. The JVM carries the in-process server's own {@code zookeeper.ssl.*} system properties the whole time,
 * so a client that read them instead of its own config would connect where these tests expect it to fail.
 */
class TlsIT {

    private static final byte[] DATA = "tls".getBytes(StandardCharsets.UTF_8);

    static TestPki pki;
    static SecureServer server;

    @BeforeAll
    static void start() {
        pki = TestPki.shared();
        server = SecureServer.start(pki, Map.of());
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    private static TlsConfig.Builder fullTls() {
        return TlsConfig.builder()
                .keyStore(pki.clientKeyStore(), pki.clientKeyStorePassword())
                .trustStore(pki.clientTrustStore(), pki.clientTrustStorePassword());
    }

    private static ZkSessionPool.Builder pool(String connectString) {
        return ZkSessionPool.builder()
                .connectString(connectString)
                .sessionTimeout(Duration.ofSeconds(4))
                .connectionTimeout(Duration.ofSeconds(2));
    }

    @Test
    void poolConnectsOverTlsWithItsOwnStoresAndIsKnownByItsCertificate() throws Exception {
        try (ZkSessionPool pool = pool(server.secureConnectString())
                        .tls(fullTls().build())
                        .build();
                ZkLease lease = pool.lease()) {
            lease.create("/over-tls", DATA, CreateMode.PERSISTENT);
            assertThat(lease.getData("/over-tls")).isEqualTo(DATA);
            assertThat(pool.stats().connectionsPerServer()).containsOnlyKeys(server.secureConnectString());
            List<String> identities = lease.curator().getZookeeperClient().getZooKeeper().whoAmI().stream()
                    .map((ClientInfo c) -> c.getAuthScheme() + ":" + c.getUser())
                    .collect(Collectors.toList());
            assertThat(identities).contains("x509:CN=zk-sdk-client");
        }
    }

    @Test
    void aClientWithoutTheTrustStoreFailsAndSaysTheCertificateIsNotTrusted() {
        assertThat(System.getProperty("zookeeper.ssl.trustStore.location"))
                .as("the JVM-wide trust store the pool must not use")
                .isNotNull();
        TlsConfig noTrustStore = TlsConfig.builder()
                .keyStore(pki.clientKeyStore(), pki.clientKeyStorePassword())
                .build();
        try (ZkSessionPool pool =
                pool(server.secureConnectString()).tls(noTrustStore).build()) {
            Throwable t = catchThrowable(pool::lease);
            assertThat(t)
                    .isInstanceOf(ZkUnavailableException.class)
                    .hasMessageContaining(
                            "TLS handshake with " + server.secureConnectString() + " failed: the server's "
                                    + "certificate is not trusted: no trust store is configured, so only the JVM's default CAs are trusted")
                    .hasMessageNotContaining(pki.clientKeyStorePassword());
        }
    }

    @Test
    void aClientWithoutACertificateIsRefusedByAServerThatNeedsOne() {
        TlsConfig noKeyStore = TlsConfig.builder()
                .trustStore(pki.clientTrustStore(), pki.clientTrustStorePassword())
                .build();
        try (ZkSessionPool pool =
                pool(server.secureConnectString()).tls(noKeyStore).build()) {
            assertThatThrownBy(pool::lease)
                    .isInstanceOf(ZkUnavailableException.class)
                    .hasMessageContaining("TLS handshake with " + server.secureConnectString() + " failed")
                    .hasMessageContaining("the server requires a client certificate, and none was sent");
        }
    }

    @Test
    void hostnameVerificationIsOnByDefault() {
        server.presentWrongNameCertificate(true);
        try {
            try (ZkSessionPool verifying =
                    pool(server.secureConnectString()).tls(fullTls().build()).build()) {
                assertThatThrownBy(verifying::lease)
                        .isInstanceOf(ZkUnavailableException.class)
                        .hasMessageContaining(
                                "hostname verification failed: the server's certificate does not name 127.0.0.1");
            }
            try (ZkSessionPool trusting = pool(server.secureConnectString())
                            .tls(fullTls().hostnameVerification(false).build())
                            .build();
                    ZkLease lease = trusting.lease()) {
                assertThat(lease.exists("/")).isNotNull();
            }
        } finally {
            server.presentWrongNameCertificate(false);
        }
    }

    @Test
    void aPlaintextClientCannotUseTheSecurePortAndATlsClientIsToldItIsOnAPlainOne() {
        try (ZkSessionPool plaintext = pool(server.secureConnectString()).build()) {
            assertThatThrownBy(plaintext::lease)
                    .isInstanceOf(ZkUnavailableException.class)
                    .hasMessageContaining("no session to " + server.secureConnectString() + " connected");
        }
        try (ZkSessionPool tlsOnPlainPort =
                pool(server.plainConnectString()).tls(fullTls().build()).build()) {
            assertThatThrownBy(tlsOnPlainPort::lease)
                    .isInstanceOf(ZkUnavailableException.class)
                    .hasMessageContaining("is " + server.plainConnectString() + " the server's secureClientPort?");
        }
        // The secure port still serves TLS clients.
        try (ZkSessionPool tls = pool(server.secureConnectString())
                        .tls(fullTls().build())
                        .build();
                ZkLease lease = tls.lease()) {
            assertThat(lease.exists("/")).isNotNull();
        }
    }

    @Test
    void aWrongStorePasswordIsRefusedWhenTheConfigIsBuilt() {
        assertThatThrownBy(() -> TlsConfig.builder()
                        .keyStore(pki.clientKeyStore(), "not-the-password-Yh3")
                        .build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(
                        "tls.keyStore '" + pki.clientKeyStore() + "' cannot be used with the given password")
                .hasMessageNotContaining("not-the-password-Yh3");
        assertThatThrownBy(() -> TlsConfig.builder()
                        .trustStore(pki.clientTrustStore(), "not-the-password-Yh3")
                        .build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("tls.trustStore '" + pki.clientTrustStore() + "' cannot be used")
                .hasMessageNotContaining("not-the-password-Yh3");
    }
}
