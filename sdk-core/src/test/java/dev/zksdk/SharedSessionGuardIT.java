package dev.zksdk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.zksdk.testing.InProcessEnsembles;
import dev.zksdk.testing.RawZooKeeper;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.apache.curator.test.TestingServer;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.data.Stat;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.ThrowingConsumer;

/**
 * The session behind {@link ZkLease#curator()} belongs to the pool and to every other lease on it: no way of closing
 * it that a lease hands out may work. After each refused close the pool goes on with the same session, its ephemeral
 * still on the server.
 */
class SharedSessionGuardIT {

    static final byte[] DATA = "shared".getBytes(StandardCharsets.UTF_8);

    TestingServer server;
    RawZooKeeper observer;
    ZkSessionPool pool;

    @BeforeEach
    void start() {
        server = InProcessEnsembles.startServer();
        observer = RawZooKeeper.connect(server.getConnectString(), Duration.ofSeconds(30));
        pool = ZkSessionPool.builder()
                .name("guard")
                .connectString(server.getConnectString())
                .sessionTimeout(Duration.ofSeconds(4))
                .connectionTimeout(Duration.ofSeconds(3))
                .operationPolicy(OperationPolicy.builder()
                        .operationTimeout(Duration.ofSeconds(5))
                        .build())
                .build();
    }

    @AfterEach
    void stop() throws Exception {
        pool.close();
        observer.close();
        server.close();
    }

    @Test
    void closingTheCuratorFrameworkOfALeaseIsRefusedAndThePoolKeepsItsSession() throws Exception {
        closeIsRefusedAndThePoolKeepsItsSession(
                "curator().close()", lease -> lease.curator().close());
    }

    @Test
    void closingTheCuratorZookeeperClientOfALeaseIsRefusedAndThePoolKeepsItsSession() throws Exception {
        closeIsRefusedAndThePoolKeepsItsSession(
                "curator().getZookeeperClient().close()",
                lease -> lease.curator().getZookeeperClient().close());
    }

    @Test
    void closingTheZooKeeperHandleOfALeaseIsRefusedAndThePoolKeepsItsSession() throws Exception {
        closeIsRefusedAndThePoolKeepsItsSession(
                "curator().getZookeeperClient().getZooKeeper().close()",
                lease -> lease.curator().getZookeeperClient().getZooKeeper().close());
    }

    private void closeIsRefusedAndThePoolKeepsItsSession(String how, ThrowingConsumer<ZkLease> close) throws Exception {
        long session;
        try (ZkLease lease = pool.lease()) {
            lease.create("/guard", DATA, CreateMode.PERSISTENT);
            lease.ephemeral("/guard-member", DATA);
            session = lease.sessionId();

            Throwable refused = catchThrowable(() -> close.accept(lease));

            assertThat(refused)
                    .as("lease.%s on the pool's shared session", how)
                    .isInstanceOf(UnsupportedOperationException.class);
        }
        try (ZkLease other = pool.lease()) {
            assertThat(other.getData("/guard")).isEqualTo(DATA);
            assertThat(other.sessionId())
                    .as("the pool's session after lease.%s was refused", how)
                    .isEqualTo(session);
        }
        Stat member = observer.zk().exists("/guard-member", false);
        assertThat(member)
                .as("the pool's ephemeral after lease.%s was refused", how)
                .isNotNull();
        assertThat(member.getEphemeralOwner()).isEqualTo(session);
        assertThat(pool.stats().sessionsOpened()).isEqualTo(1);
    }
}
