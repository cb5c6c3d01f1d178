package dev.zksdk.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.awaitility.Awaitility.await;

import dev.zksdk.EnsembleConfig;
import dev.zksdk.EphemeralNode;
import dev.zksdk.ZkAuthException;
import dev.zksdk.ZkException;
import dev.zksdk.ZkLease;
import dev.zksdk.ZkSessionPool;
import dev.zksdk.testing.FourLetterWords;
import dev.zksdk.testing.InProcessEnsembles;
import dev.zksdk.testing.LogCapture;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.curator.test.TestingServer;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException.Code;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.data.ACL;
import org.apache.zookeeper.data.ClientInfo;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Digest credentials and ACLs against a real server: identities stay apart in the pool, creator-only nodes are
 * readable only by their creator's identity, a wrong password is a clear NOAUTH that is not retried, and every
 * create the pool makes (leases, ephemerals and their parents, Curator recipes) carries the ensemble's ACL.
 */
class DigestAuthIT {

    private static final byte[] DATA = "v".getBytes(StandardCharsets.UTF_8);
    private static final String PASSWORD = "alice-pw-7Qz9";
    private static final String WRONG = "alice-wrong-3Kd2";

    static TestingServer server;

    @BeforeAll
    static void start() {
        server = InProcessEnsembles.startServer();
    }

    @AfterAll
    static void stop() throws Exception {
        server.close();
    }

    private static ZkSessionPool pool(String user, String password) {
        ZkSessionPool.Builder b = ZkSessionPool.builder()
                .connectString(server.getConnectString())
                .sessionTimeout(Duration.ofSeconds(30))
                .connectionTimeout(Duration.ofSeconds(10));
        if (user != null) {
            b.digest(user, password).aclProvider(ZkAcls.creatorAll());
        }
        return b.build();
    }

    @Test
    void creatorOnlyNodeIsReadableByTheSameIdentityAndNoAuthForAnyOther() {
        try (ZkSessionPool alice = pool("alice", PASSWORD);
                ZkSessionPool aliceAgain = pool("alice", PASSWORD);
                ZkSessionPool impostor = pool("alice", WRONG);
                ZkSessionPool anonymous = pool(null, null)) {
            try (ZkLease lease = alice.lease()) {
                lease.create("/creator-only", DATA, CreateMode.PERSISTENT);
                List<ACL> acl = getAcl(lease, "/creator-only");
                assertThat(acl).containsExactly(ZkAcls.digest("alice", PASSWORD, ZooDefs.Perms.ALL));
            }
            try (ZkLease lease = aliceAgain.lease()) {
                assertThat(lease.getData("/creator-only")).isEqualTo(DATA);
            }
            for (ZkSessionPool other : List.of(impostor, anonymous)) {
                try (ZkLease lease = other.lease()) {
                    Throwable t = catchThrowable(() -> lease.getData("/creator-only"));
                    assertThat(t)
                            .isInstanceOf(ZkAuthException.class)
                            .hasMessageContaining("getData /creator-only: NOAUTH")
                            .hasMessageContaining("does not grant READ")
                            .hasMessageNotContaining(PASSWORD)
                            .hasMessageNotContaining(WRONG);
                    assertThat(((ZkException) t).code()).isEqualTo(Code.NOAUTH);
                    assertThat(((ZkException) t).path()).isEqualTo("/creator-only");
                    assertThatThrownBy(() -> lease.setData("/creator-only", DATA, -1))
                            .isInstanceOf(ZkAuthException.class)
                            .hasMessageContaining("does not grant WRITE");
                }
            }
            try (ZkLease lease = anonymous.lease()) {
                assertThat(catchThrowable(() -> lease.getData("/creator-only")))
                        .hasMessageContaining("no credentials (anonymous");
            }
        }
    }

