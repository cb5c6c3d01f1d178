package dev.zksdk.spring;

import dev.zksdk.security.TlsConfig;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.Key;
import java.security.KeyStore;
import java.security.SecureRandom;
import java.security.cert.Certificate;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.springframework.boot.context.properties.source.InvalidConfigurationPropertyValueException;
import org.springframework.boot.ssl.NoSuchSslBundleException;
import org.springframework.boot.ssl.SslBundle;
import org.springframework.boot.ssl.SslBundleKey;
import org.springframework.boot.ssl.SslBundles;
import org.springframework.boot.ssl.SslStoreBundle;

/**
 * The key and trust material of the Spring Boot SSL bundle named by {@code zksdk.ssl.bundle}, as files ZooKeeper can
 * read. The SDK hands ZooKeeper's client its TLS material only as key store locations ({@code TlsConfig}), so the
 * bundle's key store and trust store, whatever their source (JKS, PKCS#12 or PEM), are written as PKCS#12 files in
 * a directory only the process owner can read, under a random password that exists only in this object's memory.
 * The files are deleted when the context closes (and at JVM exit otherwise).
 *
 * <p>When the bundle is reloaded (Spring Boot's {@code reload-on-update}), the files are rewritten in place, atomically,
 * under the same password, for connections that load the stores afterwards; established connections keep theirs.
 */
final class SslBundleStores implements AutoCloseable {

    private static final Log log = LogFactory.getLog(SslBundleStores.class);
    private static final String PROPERTY = "zksdk.ssl.bundle";

    private final String bundleName;
    private final Path directory;
    private final Path keyStore;
    private final Path trustStore;
    private final char[] password;
    private final String[] enabledProtocols;
    private final String[] ciphers;

    private SslBundleStores(String bundleName, SslBundle bundle) throws IOException {
        this.bundleName = bundleName;
        this.enabledProtocols = bundle.getOptions().getEnabledProtocols();
        this.ciphers = bundle.getOptions().getCiphers();
        this.password = randomPassword();
        this.directory = ownerOnlyDirectory();
        this.keyStore = bundle.getStores().getKeyStore() == null ? null : directory.resolve("key-store.p12");
        this.trustStore = bundle.getStores().getTrustStore() == null ? null : directory.resolve("trust-store.p12");
        directory.toFile().deleteOnExit();
        if (keyStore != null) {
            keyStore.toFile().deleteOnExit();
        }
        if (trustStore != null) {
            trustStore.toFile().deleteOnExit();
        }
    }

    /**
     * Writes the stores of the bundle named {@code bundleName} and keeps them current when the bundle is reloaded.
     *
     * @throws InvalidConfigurationPropertyValueException for {@code zksdk.ssl.bundle} when there is no such bundle or
     *     its stores cannot be read
     */
    static SslBundleStores of(SslBundles bundles, String bundleName) {
        SslBundle bundle;
        try {
            bundle = bundles.getBundle(bundleName);
        } catch (NoSuchSslBundleException e) {
            throw new InvalidConfigurationPropertyValueException(
                    PROPERTY,
                    bundleName,
                    "there is no SSL bundle of that name; define it under spring.ssl.bundle.jks." + bundleName
                            + " or spring.ssl.bundle.pem." + bundleName + " (bundles defined: "
                            + bundles.getBundleNames() + ")");
        }
        SslBundleStores stores = null;
        try {
            stores = new SslBundleStores(bundleName, bundle);
            stores.write(bundle);
        } catch (IOException | GeneralSecurityException | RuntimeException e) {
            if (stores != null) {
                // Nothing half-written stays behind: a key store already written holds the private key.
                try {
                    stores.close();
                } catch (RuntimeException cleanup) {
                    e.addSuppressed(cleanup);
                }
            }
            throw new InvalidConfigurationPropertyValueException(
                    PROPERTY, bundleName, "its stores could not be prepared for ZooKeeper: " + e);
        }
        bundles.addBundleUpdateHandler(bundleName, stores::update);
        return stores;
    }

    /**
     * The SDK's TLS config of this bundle: its stores (a key store only when the bundle has one), its protocols and
     * cipher suites.
     */
    TlsConfig.Builder tlsConfig() {
        TlsConfig.Builder tls = TlsConfig.builder();
        if (keyStore != null) {
            tls.keyStore(keyStore, password).keyStoreType("PKCS12");
        }
        if (trustStore != null) {
            tls.trustStore(trustStore, password).trustStoreType("PKCS12");
        }
        if (enabledProtocols != null) {
            tls.enabledProtocols(enabledProtocols);
        }
        if (ciphers != null) {
            tls.cipherSuites(ciphers);
        }
        return tls;
    }

    String bundleName() {
        return bundleName;
    }

