package dev.zksdk.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import javax.security.auth.login.AppConfigurationEntry;
import javax.security.auth.login.Configuration;
import org.apache.zookeeper.server.auth.ProviderRegistry;
import org.apache.zookeeper.server.command.FourLetterCommands;
import org.apache.zookeeper.server.embedded.ExitHandler;
import org.apache.zookeeper.server.embedded.ZooKeeperServerEmbedded;

/**
 * An in-process ZooKeeper server (ZooKeeper's own {@link ZooKeeperServerEmbedded}) with every security feature a
 * client can meet: a plaintext client port, a TLS client port ({@code secureClientPort}, Netty, client certificates
 * required and mapped to {@code x509} identities), SASL DIGEST-MD5 users (its {@code Server} JAAS section) and the
 * digest scheme. Everything on 127.0.0.1, free ports, a temporary data directory, tick time 200 ms.
 *
 * <p>ZooKeeper reads server TLS settings, auth providers and the server connection factory from JVM-wide system
 * properties and registries, so this fixture sets them and {@link #close()} puts back what was there: only one may
 * run at a time in a JVM, and no other in-process server should start while it runs. That the JVM carries the
 * server's {@code zookeeper.ssl.*} properties meanwhile is useful: a client that honoured them instead of its own
 * settings would be caught.
 *
 * <p>The server's JAAS section is served by a {@link Configuration} that delegates every other name to the one
 * installed before; after close it stops answering for {@code Server} but stays in place, so that wrappers installed
 * on top of it (such as the SDK's own) keep working.
 */
public final class SecureServer implements AutoCloseable {

    private static final String[] SYSTEM_PROPERTIES = {
        "zookeeper.serverCnxnFactory", "zookeeper.ssl.keyStore.location", "zookeeper.ssl.keyStore.password",
        "zookeeper.ssl.keyStore.type", "zookeeper.ssl.trustStore.location", "zookeeper.ssl.trustStore.password",
        "zookeeper.ssl.trustStore.type", "zookeeper.ssl.clientAuth", "zookeeper.authProvider.x509",
        "zookeeper.authProvider.sasl", "zookeeper.4lw.commands.whitelist", "zookeeper.admin.enableServer",
        "zookeeper.ssl.enabledProtocols", "zookeeper.ssl.ciphersuites",
    };

    private final Map<String, String> savedProperties = new HashMap<>();
    private final TestPki pki;
    private final Path baseDir;
    private final ServerJaas jaas;
    private ZooKeeperServerEmbedded server;
    private String plain;
    private String secure;

    private SecureServer(TestPki pki, Map<String, String> saslUsers) throws IOException {
        this.pki = pki;
        this.baseDir = Files.createTempDirectory("zksdk-secure-server");
        this.jaas = new ServerJaas(Configuration.getConfiguration(), saslUsers);
    }