    @Test
    void leasesWithDifferentCredentialsNeverShareASession() throws Exception {
        EnsembleConfig base = EnsembleConfig.builder()
                .connectString(server.getConnectString())
                .sessionTimeout(Duration.ofSeconds(30))
                .build();
        EnsembleConfig asAlice = base.toBuilder().digest("alice", PASSWORD).build();
        EnsembleConfig asAliceAgain = base.toBuilder().digest("alice", PASSWORD).build();
        EnsembleConfig asBob = base.toBuilder().digest("bob", "bob-pw-Lk29").build();
        EnsembleConfig asWrongAlice = base.toBuilder().digest("alice", WRONG).build();
        try (ZkSessionPool pool = ZkSessionPool.builder()
                        .connectString(server.getConnectString())
                        .build();
                ZkLease alice = pool.lease(asAlice);
                ZkLease aliceAgain = pool.lease(asAliceAgain);
                ZkLease bob = pool.lease(asBob);
                ZkLease wrongAlice = pool.lease(asWrongAlice);
                ZkLease anonymous = pool.lease(base)) {
            assertThat(aliceAgain.sessionId()).isEqualTo(alice.sessionId());
            assertThat(List.of(alice.sessionId(), bob.sessionId(), wrongAlice.sessionId(), anonymous.sessionId()))
                    .doesNotHaveDuplicates();
            assertThat(pool.stats().openSessions()).isEqualTo(4);
            // The server's own view of each session's identity (it names digest users without their hash).
            assertThat(digestUsers(alice)).containsExactly("alice");
            assertThat(digestUsers(bob)).containsExactly("bob");
            assertThat(digestUsers(wrongAlice)).containsExactly("alice");
            assertThat(digestUsers(anonymous)).isEmpty();
        }
    }

    @Test
    void wrongPasswordIsOneNoAuthOnTheServerNeverARetry() {
        try (ZkSessionPool alice = pool("alice", PASSWORD);
                ZkLease lease = alice.lease()) {
            lease.create("/guarded", DATA, CreateMode.PERSISTENT);
        }
        try (ZkSessionPool impostor = pool("alice", WRONG);
                ZkLease lease = impostor.lease()) {
            long session = lease.sessionId();
            lease.exists("/"); // a request just now: no ping falls due for seconds (30 s session)
            long before = packetsReceived(session);
            Throwable t = catchThrowable(() -> lease.setData("/guarded", DATA, -1));
            long after = packetsReceived(session);
            assertThat(t)
                    .isInstanceOf(ZkAuthException.class)
                    .hasMessageContaining("setData /guarded: NOAUTH")
                    .hasMessageContaining("A wrong digest password is not refused at connect time")
                    .hasMessageContaining("Not retried");
            assertThat(after - before)
                    .as("requests the server received for the failed setData")
                    .isEqualTo(1);
        }
    }

    @Test
    void ephemeralsTheirParentsAndCuratorRecipesGetTheEnsemblesAcl() throws Exception {
        ACL aliceAll = ZkAcls.digest("alice", PASSWORD, ZooDefs.Perms.ALL);
        try (ZkSessionPool alice = pool("alice", PASSWORD);
                ZkLease lease = alice.lease()) {
            try (EphemeralNode node = lease.ephemeral("/acl-services/api/host-1", DATA)) {
                assertThat(getAcl(lease, "/acl-services/api/host-1")).containsExactly(aliceAll);
                assertThat(getAcl(lease, "/acl-services/api")).containsExactly(aliceAll);
                assertThat(getAcl(lease, "/acl-services")).containsExactly(aliceAll);
            }
            lease.curator().create().creatingParentsIfNeeded().forPath("/acl-recipe/child", DATA);
            assertThat(getAcl(lease, "/acl-recipe/child")).containsExactly(aliceAll);
            assertThat(getAcl(lease, "/acl-recipe")).containsExactly(aliceAll);
        }
    }

