package dev.zksdk.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.data.Stat;
import org.junit.jupiter.api.Test;

/** The benchmark fixture without JMH: the server starts, the workload is there, and connections are counted. */
class BenchServerIT {

  @Test
  void separateProcessServerServesTheWorkloadAndCountsWhatClientsDo() throws Exception {
    ConnectCounter.install();
    try (BenchServer server = BenchServer.start(BenchServer.PROCESS)) {
      assertThat(server.version()).startsWith(BenchServer.classPathVersion().substring(0, 5));
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
      assertThat(ServerCounters.connectionsRejected(server.servers())).isZero();
    }
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
