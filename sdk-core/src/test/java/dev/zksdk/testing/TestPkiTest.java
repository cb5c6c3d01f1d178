package dev.zksdk.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.Test;

/**
 * {@link TestPki}'s stores, made by keytool in one child JVM: each opens with its own password and holds what the TLS
 * tests rely on, and a server and a client using them complete a mutually authenticated handshake.
 */
class TestPkiTest {

    private static final TestPki PKI = TestPki.shared();

    @Test
    void eachStoreOpensWithItsPasswordAndHoldsWhatItsDocumentationSays() throws Exception {
        KeyStore server = load(PKI.serverKeyStore(), PKI.serverKeyStorePassword());
        X509Certificate serverCert = (X509Certificate) server.getCertificate("key");
        assertThat(server.isKeyEntry("key")).isTrue();
        assertThat(serverCert.getSubjectX500Principal().getName()).isEqualTo("CN=zk-sdk-server");
        assertThat(serverCert.getSubjectAlternativeNames()).containsExactly(List.of(7, "127.0.0.1"));

        KeyStore wrongName = load(PKI.wrongNameServerKeyStore(), PKI.serverKeyStorePassword());
        assertThat(((X509Certificate) wrongName.getCertificate("key")).getSubjectAlternativeNames())
                .containsExactly(List.of(2, "zk.invalid"));

        KeyStore client = load(PKI.clientKeyStore(), PKI.clientKeyStorePassword());
        assertThat(client.isKeyEntry("key")).isTrue();
        assertThat(((X509Certificate) client.getCertificate("key"))
                        .getSubjectX500Principal()
                        .getName())
                .isEqualTo("CN=zk-sdk-client");

        KeyStore clientTrust = load(PKI.clientTrustStore(), PKI.clientTrustStorePassword());
        assertThat(Collections.list(clientTrust.aliases())).containsExactlyInAnyOrder("server", "server-wrong-name");
        assertThat(clientTrust.getCertificate("server")).isEqualTo(serverCert);

        KeyStore serverTrust = load(PKI.serverTrustStore(), PKI.serverTrustStorePassword());
        assertThat(Collections.list(serverTrust.aliases())).containsExactly("client");
        assertThat(serverTrust.getCertificate("client")).isEqualTo(client.getCertificate("key"));
    }

    @Test
    void aServerAndAClientOnTheseStoresCompleteAMutualHandshake() throws Exception {
        SSLContext serverContext = context(
                PKI.serverKeyStore(), PKI.serverKeyStorePassword(),
                PKI.serverTrustStore(), PKI.serverTrustStorePassword());
        SSLContext clientContext = context(
                PKI.clientKeyStore(), PKI.clientKeyStorePassword(),
                PKI.clientTrustStore(), PKI.clientTrustStorePassword());
        InetAddress loopback = InetAddress.getByName("127.0.0.1");
        try (SSLServerSocket listener =
                (SSLServerSocket) serverContext.getServerSocketFactory().createServerSocket(0, 1, loopback)) {
            listener.setNeedClientAuth(true);
            CompletableFuture<String> peerOfServer = CompletableFuture.supplyAsync(() -> {
                try (SSLSocket accepted = (SSLSocket) listener.accept()) {
                    accepted.startHandshake();
                    return accepted.getSession().getPeerPrincipal().getName();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            try (SSLSocket socket =
                    (SSLSocket) clientContext.getSocketFactory().createSocket(loopback, listener.getLocalPort())) {
                socket.startHandshake();
                assertThat(socket.getSession().getPeerPrincipal().getName()).isEqualTo("CN=zk-sdk-server");
            }
            assertThat(peerOfServer.get(30, TimeUnit.SECONDS)).isEqualTo("CN=zk-sdk-client");
        }
    }

    private static KeyStore load(Path file, String password) throws Exception {
        KeyStore store = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(file)) {
            store.load(in, password.toCharArray());
        }
        return store;
    }

    private static SSLContext context(Path keyStore, String keyPassword, Path trustStore, String trustPassword)
            throws Exception {
        KeyManagerFactory keys = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        keys.init(load(keyStore, keyPassword), keyPassword.toCharArray());
        TrustManagerFactory trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        trust.init(load(trustStore, trustPassword));
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(keys.getKeyManagers(), trust.getTrustManagers(), null);
        return context;
    }
}
