package dev.zksdk.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.ZooDefs.Ids;
import org.junit.jupiter.api.Test;

class ProcessEnsembleIT {

    private static final Duration SESSION_TIMEOUT = Duration.ofSeconds(4);
    private static final Duration QUORUM_TIMEOUT = Duration.ofSeconds(30);

    @Test
    void threeMembersHaveExactlyOneLeaderAndAcceptWrites() throws Exception {
        try (ProcessEnsemble ensemble = ProcessEnsemble.builder().size(3).start();
                RawZooKeeper client = RawZooKeeper.connect(ensemble.connectString(), SESSION_TIMEOUT)) {
            List<String> modes = ensemble.servers().stream()
                    .map(s -> s.mode().orElse("none"))
                    .toList();
            assertThat(modes)
                    .containsOnlyOnce("leader")
                    .filteredOn("follower"::equals)
                    .hasSize(2);
            assertThat(ensemble.leader().mode()).contains("leader");
            assertThat(ensemble.servers())
                    .extracting(ServerProcess::pid)
                    .doesNotHaveDuplicates()
                    .doesNotContain(ProcessHandle.current().pid());

            client.zk()
                    .create(
                            "/written",
                            "v".getBytes(StandardCharsets.UTF_8),
                            Ids.OPEN_ACL_UNSAFE,
                            CreateMode.PERSISTENT);

            // Every member has the write, each asked directly.
            for (ServerProcess server : ensemble.servers()) {
                try (RawZooKeeper direct = RawZooKeeper.connect(ensemble.connectString(server.id()), SESSION_TIMEOUT)) {
                    await().atMost(Duration.ofSeconds(10))
                            .until(() -> direct.zk().exists("/written", false) != null);
                }
            }
        }
    }

