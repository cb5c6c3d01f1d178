package dev.zksdk;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.zksdk.testing.InProcessEnsembles;
import dev.zksdk.testing.RawZooKeeper;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.test.TestingServer;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.ZooDefs.Ids;
import org.apache.zookeeper.data.Stat;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The README's usage block, run against a real server: {@link #usage} holds a copy of it between the markers, which
 * {@code ReadmeUsageTest} compares with the README (so the README shows code that compiles and runs), and the tests
 * here check that it does what its comments say. Also {@link ZkLease#getNode}: a read-modify-write with its version
 * never overwrites a write made in between.
 */
class ReadmeUsageIT {

    static final Duration WAIT = Duration.ofSeconds(15);

    /** What the README's block registers as the ephemeral's data. */
    static final byte[] address = "10.0.0.7:8080".getBytes(UTF_8);

    TestingServer server;
    RawZooKeeper observer;

    @BeforeEach
    void start() throws Exception {
        server = InProcessEnsembles.startServer();
        observer = RawZooKeeper.connect(server.getConnectString(), WAIT);
        for (String p : new String[] {"/app", "/app/config", "/app/config/x"}) {
            observer.zk().create(p, "1".getBytes(UTF_8), Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        }
    }

    @AfterEach
    void stop() throws Exception {
        observer.close();
        server.close();
    }

    /** What the README's block writes: the next value of a counter kept as text. */
    static byte[] next(byte[] data) {
        return Integer.toString(Integer.parseInt(new String(data, UTF_8)) + 1).getBytes(UTF_8);
    }

    /** The README's block; {@code connect} is its first line's variable. */
    @SuppressWarnings("unused")
    static void usage(String connect) throws Exception {
        // spotless:off
        // readme:start
        ZkSessionPool pool = ZkSessionPool.builder()
            .connectString(connect)
            .sessionTimeout(Duration.ofSeconds(30))
            .sessionsPerEnsemble(2)
            .build();                                           // validates; opens nothing yet

        EphemeralNode me;
        WatchHandle watch;
        try (ZkLease lease = pool.lease()) {                    // free: no network, no new connection
          NodeData config = lease.getNode("/config/x");         // the data and its version, in one read
          lease.setData("/config/x", next(config.data()), config.version()); // ZkBadVersionException if written since
          CuratorFramework curator = lease.curator();           // every Curator recipe works; close() is refused
          me = lease.ephemeral("/services/api/host-1", address); // re-created after expiry until closed
          watch = lease.watch("/config", event -> System.out.println(event)); // persistent; RESYNC after a new session
        }                                                       // the pool keeps `me` and `watch` until they are closed
        watch.close();
        me.close();                                             // the node is deleted now
        pool.close();                                           // sessions closed: every ephemeral goes at once
        // readme:end
        // spotless:on
    }

    @Test
    void theReadmesUsageRunsAndDoesWhatItsCommentsSay() throws Exception {
        usage(server.getConnectString() + "/app");

        Stat stat = new Stat();
        assertThat(new String(observer.zk().getData("/app/config/x", false, stat), UTF_8))
                .isEqualTo("2");
        assertThat(stat.getVersion()).as("one versioned write").isEqualTo(1);
        assertThat(observer.zk().exists("/app/services/api/host-1", false))
                .as("the closed ephemeral")
                .isNull();
        assertThat(observer.zk().getChildren("/app/services/api", false)).isEmpty();
    }

    @Test
    void aReadModifyWriteWithTheVersionOfGetNodeNeverOverwritesAWriteInBetween() throws Exception {
        try (ZkSessionPool pool = ZkSessionPool.builder()
                        .connectString(server.getConnectString() + "/app")
                        .build();
                ZkLease lease = pool.lease()) {
            NodeData read = lease.getNode("/config/x");
            assertThat(read.data()).isEqualTo("1".getBytes(UTF_8));
            assertThat(read.version()).isZero();
            assertThat(read.stat().getDataLength()).isEqualTo(1);

            // Another client writes in between.
            observer.zk().setData("/app/config/x", "9".getBytes(UTF_8), -1);
            assertThatThrownBy(() -> lease.setData("/config/x", next(read.data()), read.version()))
                    .isInstanceOf(ZkBadVersionException.class);
            assertThat(observer.zk().getData("/app/config/x", false, null))
                    .as("the other client's write stands")
                    .isEqualTo("9".getBytes(UTF_8));

            // Read again: the pair is consistent, and the write goes through.
            NodeData again = lease.getNodeAsync("/config/x").get(WAIT.toSeconds(), TimeUnit.SECONDS);
            assertThat(again.data()).isEqualTo("9".getBytes(UTF_8));
            assertThat(again.version()).isEqualTo(1);
            lease.setData("/config/x", next(again.data()), again.version());
            assertThat(observer.zk().getData("/app/config/x", false, null)).isEqualTo("10".getBytes(UTF_8));
        }
    }

    @Test
    void getNodeOfAMissingNodeFailsAsGetDataDoesAndNeverPrintsTheData() throws Exception {
        try (ZkSessionPool pool = ZkSessionPool.builder()
                        .connectString(server.getConnectString())
                        .build();
                ZkLease lease = pool.lease()) {
            assertThatThrownBy(() -> lease.getNode("/nothing")).isInstanceOf(ZkNoNodeException.class);
            assertThatThrownBy(() -> lease.getNodeAsync("/nothing").get(WAIT.toSeconds(), TimeUnit.SECONDS))
                    .isInstanceOf(ExecutionException.class)
                    .hasCauseInstanceOf(ZkNoNodeException.class);
            observer.zk().create("/secret", "hunter2".getBytes(UTF_8), Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            observer.zk().create("/empty", null, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            NodeData secret = lease.getNode("/secret");
            assertThat(secret.toString()).doesNotContain("hunter2").contains("7 bytes", "version 0");
            assertThat(lease.getNode("/empty").data()).isEmpty();
            assertThat(secret).isEqualTo(lease.getNode("/secret"));
        }
    }
}
