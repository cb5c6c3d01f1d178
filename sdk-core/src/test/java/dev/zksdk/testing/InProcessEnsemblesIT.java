package dev.zksdk.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.apache.curator.test.InstanceSpec;
import org.apache.curator.test.TestingCluster;
import org.apache.curator.test.TestingServer;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.ZooDefs.Ids;
import org.junit.jupiter.api.Test;

class InProcessEnsemblesIT {

    @Test
    void serverAppliesTheOptionsAndAnswersEveryFourLetterWord() throws Exception {
        InProcessEnsembles.Options options = InProcessEnsembles.options()
                .tickTime(Duration.ofMillis(250))
                .minSessionTimeout(Duration.ofMillis(500))
                .maxSessionTimeout(Duration.ofSeconds(3))
                .maxClientCnxns(5)
                .build();
        try (TestingServer server = InProcessEnsembles.startServer(options)) {
            assertThat(server.getConnectString()).startsWith("127.0.0.1:");
            String conf = FourLetterWords.send(server.getConnectString(), "conf");
            assertThat(conf)
                    .contains("tickTime=250", "minSessionTimeout=500", "maxSessionTimeout=3000", "maxClientCnxns=5");
            for (String command : new String[] {"ruok", "mntr", "cons", "wchs", "stat", "envi"}) {
                assertThat(FourLetterWords.send(server.getConnectString(), command))
                        .as(command)
                        .doesNotContain("not in the whitelist")
                        .isNotBlank();
            }
            // The server clamps a requested 10 s session timeout to its maximum.
            try (RawZooKeeper client = RawZooKeeper.connect(server.getConnectString(), Duration.ofSeconds(10))) {
                assertThat(client.zk().getSessionTimeout()).isEqualTo(3000);
            }
        }
    }

    @Test
    void clusterElectsOneLeaderAndAcceptsWrites() throws Exception {
        try (TestingCluster cluster = InProcessEnsembles.startCluster(3)) {
            assertThat(cluster.getInstances())
                    .extracting(InstanceSpec::getHostname)
                    .containsOnly("127.0.0.1");
            long leaders = cluster.getInstances().stream()
                    .map(spec -> FourLetterWords.send("127.0.0.1:" + spec.getPort(), "srvr"))
                    .filter(srvr -> srvr.contains("Mode: leader"))
                    .count();
            assertThat(leaders).isEqualTo(1);
            try (RawZooKeeper client = RawZooKeeper.connect(cluster.getConnectString(), Duration.ofSeconds(4))) {
                client.zk().create("/in-process", new byte[0], Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
                assertThat(client.zk().getSessionTimeout()).isEqualTo(4000);
            }
        }
    }
}
