package dev.zksdk.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.awaitility.Awaitility.await;

import dev.zksdk.SessionEvent;
import dev.zksdk.SessionState;
import dev.zksdk.ZkAuthException;
import dev.zksdk.ZkException;
import dev.zksdk.ZkLease;
import dev.zksdk.ZkSessionPool;
import dev.zksdk.testing.LogCapture;
import dev.zksdk.testing.Recorder;
import dev.zksdk.testing.SecureServer;
import dev.zksdk.testing.ServerConnections;
import dev.zksdk.testing.TestPki;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import javax.security.auth.login.AppConfigurationEntry;
import javax.security.auth.login.Configuration;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException.Code;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.data.ACL;
import org.apache.zookeeper.data.ClientInfo;
import org.apache.zookeeper.data.Id;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * SASL (DIGEST-MD5) per ensemble against a real server: each pool authenticates as its own config says, whatever the
 * JVM's JAAS configuration holds; a refused password fails every lease at once with AUTHFAILED and reaches the server
 * exactly once.
 */
class SaslAuthIT {

    private static final String ALICE_PW = "alice-sasl-Xw81";
    private static final String BOB_PW = "bob-sasl-Pq47";
    private static final byte[] DATA = "v".getBytes(StandardCharsets.UTF_8);

    static SecureServer server;

