package dev.zksdk.spring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.zksdk.testing.TestPki;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.springframework.boot.ssl.DefaultSslBundleRegistry;
import org.springframework.boot.ssl.SslBundle;
import org.springframework.boot.ssl.SslBundleKey;
import org.springframework.boot.ssl.SslStoreBundle;

/** The key store copies an SSL bundle is written to: nothing of a refused bundle stays on disk (found in review). */
class SslBundleStoresTest {

    private static KeyStore load(Path file, String password) throws Exception {
        KeyStore ks = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(file)) {
            ks.load(in, password.toCharArray());
        }
        return ks;
    }

    private static Set<Path> storeDirectories() throws Exception {
        try (Stream<Path> s = Files.list(Path.of(System.getProperty("java.io.tmpdir")))) {
            return s.filter(p -> p.getFileName().toString().startsWith("zksdk-ssl-"))
                    .collect(Collectors.toSet());
        }
    }

    @Test
    void aBundleThatCannotBeWrittenLeavesNoDirectoryBehind() throws Exception {
        TestPki pki = TestPki.shared();
        KeyStore keys = load(pki.clientKeyStore(), pki.clientKeyStorePassword());
        KeyStore trust = load(pki.clientTrustStore(), pki.clientTrustStorePassword());
        // A key alias the key store does not hold: refused while the stores are written.
        SslBundle bundle = SslBundle.of(
                SslStoreBundle.of(keys, pki.clientKeyStorePassword(), trust), SslBundleKey.of(null, "no-such-alias"));
        DefaultSslBundleRegistry registry = new DefaultSslBundleRegistry();
        registry.registerBundle("zk", bundle);
        Set<Path> before = storeDirectories();

        assertThatThrownBy(() -> SslBundleStores.of(registry, "zk")).hasMessageContaining("zksdk.ssl.bundle");

        Set<Path> left = storeDirectories();
        left.removeAll(before);
        assertThat(left)
                .as("directories of the refused bundle left in the temp directory")
                .isEmpty();
    }
}
