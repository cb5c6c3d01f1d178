package dev.zksdk.internal;

import java.nio.file.Path;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import javax.net.ssl.SSLContext;
import org.apache.zookeeper.common.ClientX509Util;
import org.apache.zookeeper.common.ZKConfig;

/**
 * The one mapping of a {@code TlsConfig}'s settings onto ZooKeeper's client TLS settings ({@code zookeeper.ssl.*}
 * keys of a {@link ZKConfig}), reached through {@code TlsConfig.applyTo} by every pooled session
 * ({@code SessionClientConfig}) and by the doctor's TLS probe, so that the probe offers exactly what the pool's clients
 * offer: the same stores, host name verification, protocols and cipher suites. The kernel knows no API type, so the
 * settings come as {@link Settings}, one field per {@code TlsConfig} getter, made in {@code TlsConfig} alone. What
 * was offered is described in one way too ({@link #offered}), for the pool's errors and the doctor's findings.
 */
public final class TlsSettings {

    /**
     * The protocols a TLS client offers unless its {@code TlsConfig} names them: the JVM's default client protocols from
     * TLSv1.2 up (TLSv1.3 and TLSv1.2 on current JVMs); empty when they cannot be read, leaving ZooKeeper's default.
     */
    public static final List<String> DEFAULT_PROTOCOLS = defaultProtocols();

    private TlsSettings() {}

    /**
     * A {@code TlsConfig}'s values, as its getters give them.
     *
     * @param keyStore the key store, or null
     * @param keyStorePassword its password, or null
     * @param keyStoreType its type, or null for the file name's extension
     * @param trustStore the trust store, or null
     * @param trustStorePassword its password, or null
     * @param trustStoreType its type, or null for the file name's extension
     * @param hostnameVerification whether the server's certificate must name the host
     * @param enabledProtocols the protocols to offer, empty for {@link #DEFAULT_PROTOCOLS}
     * @param cipherSuites the cipher suites to offer, empty for the JVM's
     */
    public record Settings(
            Path keyStore,
            char[] keyStorePassword,
            String keyStoreType,
            Path trustStore,
            char[] trustStorePassword,
            String trustStoreType,
            boolean hostnameVerification,
            List<String> enabledProtocols,
            List<String> cipherSuites) {

        @Override
        public String toString() {
            return "TlsSettings.Settings{keyStore=" + keyStore + ", trustStore=" + trustStore
                    + ", hostnameVerification=" + hostnameVerification + ", enabledProtocols=" + enabledProtocols
                    + ", cipherSuites=" + cipherSuites + "}"; // never the passwords
        }
    }

    private static List<String> defaultProtocols() {
        try {
            List<String> out = new ArrayList<>();
            for (String p : SSLContext.getDefault().getDefaultSSLParameters().getProtocols()) {
                if (p.equals("TLSv1.3") || p.equals("TLSv1.2")) {
                    out.add(p);
                }
            }
            return List.copyOf(out);
        } catch (NoSuchAlgorithmException e) {
            return List.of();
        }
    }

    /**
     * The protocols a client with {@code tls} offers: its own, else {@link #DEFAULT_PROTOCOLS}. ZooKeeper's Netty client
     * offers only its one default protocol (TLSv1.3 where the JVM has it), and servers before 3.9 speak only TLSv1.2
     * unless configured otherwise: the handshake would fail. So the default is what the JVM offers from TLSv1.2 up, as
     * ZooKeeper's own server does.
     *
     * @param tls the settings
     * @return the protocols, empty for ZooKeeper's default
     */
    public static List<String> protocols(Settings tls) {
        return protocols(tls.enabledProtocols());
    }

    /**
     * The protocols a client offers that was configured with {@code enabledProtocols}: those, else
     * {@link #DEFAULT_PROTOCOLS}.
     *
     * @param enabledProtocols the configured protocols, empty for the default
     * @return the protocols, empty for ZooKeeper's default
     */
    public static List<String> protocols(List<String> enabledProtocols) {
        return enabledProtocols.isEmpty() ? DEFAULT_PROTOCOLS : enabledProtocols;
    }

    /**
     * What a client configured with these protocols and cipher suites offers in its TLS hello, in words, for errors
     * and findings: {@code protocols TLSv1.3, TLSv1.2 (the default); cipher suites the JVM's default}. Names only,
     * never a store or a password.
     *
     * @param enabledProtocols the configured protocols, empty for the default
     * @param cipherSuites the configured cipher suites, empty for the JVM's default
     * @return the description
     */
    public static String offered(List<String> enabledProtocols, List<String> cipherSuites) {
        List<String> protocols = protocols(enabledProtocols);
        return "protocols " + (protocols.isEmpty() ? "ZooKeeper's default" : String.join(", ", protocols))
                + (enabledProtocols.isEmpty() ? " (the default)" : "")
                + "; cipher suites "
                + (cipherSuites.isEmpty() ? "the JVM's default" : String.join(", ", cipherSuites));
    }

    /**
     * Whether a TLS alert (or the message of a failed handshake) says the server accepts none of the protocol versions
     * ({@code protocol_version}) or cipher suites ({@code handshake_failure}, {@code insufficient_security}) the
     * client offered.
     *
     * @param alert the alert or message, any case
     * @return true for such a refusal
     */
    public static boolean refusesWhatIsOffered(String alert) {
        String a = alert.toLowerCase(Locale.ROOT);
        return a.contains("protocol_version") || a.contains("handshake_failure") || a.contains("insufficient_security");
    }

    /**
     * Sets {@code tls} on {@code config}: key and trust stores with their passwords and types, host name verification,
     * {@link #protocols(Settings) protocols} and cipher suites. What {@code tls} leaves unset is not set, so
     * ZooKeeper's default applies (a store type from the file name's extension, the JVM's cipher suites).
     *
     * @param tls the settings
     * @param config the client config to set them on
     */
    public static void apply(Settings tls, ZKConfig config) {
        try (ClientX509Util x509 = new ClientX509Util()) {
            if (tls.keyStore() != null) {
                config.setProperty(
                        x509.getSslKeystoreLocationProperty(), tls.keyStore().toString());
                setIfPresent(config, x509.getSslKeystorePasswdProperty(), chars(tls.keyStorePassword()));
                setIfPresent(config, x509.getSslKeystoreTypeProperty(), tls.keyStoreType());
            }
            if (tls.trustStore() != null) {
                config.setProperty(
                        x509.getSslTruststoreLocationProperty(),
                        tls.trustStore().toString());
                setIfPresent(config, x509.getSslTruststorePasswdProperty(), chars(tls.trustStorePassword()));
                setIfPresent(config, x509.getSslTruststoreTypeProperty(), tls.trustStoreType());
            }
            config.setProperty(
                    x509.getSslHostnameVerificationEnabledProperty(), Boolean.toString(tls.hostnameVerification()));
            List<String> protocols = protocols(tls);
            if (!protocols.isEmpty()) {
                config.setProperty(x509.getSslEnabledProtocolsProperty(), String.join(",", protocols));
            }
            if (!tls.cipherSuites().isEmpty()) {
                config.setProperty(x509.getSslCipherSuitesProperty(), String.join(",", tls.cipherSuites()));
            }
        }
    }

    private static void setIfPresent(ZKConfig config, String key, String value) {
        if (value != null) {
            config.setProperty(key, value);
        }
    }

    private static String chars(char[] password) {
        return password == null ? null : new String(password);
    }
}