    @Test
    void killingTheLeaderMakesTheOtherTwoElectANewLeader() throws Exception {
        try (ProcessEnsemble ensemble = ProcessEnsemble.builder().size(3).start()) {
            ServerProcess oldLeader = ensemble.leader();

            oldLeader.kill9();

            assertThat(oldLeader.isAlive()).isFalse();
            ensemble.awaitQuorum(QUORUM_TIMEOUT);
            ServerProcess newLeader = ensemble.leader();
            assertThat(newLeader.id()).isNotEqualTo(oldLeader.id());
            assertThat(ensemble.servers()).filteredOn(ServerProcess::isAlive).hasSize(2);
            try (RawZooKeeper client = RawZooKeeper.connect(ensemble.connectString(), SESSION_TIMEOUT)) {
                client.zk().create("/after-election", new byte[0], Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            }
        }
    }

    @Test
    void sigstoppedMemberIsSilentUntilSigcont() {
        try (ProcessEnsemble ensemble = ProcessEnsemble.builder().size(3).start()) {
            ServerProcess follower = ensemble.servers().stream()
                    .filter(s -> s.mode().orElse("").equals("follower"))
                    .findFirst()
                    .orElseThrow();

            follower.sigstop();

            assertThat(follower.isAlive()).isTrue();
            assertThat(follower.isSuspended()).isTrue();
            assertThatThrownBy(() -> follower.fourLetter("srvr", Duration.ofMillis(500)))
                    .isInstanceOf(UncheckedIOException.class);
            // The other two still form a quorum; awaitQuorum skips the suspended member.
            ensemble.awaitQuorum(QUORUM_TIMEOUT);

            follower.sigcont();

            assertThat(follower.isSuspended()).isFalse();
            follower.awaitServing(QUORUM_TIMEOUT);
            assertThat(follower.fourLetter("srvr")).contains("Mode: ");
            ensemble.awaitQuorum(QUORUM_TIMEOUT);
        }
    }

    @Test
    void restartedMemberServesAgainWithItsDataAndPorts() throws Exception {
        try (ProcessEnsemble ensemble = ProcessEnsemble.builder().size(3).start()) {
            ServerProcess member = ensemble.server(2);
            int port = member.clientPort();
            long firstPid = member.pid();
            try (RawZooKeeper client = RawZooKeeper.connect(ensemble.connectString(1, 3), SESSION_TIMEOUT)) {
                client.zk().create("/before-restart", new byte[0], Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            }

            member.kill9();
            assertThat(member.isServing()).isFalse();
            member.restart();
            member.awaitServing(QUORUM_TIMEOUT);

            assertThat(member.pid()).isNotEqualTo(firstPid);
            assertThat(member.clientPort()).isEqualTo(port);
            assertThat(member.logFile())
                    .content()
                    .contains("=== starting server 2")
                    .containsPattern("(?s)=== starting server 2.*=== starting server 2");
            ensemble.awaitQuorum(QUORUM_TIMEOUT);
            try (RawZooKeeper direct = RawZooKeeper.connect(ensemble.connectString(2), SESSION_TIMEOUT)) {
                assertThat(direct.zk().exists("/before-restart", false)).isNotNull();
            }
        }
    }

    @Test
    void memberWithDifferentServerListStartsAndEnsembleKeepsQuorum() throws Exception {
        try (ProcessEnsemble ensemble = ProcessEnsemble.builder()
                .size(3)
                .serverListOverride(3, List.of(1, 2, 3, 4))
                .start()) {
            String driftedConf = ensemble.server(3).fourLetter("conf");
            String normalConf = ensemble.server(1).fourLetter("conf");
            assertThat(driftedConf).contains("server.4=");
            assertThat(normalConf).doesNotContain("server.4=").contains("server.3=");

            assertThat(ensemble.servers())
                    .allSatisfy(s -> assertThat(s.isServing()).isTrue());
            assertThat(ensemble.leader()).isNotNull();
            try (RawZooKeeper client = RawZooKeeper.connect(ensemble.connectString(), SESSION_TIMEOUT)) {
                client.zk().create("/drift", new byte[0], Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            }
        }
    }

    @Test
    void singleMemberRunsStandaloneWithTheConfiguredLimits() {
        try (ProcessEnsemble ensemble = ProcessEnsemble.builder()
                .size(1)
                .maxClientCnxns(7)
                .minSessionTimeout(Duration.ofMillis(600))
                .maxSessionTimeout(Duration.ofSeconds(5))
                .clientPortListenBacklog(17)
                .fourLetterWordWhitelist("srvr", "conf")
                .start()) {
            ServerProcess server = ensemble.server(1);

            assertThat(ensemble.leader()).isSameAs(server);
            assertThat(server.mode()).contains("standalone");
            assertThat(server.fourLetter("conf"))
                    .contains(
                            "maxClientCnxns=7",
                            "minSessionTimeout=600",
                            "maxSessionTimeout=5000",
                            "clientPortListenBacklog=17",
                            "tickTime=200");
            // The whitelist is applied: ruok is refused, srvr and conf are answered.
            assertThat(server.fourLetter("ruok")).contains("not in the whitelist");
            assertThat(ensemble.connectString()).isEqualTo("127.0.0.1:" + server.clientPort());
        }
    }

    @Test
    void reconfigEnabledEnsembleWithPerServerConfigSurvivesARestart() {
        try (ProcessEnsemble ensemble = ProcessEnsemble.builder()
                .size(3)
                .reconfigEnabled(true)
                .extraConfig(2, "maxClientCnxns=3")
                .start()) {
            assertThat(ensemble.server(2).fourLetter("conf")).contains("maxClientCnxns=3");
            assertThat(ensemble.server(1).fourLetter("conf")).contains("maxClientCnxns=60");
            // With reconfig on, ZooKeeper moves the membership into a dynamic file and versions it.
            assertThat(ensemble.server(1).configFile()).content().contains("dynamicConfigFile=");
            assertThat(ensemble.server(1).fourLetter("conf")).doesNotContain("\nversion=0\n");

            ensemble.server(3).restart();

            ensemble.server(3).awaitServing(QUORUM_TIMEOUT);
            ensemble.awaitQuorum(QUORUM_TIMEOUT);
        }
    }

    @Test
    void closeKillsEveryMemberAndDeletesTheDirectory() {
        ProcessEnsemble ensemble = ProcessEnsemble.builder().size(1).start();
        List<ProcessHandle> handles = ensemble.servers().stream()
                .map(s -> ProcessHandle.of(s.pid()).orElseThrow())
                .toList();

        ensemble.close();

        assertThat(handles).noneMatch(ProcessHandle::isAlive);
        assertThat(ensemble.directory()).doesNotExist();
    }
}
