package dev.zksdk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.awaitility.Awaitility.await;

import dev.zksdk.testing.ForcedExpiry;
import dev.zksdk.testing.InProcessEnsembles;
import dev.zksdk.testing.RawZooKeeper;
import dev.zksdk.testing.Recorder;
import dev.zksdk.testing.ZkProxy;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.BooleanSupplier;
import org.apache.curator.test.TestingServer;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooDefs.Perms;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.data.ACL;
import org.apache.zookeeper.data.Stat;
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What an {@link EphemeralNode} promises about the node on the server: one live registration per path and pool, a
 * presence flag that never outlives the node, data written once the session is connected again, and re-creation
 * that keeps trying until it succeeds. The pool reaches the server through a proxy; the observer (and every fault
 * made on the server's side) goes to the server directly.
 */
class EphemeralOwnershipIT {

    static final Duration SESSION_TIMEOUT = Duration.ofSeconds(6);
    static final Duration CONNECTION_TIMEOUT = Duration.ofSeconds(5);
    /** Far more than a round trip to a local server; the SDK must have reacted within it. */
    static final Duration ROUND_TRIP_GRACE = Duration.ofMillis(500);

    static final byte[] OLD = bytes("old");
    static final byte[] NEW = bytes("new");

    TestingServer server;
    ZkProxy proxy;
    RawZooKeeper observer;
    Recorder recorder;
    ZkSessionPool pool;

    @BeforeEach
    void start() throws Exception {
        server = InProcessEnsembles.startServer();
        proxy = ZkProxy.to(server.getConnectString());
        observer = RawZooKeeper.connect(server.getConnectString(), Duration.ofSeconds(30));
        observer.zk().create("/reg", new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        recorder = new Recorder();
        pool = newPool(proxy.connectString(), 1);
    }

    private ZkSessionPool newPool(String connectString, int sessions) {
        return ZkSessionPool.builder()
                .name("ownership")
                .connectString(connectString)
                .sessionTimeout(SESSION_TIMEOUT)
                .connectionTimeout(CONNECTION_TIMEOUT)
                .sessionsPerEnsemble(sessions)
                .operationPolicy(OperationPolicy.builder()
                        .operationTimeout(Duration.ofSeconds(10))
                        .breakerFailureRateThreshold(100f)
                        .build())
                .listener(recorder)
                .build();
    }

    @AfterEach
    void stop() throws Exception {
        if (pool != null) {
            pool.close();
        }
        observer.close();
        proxy.close();
        server.close();
    }

    // ------------------------------------------------------------------------------------------ 1: one per path

    @Test
    void aSecondRegistrationOfARegisteredPathOnTheSameSessionFailsAndLeavesTheFirstIntact() throws Exception {
        try (ZkLease l1 = pool.lease();
                ZkLease l2 = pool.lease()) {
            assertThat(l2.sessionId()).isEqualTo(l1.sessionId());
            secondRegistrationFailsAndFirstStaysIntact(l1, l2, "/reg/a");
        }
    }

    @Test
    void aSecondRegistrationOfARegisteredPathOnAnotherSessionOfThePoolFailsAndLeavesTheFirstIntact() throws Exception {
        pool.close();
        pool = newPool(proxy.connectString(), 2);
        try (ZkLease l1 = pool.lease();
                ZkLease l2 = pool.lease()) {
            assertThat(l2.sessionId())
                    .as("the two leases are on the pool's two sessions")
                    .isNotEqualTo(l1.sessionId());
            secondRegistrationFailsAndFirstStaysIntact(l1, l2, "/reg/b");
        }
    }

    private void secondRegistrationFailsAndFirstStaysIntact(ZkLease l1, ZkLease l2, String path) throws Exception {
        EphemeralNode first = l1.ephemeral(path, OLD);

        Throwable second = catchThrowable(() -> l2.ephemeral(path, NEW));

        assertThat(second)
                .as("registering %s again on the same pool, while the first EphemeralNode is open", path)
                .isInstanceOf(ZkNodeExistsException.class)
                .hasMessageContaining(path);
        assertThat(second.getMessage())
                .as("the message says the path is already registered by this pool")
                .containsIgnoringCase("registered")
                .containsIgnoringCase("this pool");
        assertThat(((ZkNodeExistsException) second).path()).isEqualTo(path);
        assertThat(observer.zk().getData(path, false, null))
                .as("data of %s on the server", path)
                .isEqualTo(OLD);
        assertThat(observed(path).getEphemeralOwner()).isEqualTo(l1.sessionId());
        assertThat(first.isPresent()).isTrue();
        assertThat(first.data()).isEqualTo(OLD);

        first.close();
        assertThat(observed(path))
                .as("%s after the only registration was closed", path)
                .isNull();

        EphemeralNode again = l2.ephemeral(path, NEW);
        assertThat(observer.zk().getData(path, false, null)).isEqualTo(NEW);
        assertThat(observed(path).getEphemeralOwner()).isEqualTo(l2.sessionId());
        assertThat(again.isPresent()).isTrue();
        again.close();
        assertThat(observed(path)).isNull();
    }

    @Test
    void anEphemeralMadeByAPlainCreateIsNotAdoptedByARegistration() throws Exception {
        try (ZkLease lease = pool.lease()) {
            lease.create("/reg/plain", OLD, CreateMode.EPHEMERAL);

            Throwable registration = catchThrowable(() -> lease.ephemeral("/reg/plain", NEW));

            assertThat(registration)
                    .as("registering /reg/plain where this session made a plain ephemeral with create()")
                    .isInstanceOf(ZkNodeExistsException.class)
                    .hasMessageContaining("/reg/plain");
            assertThat(observer.zk().getData("/reg/plain", false, null)).isEqualTo(OLD);
            assertThat(observed("/reg/plain").getEphemeralOwner()).isEqualTo(lease.sessionId());
        }
    }

    // ------------------------------------------------------------------------------ 2: isPresent() never lies

    @Test
    void isPresentIsNeverTrueForANodeSomeoneElseDeleted() throws Exception {
        try (ZkLease lease = pool.lease()) {
            EphemeralNode node = lease.ephemeral("/reg/deleted", OLD);
            assertThat(node.isPresent()).isTrue();

            observer.zk().delete("/reg/deleted", -1);

            // After a round trip's grace, and from then on: present means "on the server, owned by the live session"
            // (re-created), or it must say it is not present.
            await().pollDelay(ROUND_TRIP_GRACE)
                    .pollInterval(Duration.ofMillis(50))
                    .during(Duration.ofSeconds(3))
                    .atMost(Duration.ofSeconds(5))
                    .untilAsserted(() -> {
                        if (node.isPresent()) {
                            Stat stat = observed("/reg/deleted");
                            assertThat(stat)
                                    .as("/reg/deleted on the server while isPresent() is true, after an external "
                                            + "delete")
                                    .isNotNull();
                            assertThat(stat.getEphemeralOwner())
                                    .as("owner of /reg/deleted while isPresent() is true")
                                    .isEqualTo(lease.sessionId());
                        }
                    });
        }
    }

    // ------------------------------------------------------------------------ 3: setData while disconnected

    @Test
    void setDataWhileDisconnectedReachesTheServerOnceReconnectedWithinTheSession() throws Exception {
        try (ZkLease lease = pool.lease()) {
            EphemeralNode node = lease.ephemeral("/reg/data", OLD);
            long session = lease.sessionId();
            recorder.clear();

            proxy.freeze();
            proxy.closeAllConnections();
            await().atMost(Duration.ofSeconds(5)).until(() -> recorder.saw(SessionState.SUSPENDED));

            CompletableFuture<Void> setData = CompletableFuture.runAsync(() -> node.setData(NEW));
            // It may block until reconnected; if it returns (or throws) at once, give it that chance first.
            awaitQuietly(Duration.ofSeconds(1), setData::isDone);
            proxy.unfreeze();

            await().atMost(Duration.ofSeconds(10))
                    .until(() -> recorder.saw(e -> e.state() == SessionState.RECONNECTED && e.sameSession()));
            assertThat(lease.sessionId())
                    .as("reconnected within the same session")
                    .isEqualTo(session);
            assertThat(node.data()).isEqualTo(NEW);
            // Whether setData blocked, returned or threw: the server must get the new data now that the session is
            // back.
            await().atMost(Duration.ofSeconds(5))
                    .untilAsserted(() -> assertThat(
                                    new String(observer.zk().getData("/reg/data", false, null), StandardCharsets.UTF_8))
                            .as(
                                    "data of /reg/data on the server after reconnecting within the session; setData(new) %s",
                                    describe(setData))
                            .isEqualTo("new"));
            assertThat(observed("/reg/data").getEphemeralOwner()).isEqualTo(session);
        }
    }

    // ---------------------------------------------------------------------- 4: failed re-creation is retried

    @Test
    void aReCreationRefusedByTheParentsAclIsRetriedUntilTheAclAllowsIt() throws Exception {
        observer.zk().create("/locked", new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        try (ZkLease lease = pool.lease()) {
            EphemeralNode node = lease.ephemeral("/locked/member", OLD);
            long oldSession = lease.sessionId();
            // Nobody may create under /locked any more (the observer may still change the ACL back).
            // (a mutable list: ZooKeeper asks it whether it contains null, which List.of answers with an NPE)
            observer.zk()
                    .setACL(
                            "/locked",
                            new ArrayList<>(List.of(new ACL(Perms.READ | Perms.ADMIN, ZooDefs.Ids.ANYONE_ID_UNSAFE))),
                            -1);

            expire(lease);
            await().atMost(Duration.ofSeconds(20)).until(() -> lease.sessionId() != oldSession);
            // Let the new session's recovery try (and fail with NOAUTH) before the ACL is fixed.
            awaitQuietly(Duration.ofSeconds(3), () -> !recorder.recoveries().isEmpty());
            assertThat(observed("/locked/member"))
                    .as("/locked/member while the ACL refuses it")
                    .isNull();
            assertThat(node.isPresent()).isFalse();
            // Surfaced: an event naming the path and NOAUTH, and the ensemble's status counting it missing.
            await().atMost(Duration.ofSeconds(5))
                    .until(() -> recorder.missingCause("/locked/member").isPresent());
            assertThat(recorder.missingCause("/locked/member").orElseThrow().code())
                    .isEqualTo(KeeperException.Code.NOAUTH);
            assertThat(pool.ensembles().get(0).missingEphemerals()).isEqualTo(1);

            observer.zk().setACL("/locked", ZooDefs.Ids.OPEN_ACL_UNSAFE, -1);

            awaitOwnedByLiveSession(lease, "/locked/member", "after the ACL of /locked allows creating again");
            assertThat(observer.zk().getData("/locked/member", false, null)).isEqualTo(OLD);
            assertThat(node.isPresent()).isTrue();
            await().atMost(Duration.ofSeconds(5))
                    .until(() -> recorder.restoredPaths().contains("/locked/member"));
            assertThat(pool.ensembles().get(0).missingEphemerals()).isZero();
        }
    }

    /**
     * NONODE on re-creation: the SDK re-creates missing parents itself, but never the chroot, so a chroot node deleted
     * while the session was down makes the create fail with NONODE until someone creates the chroot again.
     */
    @Test
    void aReCreationThatFindsNoChrootNodeIsRetriedUntilItExists() throws Exception {
        pool.close();
        observer.zk().create("/app", new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        pool = newPool(proxy.connectString() + "/app", 1);
        try (ZkLease lease = pool.lease()) {
            EphemeralNode node = lease.ephemeral("/member", OLD);
            long oldSession = lease.sessionId();
            assertThat(observed("/app/member").getEphemeralOwner()).isEqualTo(oldSession);

            // While the pool cannot reach the server: its session ends, and the chroot node goes with the ephemeral.
            proxy.freeze();
            ForcedExpiry.expireSession(server.getConnectString(), oldSession, password(lease));
            observer.zk().delete("/app", -1);
            proxy.unfreeze();

            await().atMost(Duration.ofSeconds(20)).until(() -> lease.sessionId() != oldSession);
            // The new session's recovery meets NONODE: the chroot is not the SDK's to create.
            awaitQuietly(Duration.ofSeconds(3), () -> !recorder.recoveries().isEmpty());
            assertThat(observed("/app")).isNull();
            assertThat(node.isPresent()).isFalse();

            observer.zk().create("/app", new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);

            awaitOwnedByLiveSession(lease, "/app/member", "after the chroot node /app exists again");
            assertThat(node.isPresent()).isTrue();
        }
    }

    /** An ordinary parent deleted while the session was down: re-created with the node (no NONODE reaches the SDK). */
    @Test
    void anEphemeralWhoseParentWasDeletedWhileTheSessionWasDownComesBack() throws Exception {
        observer.zk().create("/gone", new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        try (ZkLease lease = pool.lease()) {
            EphemeralNode node = lease.ephemeral("/gone/member", OLD);
            long oldSession = lease.sessionId();

            proxy.freeze();
            ForcedExpiry.expireSession(server.getConnectString(), oldSession, password(lease));
            observer.zk().delete("/gone", -1);
            proxy.unfreeze();

            await().atMost(Duration.ofSeconds(20)).until(() -> lease.sessionId() != oldSession);
            awaitOwnedByLiveSession(lease, "/gone/member", "after its parent was deleted while the session was down");
            assertThat(observer.zk().getData("/gone/member", false, null)).isEqualTo(OLD);
            assertThat(node.isPresent()).isTrue();
        }
    }

    // ------------------------------------------------------------------------------------------------ helpers

    private Stat observed(String path) throws Exception {
        return observer.zk().exists(path, false);
    }

    private void awaitOwnedByLiveSession(ZkLease lease, String path, String when) {
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
            Stat stat = observed(path);
            assertThat(stat).as("%s on the server %s", path, when).isNotNull();
            assertThat(stat.getEphemeralOwner()).as("owner of %s", path).isEqualTo(lease.sessionId());
        });
    }

    private void expire(ZkLease lease) throws Exception {
        ZooKeeper zk = lease.curator().getZookeeperClient().getZooKeeper();
        ForcedExpiry.expireSession(server.getConnectString(), zk.getSessionId(), zk.getSessionPasswd());
    }

    private static byte[] password(ZkLease lease) throws Exception {
        return lease.curator().getZookeeperClient().getZooKeeper().getSessionPasswd();
    }

    /** Waits up to {@code timeout} for {@code condition}; going on either way (the wait only gives the SDK time). */
    static void awaitQuietly(Duration timeout, BooleanSupplier condition) {
        try {
            await().atMost(timeout).pollInterval(Duration.ofMillis(20)).until(condition::getAsBoolean);
        } catch (ConditionTimeoutException e) {
            // going on either way
        }
    }

    private static String describe(CompletableFuture<Void> call) {
        if (!call.isDone()) {
            return "is still running";
        }
        if (call.isCompletedExceptionally()) {
            return "threw " + catchThrowable(call::join).getCause();
        }
        return "returned";
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