    private void update(SslBundle bundle) {
        try {
            if ((bundle.getStores().getKeyStore() == null) != (keyStore == null)
                    || (bundle.getStores().getTrustStore() == null) != (trustStore == null)) {
                log.warn("SSL bundle '" + bundleName + "' was reloaded with a key or trust store added or removed; "
                        + "ZooKeeper sessions keep using the stores they started with until restart");
                return;
            }
            write(bundle);
            log.info("SSL bundle '" + bundleName + "' reloaded: new ZooKeeper connections use its new stores");
        } catch (IOException | GeneralSecurityException | RuntimeException e) {
            log.warn("SSL bundle '" + bundleName + "' was reloaded but could not be written for ZooKeeper; "
                    + "connections keep using the previous stores: " + e);
        }
    }

    private void write(SslBundle bundle) throws IOException, GeneralSecurityException {
        SslStoreBundle source = bundle.getStores();
        if (keyStore != null) {
            writeAtomically(keyStore, keyEntries(source.getKeyStore(), source.getKeyStorePassword(), bundle.getKey()));
        }
        if (trustStore != null) {
            writeAtomically(trustStore, certificates(source.getTrustStore()));
        }
    }

    /**
     * The key entries of {@code source} (only the bundle key's alias when it names one) and its certificates, each key
     * re-protected with this object's password: ZooKeeper opens every key with the store's password.
     */
    private KeyStore keyEntries(KeyStore source, String storePassword, SslBundleKey bundleKey)
            throws IOException, GeneralSecurityException {
        KeyStore out = emptyPkcs12();
        String alias = bundleKey == null ? null : bundleKey.getAlias();
        if (alias != null) {
            bundleKey.assertContainsAlias(source);
        }
        List<char[]> candidates = new ArrayList<>();
        if (bundleKey != null && bundleKey.getPassword() != null) {
            candidates.add(bundleKey.getPassword().toCharArray());
        }
        if (storePassword != null) {
            candidates.add(storePassword.toCharArray());
        }
        candidates.add(new char[0]);
        candidates.add(null);
        for (String a : Collections.list(source.aliases())) {
            if (source.isKeyEntry(a)) {
                if (alias != null && !alias.equals(a)) {
                    continue;
                }
                out.setKeyEntry(a, key(source, a, candidates), password, source.getCertificateChain(a));
            } else if (source.isCertificateEntry(a)) {
                out.setCertificateEntry(a, source.getCertificate(a));
            }
        }
        return out;
    }

    private static Key key(KeyStore source, String alias, List<char[]> passwords) throws GeneralSecurityException {
        GeneralSecurityException last = null;
        for (char[] candidate : passwords) {
            try {
                Key key = source.getKey(alias, candidate);
                if (key != null) {
                    return key;
                }
            } catch (GeneralSecurityException e) {
                last = e;
            }
        }
        throw new GeneralSecurityException(
                "the key '" + alias + "' cannot be read with the bundle's key or store password", last);
    }

    private static KeyStore certificates(KeyStore source) throws IOException, GeneralSecurityException {
        KeyStore out = emptyPkcs12();
        for (String a : Collections.list(source.aliases())) {
            Certificate certificate = source.getCertificate(a);
            if (certificate != null) {
                out.setCertificateEntry(a, certificate);
            }
        }
        return out;
    }

    private static KeyStore emptyPkcs12() throws IOException, GeneralSecurityException {
        KeyStore store = KeyStore.getInstance("PKCS12");
        store.load(null, null);
        return store;
    }

    private void writeAtomically(Path target, KeyStore store) throws IOException, GeneralSecurityException {
        Path tmp = Files.createTempFile(directory, "next-", ".p12");
        try {
            try (OutputStream out = Files.newOutputStream(tmp)) {
                store.store(out, password);
            }
            try {
                Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    private static Path ownerOnlyDirectory() throws IOException {
        if (FileSystems.getDefault().supportedFileAttributeViews().contains("posix")) {
            return Files.createTempDirectory(
                    "zksdk-ssl-", PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        }
        Path dir = Files.createTempDirectory("zksdk-ssl-");
        dir.toFile().setReadable(false, false);
        dir.toFile().setReadable(true, true);
        return dir;
    }

    private static char[] randomPassword() {
        SecureRandom random = new SecureRandom();
        String alphabet = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
        char[] p = new char[32];
        for (int i = 0; i < p.length; i++) {
            p[i] = alphabet.charAt(random.nextInt(alphabet.length()));
        }
        return p;
    }

    /** Deletes the files. */
    @Override
    public void close() {
        try {
            for (Path p : new Path[] {keyStore, trustStore, directory}) {
                if (p != null) {
                    Files.deleteIfExists(p);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("could not delete the ZooKeeper copies of SSL bundle " + bundleName, e);
        }
    }

    @Override
    public String toString() {
        return "SslBundleStores{bundle=" + bundleName + ", directory=" + directory + "}";
    }
}
