package dev.zksdk.security;

import dev.zksdk.internal.TlsSettings;
import dev.zksdk.internal.Validation;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import org.apache.zookeeper.common.ClientX509Util;
import org.apache.zookeeper.common.KeyStoreFileType;
import org.apache.zookeeper.common.X509Exception;
import org.apache.zookeeper.common.X509Util;
import org.apache.zookeeper.common.ZKConfig;

/**
 * TLS to an ensemble's client port (the server's {@code secureClientPort}): the key store with this client's
 * certificate (for servers that require one, {@code ssl.clientAuth=need}, ZooKeeper's default), the trust store with
 * the CAs that sign the servers' certificates, and whether the server's certificate must name the host connected to.
 *
 * <p>The pool hands these settings to each session's own {@code ZKClientConfig}; ZooKeeper's JVM-wide
 * {@code zookeeper.ssl.*} and {@code zookeeper.client.secure} system properties are ignored, so two ensembles of one
 * process (or an in-process server's settings) never mix. Sessions use ZooKeeper's Netty client socket.
 *
 * <p>Immutable. {@link Builder#build()} opens both stores with their passwords exactly as ZooKeeper will, so a wrong
 * path, type or password fails there, before anything is sent. Passwords are compared by content (configs with
 * different passwords never share sessions) and never printed: {@link #toString()} shows {@code ****}.
 *
 * <p>Without a trust store the JVM's default CAs are used; without a key store no client certificate is sent.
 * Hostname verification is on by default ({@link #DEFAULT_HOSTNAME_VERIFICATION}).
 */
public final class TlsConfig {

    /** Hostname verification of the server's certificate when not set: on. */
    public static final boolean DEFAULT_HOSTNAME_VERIFICATION = true;

    private final Path keyStore;
    private final char[] keyStorePassword;
    private final String keyStoreType;
    private final Path trustStore;
    private final char[] trustStorePassword;
    private final String trustStoreType;
    private final boolean hostnameVerification;
    private final List<String> enabledProtocols;
    private final List<String> cipherSuites;

    private TlsConfig(Builder b) {
        this.keyStore = b.keyStore;
        this.keyStorePassword = b.keyStorePassword == null ? null : b.keyStorePassword.clone();
        this.keyStoreType = b.keyStoreType;
        this.trustStore = b.trustStore;
        this.trustStorePassword = b.trustStorePassword == null ? null : b.trustStorePassword.clone();
        this.trustStoreType = b.trustStoreType;
        this.hostnameVerification = b.hostnameVerification;
        this.enabledProtocols = b.enabledProtocols;
        this.cipherSuites = b.cipherSuites;
    }

