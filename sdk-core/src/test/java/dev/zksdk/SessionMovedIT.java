package dev.zksdk;

import static org.assertj.core.api.Assertions.assertThat;

import dev.zksdk.testing.InProcessEnsembles;
import dev.zksdk.testing.RawZooKeeper;
import dev.zksdk.testing.Recorder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.curator.test.InstanceSpec;
import org.apache.curator.test.TestingCluster;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.Op;
import org.apache.zookeeper.Watcher.Event.KeeperState;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.data.Stat;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A session that moved to another server (another handle attached to it there) is not an expired session. The pool
 * talks to server A only; a second handle attaches to the pool's session through server B, which makes B the
 * session's owner, and then dies without closing the session. The pool's next write through A is refused by the
 * leader as SESSIONMOVED.
 *
 * <p>ZooKeeper 3.9's server does not answer such a request with the SESSIONMOVED code: its FinalRequestProcessor turns
 * a SessionMovedException into {@code cnxn.sendCloseSession()}, closing the connection (ZOOKEEPER-710), and the client
 * library never makes the code up itself. So the SDK sees a connection loss, reconnects to A within the same session
 * (which moves it back), and its retry decides the write's fate. What must never happen: an expiry reported to the
 * caller or to listeners, a new session, or the pool's ephemerals lost.
 */
class SessionMovedIT {

    static final Duration SESSION_TIMEOUT = Duration.ofSeconds(6);
    static final byte[] DATA = "data".getBytes(StandardCharsets.UTF_8);

    TestingCluster cluster;
    RawZooKeeper observer;
    Recorder recorder;
    ZkSessionPool pool;
    String serverA;
    String serverB;

    @BeforeEach
    void start() {
        cluster = InProcessEnsembles.startCluster(3);
        List<InstanceSpec> servers = List.copyOf(cluster.getInstances());
        serverA = servers.get(0).getConnectString();
        serverB = servers.get(1).getConnectString();
        observer = RawZooKeeper.connect(cluster.getConnectString(), Duration.ofSeconds(30));
        recorder = new Recorder();
        pool = ZkSessionPool.builder()
                .name("moved")
                .connectString(serverA)
                .followEnsembleChanges(false) // stay on A
                .sessionTimeout(SESSION_TIMEOUT)
                .connectionTimeout(Duration.ofSeconds(5))
                .operationPolicy(OperationPolicy.builder()
                        .operationTimeout(Duration.ofSeconds(10))
                        .breakerFailureRateThreshold(100f)
                        .build())
                .listener(recorder)
                .build();
    }

    @AfterEach
    void stop() throws Exception {
        pool.close();
        observer.close();
        cluster.close();
    }

    @Test
    void writesAfterTheSessionMovedToAnotherServerAreNotTreatedAsAnExpiry() throws Exception {
        try (ZkLease lease = pool.lease()) {
            lease.create("/moved", DATA, CreateMode.PERSISTENT);
            lease.ephemeral("/moved-member", DATA);
            ZooKeeper zk = lease.curator().getZookeeperClient().getZooKeeper();
            long session = zk.getSessionId();
            recorder.clear();

            moveTheSessionToBAndDropTheHandleThere(session, zk.getSessionPasswd());

            Map<String, Callable<?>> writes = new LinkedHashMap<>();
            writes.put("create PERSISTENT", () -> lease.create("/moved/p", DATA, CreateMode.PERSISTENT));
            writes.put("setData", () -> lease.setData("/moved", DATA, -1));
            writes.put("create EPHEMERAL", () -> lease.create("/moved/e", DATA, CreateMode.EPHEMERAL));
            writes.put("ephemeral()", () -> lease.ephemeral("/moved/registered", DATA));
            writes.put(
                    "multi with an ephemeral create",
                    () -> lease.multi(
                            List.of(Op.create("/moved/m", DATA, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.EPHEMERAL))));
            List<String> outcomes = new CopyOnWriteArrayList<>();
            for (Map.Entry<String, Callable<?>> write : writes.entrySet()) {
                try {
                    write.getValue().call();
                    outcomes.add(write.getKey() + ": ok");
                } catch (ZkConnectionLossException e) {
                    outcomes.add(write.getKey() + ": connection loss (allowed)");
                } catch (Exception e) {
                    outcomes.add(write.getKey() + ": " + e);
                }
            }

            assertThat(outcomes)
                    .as("writes through the pool after its session moved to another server")
                    .allMatch(o -> o.endsWith(": ok") || o.endsWith("(allowed)"));
            assertThat(recorder.saw(SessionState.SUSPENDED))
                    .as(
                            "server A dropped the pool's connection when the leader refused the moved session's write; events %s",
                            recorder.sessionEvents())
                    .isTrue();
            assertThat(lease.sessionId()).as("the pool's session id").isEqualTo(session);
            assertThat(recorder.sessionEvents())
                    .as("session events after the move")
                    .noneMatch(e -> e.state() == SessionState.LOST || e.newSession());
            assertThat(recorder.recoveries()).isEmpty();
            Stat member = observer.zk().exists("/moved-member", false);
            assertThat(member).as("the pool's ephemeral").isNotNull();
            assertThat(member.getEphemeralOwner()).isEqualTo(session);
        }
    }

    /**
     * Attaches a second handle to the session through B (the leader makes B its owner), then kills that handle without
     * a closeSession: ZooKeeper's test hook marks it closed and drops its socket, and the session lives on.
     */
    private void moveTheSessionToBAndDropTheHandleThere(long session, byte[] password) throws Exception {
        CountDownLatch connected = new CountDownLatch(1);
        ZooKeeper mover = new ZooKeeper(
                serverB,
                (int) SESSION_TIMEOUT.toMillis(),
                event -> {
                    if (event.getState() == KeeperState.SyncConnected) {
                        connected.countDown();
                    }
                },
                session,
                password);
        assertThat(connected.await(10, TimeUnit.SECONDS))
                .as("a second handle attached to the session via B")
                .isTrue();
        assertThat(mover.getSessionId()).isEqualTo(session);
        // A read through it: the attachment is complete on B.
        assertThat(mover.exists("/moved", false)).isNotNull();
        mover.getTestable().injectSessionExpiration();
    }
}
