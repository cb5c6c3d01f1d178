package dev.zksdk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.zksdk.testing.InProcessEnsembles;
import java.util.Arrays;
import java.util.List;
import org.apache.curator.test.TestingServer;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.Op;
import org.apache.zookeeper.ZooDefs;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Bad arguments fail before anything is sent, naming the argument and the value; the server is left untouched. */
class BadInputIT {

    static TestingServer server;
    static ZkSessionPool pool;
    static ZkLease lease;

    @BeforeAll
    static void start() {
        server = InProcessEnsembles.startServer();
        pool = ZkSessionPool.builder().connectString(server.getConnectString()).build();
        lease = pool.lease();
    }

    @AfterAll
    static void stop() throws Exception {
        lease.close();
        pool.close();
        server.close();
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "",
                "relative",
                "/trailing/",
                "/double//slash",
                "/dot/./x",
                "/dotdot/../x",
                "/.",
                "/nul\u0000char",
                "/bad\u0001control",
                "/bad\ud800surrogate"
            })
    void invalidPathsAreRejectedByEveryOperation(String path) {
        byte[] data = new byte[0];
        List<Runnable> calls = List.of(
                () -> lease.getData(path),
                () -> lease.exists(path),
                () -> lease.getChildren(path),
                () -> lease.create(path, data, CreateMode.PERSISTENT),
                () -> lease.setData(path, data, -1),
                () -> lease.delete(path, -1),
                () -> lease.sync(path),
                () -> lease.getDataAsync(path),
                () -> lease.ephemeral(path, data),
                () -> lease.watch(path, e -> {}),
                () -> lease.watchTree(path, e -> {}),
                () -> lease.multi(List.of(Op.delete(path, -1))));
        for (Runnable call : calls) {
            assertThatThrownBy(call::run)
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("'" + path + "'")
                    .hasMessageContaining("is not a valid ZooKeeper path");
        }
    }

    @Test
    void sequentialCreateMayEndInSlashButPlainMayNot() throws Exception {
        lease.create("/q", new byte[0], CreateMode.PERSISTENT);
        String made = lease.create("/q/", new byte[0], CreateMode.PERSISTENT_SEQUENTIAL);
        assertThat(made).startsWith("/q/");
        assertThatThrownBy(() -> lease.create("/q/", new byte[0], CreateMode.PERSISTENT))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void dataOverTheClientLimitIsRefusedBeforeSending() {
        byte[] tooBig = new byte[1_048_576];
        byte[] justRight = new byte[1_000_000];
        assertThatThrownBy(() -> lease.create("/big", tooBig, CreateMode.PERSISTENT))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("data is 1048576 bytes")
                .hasMessageContaining("jute.maxbuffer limit of 1048575 bytes");
        assertThatThrownBy(() -> lease.setData("/", tooBig, -1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> lease.ephemeral("/big-e", tooBig)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> lease.multi(
                        List.of(Op.create("/big-m", tooBig, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT))))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("ops[0] data");
        assertThat(lease.exists("/big")).isNull();
        // Just under the limit still works, so the check is not stricter than the server.
        lease.create("/fits", justRight, CreateMode.PERSISTENT);
        assertThat(lease.getData("/fits")).hasSize(1_000_000);
    }

    @Test
    void nullArgumentsAreRejectedNamingTheArgument() {
        assertThatThrownBy(() -> lease.getData(null))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("path must not be null");
        assertThatThrownBy(() -> lease.create("/n", null, CreateMode.PERSISTENT))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("data must not be null");
        assertThatThrownBy(() -> lease.create("/n", new byte[0], null))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("mode must not be null");
        assertThatThrownBy(() -> lease.watch("/n", null))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("listener must not be null");
        assertThatThrownBy(() -> lease.multi(null))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("ops must not be null");
        assertThatThrownBy(() -> lease.multi(Arrays.asList(Op.check("/", -1), null)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("ops[1] must not be null");
        assertThatThrownBy(() -> pool.lease(null))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("ensemble must not be null");
        assertThat(lease.exists("/n")).isNull();
    }

    @Test
    void badVersionsAndModesAreRejected() {
        assertThatThrownBy(() -> lease.setData("/", new byte[0], -2))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("version must be -1 (any) or a node version >= 0, was -2");
        assertThatThrownBy(() -> lease.delete("/x", -5))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("was -5");
        assertThatThrownBy(() -> lease.ephemeral("/e", new byte[0], CreateMode.PERSISTENT))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("mode must be EPHEMERAL or EPHEMERAL_SEQUENTIAL, was PERSISTENT");
        assertThatThrownBy(() -> lease.multi(List.of()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("ops must not be empty");
    }
}
