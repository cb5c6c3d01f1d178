package dev.zksdk.internal.session;

import static org.assertj.core.api.Assertions.assertThat;

import dev.zksdk.EnsembleConfig;
import dev.zksdk.internal.Limits;
import dev.zksdk.security.SaslConfig;
import dev.zksdk.testing.LogCapture;
import java.util.HashMap;
import java.util.Map;
import javax.security.auth.login.AppConfigurationEntry;
import javax.security.auth.login.Configuration;
import org.apache.zookeeper.client.ZKClientConfig;
import org.apache.zookeeper.common.X509Util;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A session's ZooKeeper client config comes from its ensemble config alone: JVM-wide security system properties
 * neither reach it nor make ZooKeeper log them; SASL sections are served per config without a JAAS file.
 */
class SessionClientConfigTest {

    private static final String[] JVM_WIDE = {
        "zookeeper.client.secure", "zookeeper.ssl.keyStore.location", "zookeeper.ssl.keyStore.password",
        "zookeeper.ssl.trustStore.location", "zookeeper.sasl.clientconfig", "zookeeper.sasl.client",
        "zookeeper.fips-mode",
    };
    private final Map<String, String> saved = new HashMap<>();

    private void setJvmWide(String key, String value) {
        saved.putIfAbsent(key, System.getProperty(key));
        System.setProperty(key, value);
    }

    @AfterEach
    void restore() {
        saved.forEach((k, v) -> {
            if (v == null) {
                System.clearProperty(k);
            } else {
                System.setProperty(k, v);
            }
        });
    }

    @Test
    void jvmWideSecurityPropertiesNeverReachASessionNorItsLogs() {
        setJvmWide("zookeeper.client.secure", "true");
        setJvmWide("zookeeper.ssl.keyStore.location", "/elsewhere/server.p12");
        setJvmWide("zookeeper.ssl.keyStore.password", "jvm-wide-pw-Ue72");
        setJvmWide("zookeeper.ssl.trustStore.location", "/elsewhere/trust.p12");
        setJvmWide("zookeeper.sasl.clientconfig", "Client");
        setJvmWide("zookeeper.sasl.client", "true");
        setJvmWide("jute.maxbuffer", "2097152");
        try (LogCapture logs = LogCapture.atDebug()) {
            ZKClientConfig plain = SessionClientConfig.forEnsemble(EnsembleConfig.of("127.0.0.1:2181"), null);
            assertThat(plain.getBoolean(ZKClientConfig.SECURE_CLIENT)).isFalse();
            for (String key : JVM_WIDE) {
                if (!key.equals("zookeeper.sasl.client")) {
                    assertThat(plain.getProperty(key)).as(key).isNull();
                }
            }
            assertThat(plain.isSaslClientEnabled()).isFalse();
            // Non-security settings still apply: the socket reads up to 16 times jute.maxbuffer (an oversized answer
            // then
            // fails its own call instead of dropping the connection).
            assertThat(plain.getProperty("jute.maxbuffer"))
                    .as("non-security settings still apply")
                    .isEqualTo(Integer.toString(2097152 * Limits.RECEIVE_FACTOR));
            assertThat(plain.toString()).isEqualTo("SessionClientConfig{plaintext}");
            assertThat(plain.getProperty(ZKClientConfig.ZOOKEEPER_CLIENT_CNXN_SOCKET))
                    .isEqualTo("org.apache.zookeeper.PromptClientCnxnSocketNIO");

            SaslConfig sasl = SaslConfig.digest("alice", "sasl-pw-Rt61");
            ZKClientConfig withSasl = SessionClientConfig.forEnsemble(
                    EnsembleConfig.builder()
                            .connectString("127.0.0.1:2181")
                            .sasl(sasl)
                            .build(),
                    "zksdk-sasl-x");
            assertThat(withSasl.isSaslClientEnabled()).isTrue();
            assertThat(withSasl.getProperty(ZKClientConfig.LOGIN_CONTEXT_NAME_KEY))
                    .isEqualTo("zksdk-sasl-x");
            assertThat(withSasl.getProperty(X509Util.FIPS_MODE_PROPERTY)).isEqualTo("false");
            assertThat(withSasl.getProperty(ZKClientConfig.ZOOKEEPER_CLIENT_CNXN_SOCKET))
                    .as("SASL alone: NIO, without its pause after a closed connection")
                    .isEqualTo("org.apache.zookeeper.PromptClientCnxnSocketNIO");
            ZKClientConfig withSaslAndDigest = SessionClientConfig.forEnsemble(
                    EnsembleConfig.builder()
                            .connectString("127.0.0.1:2181")
                            .sasl(sasl)
                            .digest("carol", "digest-pw-Lm28")
                            .build(),
                    "zksdk-sasl-x");
            assertThat(withSaslAndDigest.getProperty(ZKClientConfig.ZOOKEEPER_CLIENT_CNXN_SOCKET))
                    .as("NIO would log the held-back addauth packet at DEBUG")
                    .isEqualTo("org.apache.zookeeper.ClientCnxnSocketNetty");
            assertThat(logs.text())
                    .doesNotContain("jvm-wide-pw-Ue72")
                    .doesNotContain("sasl-pw-Rt61")
                    .doesNotContain("digest-pw-Lm28");
        } finally {
            System.clearProperty("jute.maxbuffer");
        }
    }

