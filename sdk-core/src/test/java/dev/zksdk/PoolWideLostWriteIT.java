package dev.zksdk;

import static org.assertj.core.api.Assertions.assertThat;

import dev.zksdk.hosts.BudgetedZooKeeper;
import dev.zksdk.testing.InProcessEnsembles;
import dev.zksdk.testing.RawZooKeeper;
import dev.zksdk.testing.ZkProxy;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.curator.test.TestingServer;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.data.Stat;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A write lost with the connection, under a node the pool's other sessions just changed: the pool's own completed
 * writes bound when it was sent, so the server's state proves it was not applied even though its session has heard
 * nothing since, and it is sent again. The lost request provably never reaches the server: the proxy is frozen before
 * the send and the connections are cut while frozen, dropping what it held.
 */
class PoolWideLostWriteIT {

    TestingServer server;
    ZkProxy proxy;
    RawZooKeeper observer;
    ZkSessionPool pool;

    @BeforeEach
    void start() {
        server = InProcessEnsembles.startServer();
        proxy = ZkProxy.to(server.getConnectString());
        observer = RawZooKeeper.connect(server.getConnectString(), Duration.ofSeconds(30));
        pool = ZkSessionPool.builder()
                .connectString(proxy.connectString())
                .sessionsPerEnsemble(2)
                .sessionTimeout(Duration.ofSeconds(30))
                .connectionTimeout(Duration.ofSeconds(10))
                .operationPolicy(OperationPolicy.builder()
                        .operationTimeout(Duration.ofSeconds(30))
                        .breakerFailureRateThreshold(100f)
                        .build())
                .build();
    }

    @AfterEach
    void stop() throws Exception {
        proxy.unfreeze();
        pool.close();
        observer.close();
        proxy.close();
        server.close();
    }

    @Test
    void aSequentialCreateLostUnderAParentOtherSessionsChangedIsRetriedAndMadeOnce() throws Exception {
        ZkLease b = pool.lease();
        ZkLease a = pool.lease();
        assertThat(a.sessionId()).isNotEqualTo(b.sessionId());
        a.create("/p", new byte[0], CreateMode.PERSISTENT);
        for (int i = 0; i < 3; i++) {
            a.create("/p/a-", new byte[0], CreateMode.PERSISTENT_SEQUENTIAL);
        }
        long sessionB = b.sessionId();
        Stat parent = observer.zk().exists("/p", false);
        // The case at hand: B's session has not heard of A's writes, so its own zxid proves nothing about /p.
        assertThat(lastZxid(b)).isLessThan(parent.getPzxid());

        byte[] marker = "from-b".getBytes(StandardCharsets.UTF_8);
        proxy.freeze();
        CompletableFuture<String> created = b.createAsync("/p/n-", marker, CreateMode.PERSISTENT_SEQUENTIAL);
        proxy.closeAllConnections();
        proxy.unfreeze();

        String path = created.get(60, TimeUnit.SECONDS);
        assertThat(b.sessionId()).isEqualTo(sessionB);
        List<String> children = observer.zk().getChildren("/p", false);
        List<String> fromB = new ArrayList<>();
        for (String child : children) {
            if (Arrays.equals(observer.zk().getData("/p/" + child, false, null), marker)) {
                fromB.add("/p/" + child);
            }
        }
        // Made exactly once, where the call said, and nothing else changed under /p.
        assertThat(fromB).containsExactly(path);
        assertThat(children).hasSize(4);
    }

    @Test
    void aSetDataLostOnANodeOtherSessionsWroteIsRetriedAndAppliedOnce() throws Exception {
        ZkLease b = pool.lease();
        ZkLease a = pool.lease();
        assertThat(a.sessionId()).isNotEqualTo(b.sessionId());
        a.create("/q", new byte[0], CreateMode.PERSISTENT);
        for (int i = 0; i < 3; i++) {
            a.setData("/q", ("from-a-" + i).getBytes(StandardCharsets.UTF_8), -1);
        }
        long sessionB = b.sessionId();
        Stat before = observer.zk().exists("/q", false);
        assertThat(lastZxid(b)).isLessThan(before.getMzxid());

        byte[] marker = "from-b".getBytes(StandardCharsets.UTF_8);
        proxy.freeze();
        CompletableFuture<Stat> written = b.setDataAsync("/q", marker, -1);
        proxy.closeAllConnections();
        proxy.unfreeze();

        Stat stat = written.get(60, TimeUnit.SECONDS);
        assertThat(b.sessionId()).isEqualTo(sessionB);
        Stat after = new Stat();
        assertThat(observer.zk().getData("/q", false, after)).isEqualTo(marker);
        // Applied exactly once: one version more than before, and the one the call reported.
        assertThat(after.getVersion()).isEqualTo(before.getVersion() + 1);
        assertThat(stat.getVersion()).isEqualTo(after.getVersion());
    }

    private static long lastZxid(ZkLease lease) throws Exception {
        return ((BudgetedZooKeeper) lease.curator().getZookeeperClient().getZooKeeper()).lastZxid();
    }
}