    /**
     * Starts a TLS config: no key store, the JVM's default CAs, hostname verification on.
     *
     * @return a builder with every setting at its default
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Starts a config from this one, to change a few settings (the stores are opened again by {@code build()}).
     *
     * @return a builder holding this config's settings, passwords copied
     */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.keyStore = keyStore;
        b.keyStorePassword = keyStorePassword == null ? null : keyStorePassword.clone();
        b.keyStoreType = keyStoreType;
        b.trustStore = trustStore;
        b.trustStorePassword = trustStorePassword == null ? null : trustStorePassword.clone();
        b.trustStoreType = trustStoreType;
        b.hostnameVerification = hostnameVerification;
        b.enabledProtocols = enabledProtocols;
        b.cipherSuites = cipherSuites;
        return b;
    }

    /**
     * The key store with this client's certificate and key.
     *
     * @return the key store file, or null when no client certificate is sent
     */
    public Path keyStore() {
        return keyStore;
    }

    /**
     * The key store password (also the key's password, as ZooKeeper uses it).
     *
     * @return a copy of the password, or null when none was given
     */
    public char[] keyStorePassword() {
        return keyStorePassword == null ? null : keyStorePassword.clone();
    }

    /**
     * The key store's format.
     *
     * @return {@code JKS}, {@code PKCS12}, {@code PEM} or {@code BCFKS}; null means "from the file name's extension"
     */
    public String keyStoreType() {
        return keyStoreType;
    }

    /**
     * The trust store with the CAs that sign the servers' certificates.
     *
     * @return the trust store file, or null for the JVM's default CAs
     */
    public Path trustStore() {
        return trustStore;
    }

    /**
     * The trust store password.
     *
     * @return a copy of the password, or null when none was given
     */
    public char[] trustStorePassword() {
        return trustStorePassword == null ? null : trustStorePassword.clone();
    }

    /**
     * The trust store's format.
     *
     * @return {@code JKS}, {@code PKCS12}, {@code PEM} or {@code BCFKS}; null means "from the file name's extension"
     */
    public String trustStoreType() {
        return trustStoreType;
    }

    /**
     * Whether the server's certificate must name the host (or IP address) connected to.
     *
     * @return true when host names are verified (default {@link #DEFAULT_HOSTNAME_VERIFICATION})
     */
    public boolean hostnameVerification() {
        return hostnameVerification;
    }

    /**
     * The TLS protocols offered, or empty for the JVM's default protocols from TLSv1.2 up (TLSv1.3 and TLSv1.2 on
     * current JVMs): servers before ZooKeeper 3.9 speak only TLSv1.2 unless configured otherwise, 3.9 both.
     *
     * @return an unmodifiable list of protocol names, possibly empty
     */
    public List<String> enabledProtocols() {
        return enabledProtocols;
    }

    /**
     * The cipher suites offered.
     *
     * @return an unmodifiable list of suite names, or empty for ZooKeeper's default list
     */
    public List<String> cipherSuites() {
        return cipherSuites;
    }

    /**
     * Sets these settings on {@code config} as ZooKeeper's client TLS properties ({@code zookeeper.ssl.*}): the key and
     * trust stores with their passwords and types, host name verification, the protocols offered (these, or the JVM's
     * default protocols from TLSv1.2 up) and the cipher suites. What this config leaves unset is not set, so
     * ZooKeeper's default applies. Every session of a pool with these settings gets exactly these, and the doctor's TLS
     * probe offers the same; it does not switch a client to TLS ({@code zookeeper.client.secure}) nor choose its socket.
     *
     * @param config the config to set them on; it must hold no store password yet, since ZooKeeper logs a replaced
     *     value at DEBUG
     * @throws IllegalArgumentException when {@code config} is null or already holds a key or trust store password
     */
    public void applyTo(ZKConfig config) {
        Validation.notNull("config", config);
        try (ClientX509Util x509 = new ClientX509Util()) {
            for (String key : List.of(x509.getSslKeystorePasswdProperty(), x509.getSslTruststorePasswdProperty())) {
                if (config.getProperty(key) != null) {
                    throw new IllegalArgumentException("config already holds " + key
                            + " (value not shown): apply TLS settings to a config without store passwords");
                }
            }
        }
        TlsSettings.apply(
                new TlsSettings.Settings(
                        keyStore,
                        keyStorePassword,
                        keyStoreType,
                        trustStore,
                        trustStorePassword,
                        trustStoreType,
                        hostnameVerification,
                        enabledProtocols,
                        cipherSuites),
                config);
    }

    @Override
    public boolean equals(Object o) {
        if (this == o) {
            return true;
        }
        if (!(o instanceof TlsConfig)) {
            return false;
        }
        TlsConfig that = (TlsConfig) o;
        return hostnameVerification == that.hostnameVerification
                && Objects.equals(keyStore, that.keyStore)
                && Arrays.equals(keyStorePassword, that.keyStorePassword)
                && Objects.equals(keyStoreType, that.keyStoreType)
                && Objects.equals(trustStore, that.trustStore)
                && Arrays.equals(trustStorePassword, that.trustStorePassword)
                && Objects.equals(trustStoreType, that.trustStoreType)
                && enabledProtocols.equals(that.enabledProtocols)
                && cipherSuites.equals(that.cipherSuites);
    }

    @Override
    public int hashCode() {
        return Objects.hash(
                keyStore,
                Arrays.hashCode(keyStorePassword),
                keyStoreType,
                trustStore,
                Arrays.hashCode(trustStorePassword),
                trustStoreType,
                hostnameVerification,
                enabledProtocols,
                cipherSuites);
    }

    @Override
    public String toString() {
        return "TlsConfig{keyStore=" + store(keyStore, keyStoreType, keyStorePassword)
                + ", trustStore="
                + (trustStore == null ? "(JVM default CAs)" : store(trustStore, trustStoreType, trustStorePassword))
                + ", hostnameVerification=" + hostnameVerification
                + (enabledProtocols.isEmpty() ? "" : ", enabledProtocols=" + enabledProtocols)
                + (cipherSuites.isEmpty() ? "" : ", cipherSuites=" + cipherSuites) + "}";
    }

    private static String store(Path location, String type, char[] password) {
        if (location == null) {
            return "(none)";
        }
        return location + " (" + (type == null ? "type from extension" : type) + ", password "
                + (password == null || password.length == 0 ? "none" : "****") + ")";
    }

    /**
     * Builds a {@link TlsConfig}. Setters reject bad values at once, naming the setting and the value (never a
     * password); {@link #build()} opens the stores.
     */
    public static final class Builder {
        private Path keyStore;
        private char[] keyStorePassword;
        private String keyStoreType;
        private Path trustStore;
        private char[] trustStorePassword;
        private String trustStoreType;
        private boolean hostnameVerification = DEFAULT_HOSTNAME_VERIFICATION;
        private List<String> enabledProtocols = List.of();
        private List<String> cipherSuites = List.of();

        private Builder() {}

        /**
         * This client's certificate and key; {@code password} may be null for an unencrypted PEM file.
         *
         * @param location the key store file, readable
         * @param password the store's (and the key's) password, or null; copied
         * @return this builder
         * @throws IllegalArgumentException when {@code location} is null or not a readable file
         */
        public Builder keyStore(Path location, char[] password) {
            this.keyStore = readableFile("tls.keyStore", location);
            this.keyStorePassword = password == null ? null : password.clone();
            return this;
        }

        /**
         * As {@link #keyStore(Path, char[])}.
         *
         * @param location the key store file, readable
         * @param password the store's (and the key's) password, or null
         * @return this builder
         * @throws IllegalArgumentException when {@code location} is null or not a readable file
         */
        public Builder keyStore(Path location, String password) {
            return keyStore(location, password == null ? null : password.toCharArray());
        }

        /**
         * The key store's format; by default taken from the file name's extension.
         *
         * @param type {@code JKS}, {@code PKCS12}, {@code PEM} or {@code BCFKS}, in any case
         * @return this builder
         * @throws IllegalArgumentException when {@code type} is null or none of these
         */
        public Builder keyStoreType(String type) {
            this.keyStoreType = storeType("tls.keyStoreType", type);
            return this;
        }

        /**
         * The CAs that sign the servers' certificates; {@code password} may be null.
         *
         * @param location the trust store file, readable
         * @param password the store's password, or null; copied
         * @return this builder
         * @throws IllegalArgumentException when {@code location} is null or not a readable file
         */
        public Builder trustStore(Path location, char[] password) {
            this.trustStore = readableFile("tls.trustStore", location);
            this.trustStorePassword = password == null ? null : password.clone();
            return this;
        }

        /**
         * As {@link #trustStore(Path, char[])}.
         *
         * @param location the trust store file, readable
         * @param password the store's password, or null
         * @return this builder
         * @throws IllegalArgumentException when {@code location} is null or not a readable file
         */
        public Builder trustStore(Path location, String password) {
            return trustStore(location, password == null ? null : password.toCharArray());
        }

        /**
         * The trust store's format; by default taken from the file name's extension.
         *
         * @param type {@code JKS}, {@code PKCS12}, {@code PEM} or {@code BCFKS}, in any case
         * @return this builder
         * @throws IllegalArgumentException when {@code type} is null or none of these
         */
        public Builder trustStoreType(String type) {
            this.trustStoreType = storeType("tls.trustStoreType", type);
            return this;
        }

        /**
         * Whether the server's certificate must name the host or IP address in the connect string (default true).
         * Turning it off accepts any certificate the trust store vouches for, whoever it was issued to.
         *
         * @param enabled false to turn verification off
         * @return this builder
         */
        public Builder hostnameVerification(boolean enabled) {
            this.hostnameVerification = enabled;
            return this;
        }

        /**
         * The TLS protocols to offer, such as {@code TLSv1.3}; none means the JVM's defaults from TLSv1.2 up (see
         * {@link TlsConfig#enabledProtocols()}).
         *
         * @param protocols the protocol names, each non-blank and without commas
         * @return this builder
         * @throws IllegalArgumentException when an entry is null, blank, contains a comma or is a protocol this JVM's
         *     TLS implementation does not know
         */
        public Builder enabledProtocols(String... protocols) {
            this.enabledProtocols = known("tls.enabledProtocols", names("tls.enabledProtocols", protocols), true);
            return this;
        }

        /**
         * The cipher suites to offer; none means ZooKeeper's default list.
         *
         * @param suites the suite names, each non-blank and without commas
         * @return this builder
         * @throws IllegalArgumentException when an entry is null, blank, contains a comma or is a cipher suite this
         *     JVM's TLS implementation does not know
         */
        public Builder cipherSuites(String... suites) {
            this.cipherSuites = known("tls.cipherSuites", names("tls.cipherSuites", suites), false);
            return this;
        }

        /**
         * Opens the key store and the trust store with their passwords, as ZooKeeper will for every connection.
         *
         * @return the config
         * @throws IllegalArgumentException naming the store and what is wrong (never the password) when one cannot be
         *     opened: wrong password, wrong type, not a key store
         */
        public TlsConfig build() {
            if (keyStore == null && keyStorePassword != null) {
                throw new IllegalArgumentException("tls.keyStore must be set when a key store password is");
            }
            if (keyStore != null) {
                checkType("tls.keyStore", keyStore, keyStoreType);
                try {
                    X509Util.createKeyManager(keyStore.toString(), password(keyStorePassword), keyStoreType);
                } catch (X509Exception.KeyManagerException e) {
                    throw new IllegalArgumentException(
                            "tls.keyStore '" + keyStore + "' cannot be used with the given " + "password and type: "
                                    + rootMessage(e),
                            e);
                }
            }
            if (trustStore != null) {
                checkType("tls.trustStore", trustStore, trustStoreType);
                try {
                    X509Util.loadTrustStore(trustStore.toString(), password(trustStorePassword), trustStoreType);
                } catch (Exception e) {
                    throw new IllegalArgumentException(
                            "tls.trustStore '" + trustStore + "' cannot be used with the given " + "password and type: "
                                    + rootMessage(e),
                            e);
                }
            }
            return new TlsConfig(this);
        }

        private static String password(char[] password) {
            return password == null ? "" : new String(password);
        }

        private static void checkType(String setting, Path location, String type) {
            try {
                KeyStoreFileType.fromPropertyValueOrFileName(type, location.toString());
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(
                        setting + " '" + location + "': its type cannot be told from the file " + "name; set " + setting
                                + "Type (JKS, PKCS12, PEM or BCFKS)",
                        e);
            }
        }

        private static String rootMessage(Throwable t) {
            Throwable root = t;
            while (root.getCause() != null && root.getCause() != root) {
                root = root.getCause();
            }
            return root.getMessage() == null ? root.getClass().getSimpleName() : root.getMessage();
        }

        private static Path readableFile(String setting, Path location) {
            Validation.notNull(setting, location);
            if (!Files.isRegularFile(location) || !Files.isReadable(location)) {
                throw new IllegalArgumentException(setting + " '" + location + "' is not a readable file");
            }
            return location;
        }

        private static String storeType(String setting, String type) {
            Validation.notNull(setting, type);
            try {
                return KeyStoreFileType.fromPropertyValue(type.toUpperCase(Locale.ROOT))
                        .getPropertyValue();
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(
                        setting + " must be JKS, PKCS12, PEM or BCFKS, was '" + type + "'", e);
            }
        }

        /**
         * Refuses a name the JVM's default TLS implementation does not support (a typo such as {@code TLSv1.9} would
         * otherwise surface only as failed handshakes). When the JVM has no default TLS context, nothing is refused here.
         */
        private static List<String> known(String setting, List<String> names, boolean protocols) {
            SSLParameters supported;
            try {
                supported = SSLContext.getDefault().getSupportedSSLParameters();
            } catch (NoSuchAlgorithmException e) {
                return names;
            }
            List<String> all = Arrays.asList(protocols ? supported.getProtocols() : supported.getCipherSuites());
            for (String name : names) {
                if (!all.contains(name)) {
                    throw new IllegalArgumentException(setting + " has '" + name + "', which this JVM's TLS does not"
                            + " support" + (protocols ? " (it supports " + String.join(", ", all) + ")" : ""));
                }
            }
            return names;
        }

        private static List<String> names(String setting, String... values) {
            Validation.notNull(setting, values);
            for (String v : values) {
                if (v == null || v.isBlank() || v.contains(",")) {
                    throw new IllegalArgumentException(
                            setting + " entries must be non-blank names without commas, was '" + v + "'");
                }
            }
            return List.of(values);
        }
    }
}