    @Test
    void anExplicitAclGrantsAnotherIdentityWhatItSays() {
        ACL bobReads = ZkAcls.digest("bob", "bob-pw-Lk29", ZooDefs.Perms.READ);
        ACL aliceAll = ZkAcls.digest("alice", PASSWORD, ZooDefs.Perms.ALL);
        try (ZkSessionPool alice = pool("alice", PASSWORD);
                ZkSessionPool bob = pool("bob", "bob-pw-Lk29");
                ZkLease aliceLease = alice.lease();
                ZkLease bobLease = bob.lease()) {
            aliceLease.create("/shared-with-bob", DATA, CreateMode.PERSISTENT, List.of(aliceAll, bobReads));
            assertThat(bobLease.getData("/shared-with-bob")).isEqualTo(DATA);
            assertThatThrownBy(() -> bobLease.setData("/shared-with-bob", DATA, -1))
                    .isInstanceOf(ZkAuthException.class);
            assertThatThrownBy(() -> aliceLease.create("/x", DATA, CreateMode.PERSISTENT, List.of()))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("acl must not be empty");
            assertThatThrownBy(
                            () -> aliceLease.create("/x", DATA, CreateMode.PERSISTENT, Arrays.asList(aliceAll, null)))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("acl[1] must not be null");
        }
    }

    @Test
    void creatorAclWithoutAnyIdentityIsRefusedBeforeAnythingIsSent() {
        assertThatThrownBy(() -> ZkSessionPool.builder()
                        .connectString(server.getConnectString())
                        .aclProvider(ZkAcls.creatorAll())
                        .build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(
                        "aclProvider creatorAll grants to the creating identity, but this ensemble has none");
    }

    @Test
    void aSchemeTheServerRefusesFailsEveryCallAtOnceAndIsSentOnce() {
        try (LogCapture logs = LogCapture.atDebug();
                ZkSessionPool pool = ZkSessionPool.builder()
                        .connectString(server.getConnectString())
                        .sessionTimeout(Duration.ofSeconds(2))
                        .connectionTimeout(Duration.ofSeconds(30))
                        .authorization("no-such-scheme", "token-8Hq2".getBytes(StandardCharsets.UTF_8))
                        .build()) {
            Throwable first = catchThrowable(() -> {
                try (ZkLease lease = pool.lease()) {
                    lease.getData("/");
                }
            });
            assertThat(first)
                    .isInstanceOf(ZkAuthException.class)
                    .hasMessageContaining("AUTHFAILED")
                    .hasMessageContaining("the server refused this session's credentials (no-such-scheme credentials)")
                    .hasMessageNotContaining("token-8Hq2");
            assertThat(((ZkException) first).code()).isEqualTo(Code.AUTHFAILED);
            // Later leases fail at once, without a new attempt on the server.
            for (int i = 0; i < 3; i++) {
                assertThatThrownBy(pool::lease).isInstanceOf(ZkAuthException.class);
            }
            // Longer than the session timeout: nothing reconnects and tries again.
            await().during(Duration.ofSeconds(3))
                    .atMost(Duration.ofSeconds(5))
                    .untilAsserted(() -> assertThat(logs.lines())
                            .filteredOn(l -> l.contains("No authentication provider for scheme: no-such-scheme"))
                            .hasSize(1));
        }
    }

    private static List<ACL> getAcl(ZkLease lease, String path) {
        try {
            return lease.curator().getACL().forPath(path);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    private static List<String> digestUsers(ZkLease lease) throws Exception {
        List<String> users = new ArrayList<>();
        for (ClientInfo info :
                lease.curator().getZookeeperClient().getZooKeeper().whoAmI()) {
            if (info.getAuthScheme().equals("digest")) {
                users.add(info.getUser());
            }
        }
        return users;
    }

    /** The server's count of requests received on the connection of {@code sessionId} ({@code cons}). */
    private static long packetsReceived(long sessionId) {
        String cons = FourLetterWords.send(server.getConnectString(), "cons");
        Matcher m = Pattern.compile("recved=(\\d+),sent=\\d+,sid=0x" + Long.toHexString(sessionId) + ",")
                .matcher(cons);
        assertThat(m.find())
                .as("connection of session 0x%s in %s", Long.toHexString(sessionId), cons)
                .isTrue();
        return Long.parseLong(m.group(1));
    }
}
