package dev.zksdk.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.zksdk.ZkLease;
import dev.zksdk.ZkSessionPool;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryNTimes;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.data.Stat;
import org.junit.jupiter.api.Test;

/** The benchmark fixture without JMH: the server starts, the workload is there, and connections are counted. */
class BenchServerIT {

    @Test
    void separateProcessServerServesTheWorkloadAndCountsWhatClientsDo() throws Exception {
        ConnectCounter.install();
        try (BenchServer server = BenchServer.start(BenchServer.PROCESS)) {
            assertThat(server.version())
                    .startsWith(BenchServer.classPathVersion().substring(0, 5));
            Workload.prepare(server.connectString());

            long before = ConnectCounter.total();
            ZooKeeper zk = Workload.connect(server.connectString());
            try {
                Stat stat = new Stat();
                assertThat(zk.getData(Workload.DATA, false, stat)).isEqualTo(Workload.payload());
                assertThat(stat.getDataLength()).isEqualTo(Workload.DATA_BYTES);
                assertThat(zk.exists(Workload.WRITE, false)).isNotNull();
                assertThat(zk.exists(Workload.RECOVERY, false)).isNotNull();
            } finally {
                zk.close();
            }
            assertThat(ConnectCounter.total() - before).isEqualTo(1);

            // Curator and the SDK's pool connect through the same ZooKeeper code: one connection each, in their owner's
            // count.
            assertThat(connections(() -> {
                        try (CuratorFramework curator =
                                CuratorFrameworkFactory.newClient(server.connectString(), new RetryNTimes(3, 100))) {
                            curator.start();
                            assertThat(curator.blockUntilConnected(10, TimeUnit.SECONDS))
                                    .isTrue();
                            assertThat(curator.getData().forPath(Workload.DATA)).isEqualTo(Workload.payload());
                        }
                    }))
                    .isEqualTo(1);
            assertThat(connections(() -> {
                        try (ZkSessionPool pool = ZkSessionPool.builder()
                                        .connectString(server.connectString())
                                        .sessionsPerEnsemble(1)
                                        .name("count")
                                        .build();
                                ZkLease lease = pool.lease()) {
                            assertThat(lease.getData(Workload.DATA)).isEqualTo(Workload.payload());
                        }
                    }))
                    .isEqualTo(1);
            assertThat(ServerCounters.connectionsRejected(server.servers())).isZero();
        }
    }

    interface ClientWork {
        void run() throws Exception;
    }

    /** The connections the clients {@code work} creates open, counted by owner; the JVM's total must agree. */
    private static long connections(ClientWork work) throws Exception {
        AtomicLong own = new AtomicLong();
        long before = ConnectCounter.total();
        ConnectCounter.setOwner(own);
        try {
            work.run();
        } finally {
            ConnectCounter.clearOwner();
        }
        assertThat(ConnectCounter.total() - before).isEqualTo(own.get());
        return own.get();
    }

    @Test
    void embeddedServerAndAnExternalSpecPointingAtItWork() {
        try (BenchServer embedded = BenchServer.start(BenchServer.EMBEDDED);
                BenchServer external = BenchServer.start(BenchServer.EXTERNAL_PREFIX + embedded.connectString())) {
            Workload.prepare(external.connectString());
            assertThat(external.servers()).containsExactly(embedded.connectString());
            assertThat(external.version()).isEqualTo(embedded.version());
        }
    }

    @Test
    void badSpecsAreRefusedByName() {
        assertThatThrownBy(() -> BenchServer.start("cluster"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("was 'cluster'");
        assertThatThrownBy(() -> BenchServer.start("external:127.0.0.1:2181/chroot"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("chroot");
    }
}