    /**
     * Starts a server with the given SASL DIGEST-MD5 users (name to password).
     *
     * @param pki the stores the server serves and trusts
     * @param saslUsers the users of the server's {@code Server} JAAS section, name to password (may be empty)
     * @return the running server; close it to stop it and restore the JVM's settings
     * @throws IllegalStateException when it does not start within 30 s
     */
    public static SecureServer start(TestPki pki, Map<String, String> saslUsers) {
        SecureServer s;
        try {
            s = new SecureServer(pki, saslUsers);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        try {
            s.startServer();
            return s;
        } catch (Exception e) {
            s.close();
            throw new IllegalStateException("secure in-process ZooKeeper server did not start", e);
        }
    }

    private void startServer() throws Exception {
        for (String key : SYSTEM_PROPERTIES) {
            savedProperties.put(key, System.getProperty(key));
        }
        set("zookeeper.serverCnxnFactory", "org.apache.zookeeper.server.NettyServerCnxnFactory");
        set("zookeeper.ssl.keyStore.location", pki.serverKeyStore().toString());
        set("zookeeper.ssl.keyStore.password", pki.serverKeyStorePassword());
        set("zookeeper.ssl.trustStore.location", pki.serverTrustStore().toString());
        set("zookeeper.ssl.trustStore.password", pki.serverTrustStorePassword());
        set("zookeeper.ssl.clientAuth", "need");
        set("zookeeper.authProvider.x509", "org.apache.zookeeper.server.auth.X509AuthenticationProvider");
        set("zookeeper.authProvider.sasl", "org.apache.zookeeper.server.auth.SASLAuthenticationProvider");
        set("zookeeper.4lw.commands.whitelist", "*");
        FourLetterCommands.resetWhiteList();
        // The registry reads these once per JVM; an earlier server may have initialized it already.
        ProviderRegistry.addOrUpdateProvider("zookeeper.authProvider.x509");
        ProviderRegistry.addOrUpdateProvider("zookeeper.authProvider.sasl");
        Configuration.setConfiguration(jaas);

        Properties p = new Properties();
        p.setProperty("tickTime", "200");
        p.setProperty("initLimit", "10");
        p.setProperty("syncLimit", "5");
        p.setProperty("dataDir", baseDir.resolve("data").toString());
        p.setProperty("clientPort", "0");
        p.setProperty("clientPortAddress", "127.0.0.1");
        p.setProperty("secureClientPort", "0");
        p.setProperty("secureClientPortAddress", "127.0.0.1");
        p.setProperty("minSessionTimeout", "400");
        p.setProperty("maxSessionTimeout", "60000");
        p.setProperty("admin.enableServer", "false");
        server = ZooKeeperServerEmbedded.builder()
                .baseDir(baseDir)
                .configuration(p)
                .exitHandler(ExitHandler.LOG_ONLY)
                .build();
        server.start(30_000);
        plain = server.getConnectionString();
        secure = server.getSecureConnectionString();
    }

    private static void set(String key, String value) {
        System.setProperty(key, value);
    }

    /**
     * {@code 127.0.0.1:port} of the plaintext client port.
     *
     * @return the plaintext address
     */
    public String plainConnectString() {
        return plain;
    }

    /**
     * {@code 127.0.0.1:port} of the TLS client port.
     *
     * @return the TLS address
     */
    public String secureConnectString() {
        return secure;
    }

    /**
     * Makes new TLS connections get the certificate that names only {@code DNS:zk.invalid} (true) or the right one
     * (false). ZooKeeper builds the server's TLS context per connection from system properties, so no restart is
     * needed.
     *
     * @param wrongName true for the wrong-name certificate, false for the right one
     */
    public void presentWrongNameCertificate(boolean wrongName) {
        set(
                "zookeeper.ssl.keyStore.location",
                (wrongName ? pki.wrongNameServerKeyStore() : pki.serverKeyStore()).toString());
    }

    /**
     * Makes new TLS connections accept only these protocols and cipher suites ({@code ssl.enabledProtocols},
     * {@code ssl.ciphersuites}); an empty list puts back ZooKeeper's default for that setting. As with
     * {@link #presentWrongNameCertificate(boolean)}, no restart is needed.
     *
     * @param protocols the protocols, such as {@code TLSv1.3}; empty for the default
     * @param cipherSuites the cipher suites' standard names; empty for the default
     */
    public void acceptOnly(List<String> protocols, List<String> cipherSuites) {
        setOrClear("zookeeper.ssl.enabledProtocols", protocols);
        setOrClear("zookeeper.ssl.ciphersuites", cipherSuites);
    }

    private static void setOrClear(String key, List<String> values) {
        if (values.isEmpty()) {
            System.clearProperty(key);
        } else {
            set(key, String.join(",", values));
        }
    }

    @Override
    public void close() {
        try {
            if (server != null) {
                server.close();
            }
        } finally {
            jaas.disable();
            ProviderRegistry.removeProvider("x509");
            ProviderRegistry.removeProvider("sasl");
            for (Map.Entry<String, String> e : savedProperties.entrySet()) {
                if (e.getValue() == null) {
                    System.clearProperty(e.getKey());
                } else {
                    System.setProperty(e.getKey(), e.getValue());
                }
            }
            FourLetterCommands.resetWhiteList();
            deleteRecursively(baseDir);
        }
    }

    private static void deleteRecursively(Path dir) {
        try (var paths = Files.walk(dir)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // a temp directory; best effort
        }
    }

    @Override
    public String toString() {
        return "SecureServer{plain=" + plain + ", secure=" + secure + "}";
    }

    /** The server's {@code Server} JAAS section over whatever configuration was installed before. */
    private static final class ServerJaas extends Configuration {
        private final Configuration fallback;
        private final AppConfigurationEntry[] server;
        private volatile boolean enabled = true;

        ServerJaas(Configuration fallback, Map<String, String> users) {
            this.fallback = fallback;
            Map<String, String> options = new LinkedHashMap<>();
            users.forEach((user, password) -> options.put("user_" + user, password));
            this.server = new AppConfigurationEntry[] {
                new AppConfigurationEntry(
                        "org.apache.zookeeper.server.auth.DigestLoginModule",
                        AppConfigurationEntry.LoginModuleControlFlag.REQUIRED,
                        options)
            };
        }

        void disable() {
            enabled = false;
        }

        @Override
        public AppConfigurationEntry[] getAppConfigurationEntry(String name) {
            if (enabled && "Server".equals(name)) {
                return server.clone();
            }
            return fallback == null ? null : fallback.getAppConfigurationEntry(name);
        }
    }
}