    @Test
    void aClientSocketTheApplicationNamedIsKept() {
        setJvmWide(ZKClientConfig.ZOOKEEPER_CLIENT_CNXN_SOCKET, "org.apache.zookeeper.ClientCnxnSocketNIO");
        ZKClientConfig c = SessionClientConfig.forEnsemble(
                EnsembleConfig.builder().connectString("127.0.0.1:2181").build(), null);
        assertThat(c.getProperty(ZKClientConfig.ZOOKEEPER_CLIENT_CNXN_SOCKET))
                .isEqualTo("org.apache.zookeeper.ClientCnxnSocketNIO");
    }

    @Test
    void saslSectionsAreServedPerConfigOverTheJvmsOwn() {
        Configuration before = Configuration.getConfiguration();
        AppConfigurationEntry[] other = {
            new AppConfigurationEntry(
                    "some.OtherModule", AppConfigurationEntry.LoginModuleControlFlag.REQUIRED, Map.of())
        };
        Configuration.setConfiguration(new Configuration() {
            @Override
            public AppConfigurationEntry[] getAppConfigurationEntry(String name) {
                return name.equals("Other") ? other : null;
            }
        });
        SaslConfig alice = SaslConfig.digest("alice", "pw-a-123456");
        SaslConfig aliceAgain = SaslConfig.digest("alice", "pw-a-123456");
        SaslConfig bob = SaslConfig.digest("bob", "pw-b-123456");
        String a = JaasSections.acquire(alice);
        String a2 = JaasSections.acquire(aliceAgain);
        String b = JaasSections.acquire(bob);
        try {
            assertThat(a).isEqualTo(a2).startsWith("zksdk-sasl-").isNotEqualTo(b);
            AppConfigurationEntry[] entry = Configuration.getConfiguration().getAppConfigurationEntry(a);
            assertThat(entry).hasSize(1);
            assertThat(entry[0].getLoginModuleName()).isEqualTo(SaslConfig.DIGEST_LOGIN_MODULE);
            assertThat(entry[0].getOptions().get("username")).isEqualTo("alice");
            assertThat(Configuration.getConfiguration()
                            .getAppConfigurationEntry(b)[0]
                            .getOptions()
                            .get("username"))
                    .isEqualTo("bob");
            assertThat(Configuration.getConfiguration().toString()).doesNotContain("pw-a-123456");
            assertThat(JaasSections.acquire(SaslConfig.jaasSection("Client"))).isEqualTo("Client");
            assertThat(Configuration.getConfiguration().getAppConfigurationEntry("Other"))
                    .as("the JVM's own sections still answer")
                    .containsExactly(other);
        } finally {
            JaasSections.release(alice);
            JaasSections.release(bob);
        }
        assertThat(Configuration.getConfiguration().getAppConfigurationEntry(a))
                .as("still used once")
                .isNotNull();
        JaasSections.release(aliceAgain);
        assertThat(Configuration.getConfiguration().getAppConfigurationEntry(a)).isNull();
        assertThat(Configuration.getConfiguration().getAppConfigurationEntry(b)).isNull();
        Configuration.setConfiguration(before);
    }
}