    @BeforeAll
    static void start() {
        server = SecureServer.start(TestPki.shared(), Map.of("alice", ALICE_PW, "bob", BOB_PW));
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    private static ZkSessionPool.Builder pool(SaslConfig sasl) {
        return ZkSessionPool.builder()
                .connectString(server.plainConnectString())
                .sessionTimeout(Duration.ofSeconds(2))
                .connectionTimeout(Duration.ofSeconds(30))
                .sasl(sasl);
    }

    @Test
    void eachPoolAuthenticatesAsItsOwnConfigSays() throws Exception {
        try (ZkSessionPool alice = pool(SaslConfig.digest("alice", ALICE_PW))
                        .aclProvider(ZkAcls.creatorAll())
                        .build();
                ZkSessionPool bob = pool(SaslConfig.digest("bob", BOB_PW)).build();
                ZkLease aliceLease = alice.lease();
                ZkLease bobLease = bob.lease()) {
            assertThat(identities(aliceLease)).contains("sasl:alice").doesNotContain("sasl:bob");
            assertThat(identities(bobLease)).contains("sasl:bob").doesNotContain("sasl:alice");

            aliceLease.create("/sasl-alice-only", DATA, CreateMode.PERSISTENT);
            assertThat(aliceLease.curator().getACL().forPath("/sasl-alice-only"))
                    .containsExactly(new ACL(ZooDefs.Perms.ALL, new Id("sasl", "alice")));
            assertThat(aliceLease.getData("/sasl-alice-only")).isEqualTo(DATA);
            assertThatThrownBy(() -> bobLease.getData("/sasl-alice-only"))
                    .isInstanceOf(ZkAuthException.class)
                    .hasMessageContaining("NOAUTH")
                    .hasMessageContaining("SASL (DigestLoginModule)");
        }
    }

    @Test
    void aRefusedPasswordFailsEveryLeaseAtOnceAndReachesTheServerOnce() {
        refusedPasswordIsFinal(pool(SaslConfig.digest("alice", "not-alices-password-Zr5")));
    }

    /**
     * With digest credentials as well the session runs on the Netty socket, where the server's close can overtake its
     * refusal: ZooKeeper's client may then reconnect once before the pool sees the verdict and ends the handle (seen
     * in a full-suite run). One more attempt, never a storm.
     */
    @Test
    void aRefusedPasswordAlongsideDigestCredentialsIsTriedAtMostTwice() {
        refusedPasswordIsFinal(
                pool(SaslConfig.digest("alice", "not-alices-password-Zr5")).digest("carol", "carol-digest-Vb52"), 2);
    }

    private static void refusedPasswordIsFinal(ZkSessionPool.Builder builder) {
        refusedPasswordIsFinal(builder, 1);
    }

    private static void refusedPasswordIsFinal(ZkSessionPool.Builder builder, int maxAttempts) {
        Recorder events = new Recorder();
        try (LogCapture logs = LogCapture.atDebug();
                ZkSessionPool pool = builder.listener(events).build()) {
            // The connection timeout is 30 s: only an immediate verdict makes this an authentication error.
            Throwable first = catchThrowable(pool::lease);
            assertThat(first)
                    .isInstanceOf(ZkAuthException.class)
                    .hasMessageContaining("authentication to " + server.plainConnectString() + " failed (AUTHFAILED)")
                    .hasMessageContaining("the server refused this session's credentials (")
                    .hasMessageContaining("SASL (DigestLoginModule)")
                    .hasMessageContaining("does not try these credentials again")
                    .hasMessageNotContaining("not-alices-password-Zr5");
            assertThat(((ZkException) first).code()).isEqualTo(Code.AUTHFAILED);
            for (int i = 0; i < 3; i++) {
                assertThatThrownBy(pool::lease)
                        .isInstanceOf(ZkAuthException.class)
                        .hasMessage(first.getMessage());
            }
            assertThat(pool.stats().connectionsPerServer()).isEmpty();
            // Listeners are told on the pool's callback threads, so the LOST event may arrive just after the exception.
            await().atMost(Duration.ofSeconds(5))
                    .untilAsserted(() -> assertThat(events.sessionEvents())
                            .extracting(SessionEvent::state)
                            .containsOnlyOnce(SessionState.LOST));
            // Longer than the session timeout (2 s): nothing reconnects and tries the password again.
            await().during(Duration.ofSeconds(3))
                    .atMost(Duration.ofSeconds(5))
                    .untilAsserted(() -> assertThat(logs.lines())
                            .filteredOn(l -> l.contains("failed to SASL authenticate"))
                            .isNotEmpty()
                            .hasSizeLessThanOrEqualTo(maxAttempts));
        }
    }

    @Test
    void aLoginThatFailsOnThisSideNeverLeavesAnAnonymousSession() {
        int before = ServerConnections.connectionsFrom(server.plainConnectString(), "127.0.0.1");
        SaslConfig broken = SaslConfig.builder()
                .loginModule("com.example.NoSuchLoginModule")
                .option("password", "never-used-Qs81")
                .digestMd5(true)
                .build();
        try (ZkSessionPool pool = pool(broken).build()) {
            assertThatThrownBy(pool::lease)
                    .isInstanceOf(ZkAuthException.class)
                    .hasMessageContaining("the SASL login on this side failed before connecting")
                    .hasMessageNotContaining("never-used-Qs81");
            // ZooKeeper itself would carry on without an identity; the pool ends that connection.
            await().atMost(Duration.ofSeconds(10))
                    .untilAsserted(() -> assertThat(
                                    ServerConnections.connectionsFrom(server.plainConnectString(), "127.0.0.1"))
                            .isEqualTo(before));
            assertThatThrownBy(pool::lease).isInstanceOf(ZkAuthException.class);
        }
    }

    @Test
    void aJvmWideClientSectionGivesNoIdentityToAPoolThatDoesNotAskForSasl() throws Exception {
        ClientSection jvmWide = new ClientSection(Configuration.getConfiguration(), "alice", ALICE_PW);
        Configuration.setConfiguration(jvmWide);
        try (ZkSessionPool plain = ZkSessionPool.builder()
                        .connectString(server.plainConnectString())
                        .build();
                ZkSessionPool viaSection = pool(SaslConfig.builder()
                                .jaasSection("Client")
                                .digestMd5(true)
                                .build())
                        .build();
                ZkLease plainLease = plain.lease();
                ZkLease sectionLease = viaSection.lease()) {
            assertThat(identities(plainLease)).noneMatch(id -> id.startsWith("sasl:"));
            // Naming the section explicitly is how a pool uses the JVM's JAAS file.
            assertThat(identities(sectionLease)).contains("sasl:alice");
        } finally {
            jvmWide.disable();
        }
    }

    private static List<String> identities(ZkLease lease) throws Exception {
        return lease.curator().getZookeeperClient().getZooKeeper().whoAmI().stream()
                .map((ClientInfo c) -> c.getAuthScheme() + ":" + c.getUser())
                .collect(Collectors.toList());
    }

    /** A JVM-wide JAAS "Client" section, as a JAAS file would give every ZooKeeper client of the JVM. */
    private static final class ClientSection extends Configuration {
        private final Configuration fallback;
        private final AppConfigurationEntry[] client;
        private volatile boolean enabled = true;

        ClientSection(Configuration fallback, String user, String password) {
            this.fallback = fallback;
            this.client = new AppConfigurationEntry[] {
                new AppConfigurationEntry(
                        SaslConfig.DIGEST_LOGIN_MODULE,
                        AppConfigurationEntry.LoginModuleControlFlag.REQUIRED,
                        Map.of("username", user, "password", password))
            };
        }

        void disable() {
            enabled = false;
        }

        @Override
        public AppConfigurationEntry[] getAppConfigurationEntry(String name) {
            if (enabled && "Client".equals(name)) {
                return client.clone();
            }
            return fallback == null ? null : fallback.getAppConfigurationEntry(name);
        }
    }
}
