package dev.zksdk.testing;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.ZooDefs.Ids;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@link ProcessEnsemble} runs ZooKeeper servers of other releases, each in its own JVM on that release's jars (which
 * sdk-core's build copies into {@code target/zk-servers/<version>/}), and the project's own 3.9 client talks to
 * them. Prints how long each ensemble took to start and stop; the whole class should take well under two minutes.
 */
class ServerVersionsIT {

    /** The releases sdk-core's pom copies (the zk3x.version properties), then the project's own. */
    static final List<String> OTHER_VERSIONS = List.of("3.4.14", "3.5.10", "3.6.4", "3.7.2", "3.8.4");

    private static final Duration SESSION_TIMEOUT = Duration.ofSeconds(4);
    private static final Duration QUORUM_TIMEOUT = Duration.ofSeconds(30);
    private static final Map<String, String> TIMES = new LinkedHashMap<>();

    static Stream<String> versions() {
        return Stream.concat(OTHER_VERSIONS.stream(), Stream.of(ProcessEnsemble.ownServerVersion()));
    }

    @AfterAll
    static void printTimes() {
        synchronized (TIMES) {
            StringBuilder table = new StringBuilder("ServerVersionsIT timings:\n");
            TIMES.forEach((what, time) -> table.append(String.format("  %-45s %s%n", what, time)));
            System.out.print(table);
        }
    }

    @ParameterizedTest(name = "ZooKeeper {0}")
    @MethodSource("versions")
    void standaloneServerOfEachVersionServesThePlainClientAndReportsExactlyItsVersion(String version) throws Exception {
        long started = System.nanoTime();
        try (ProcessEnsemble ensemble =
                ProcessEnsemble.builder().size(1).serverVersion(version).start()) {
            long startNanos = System.nanoTime() - started;
            ServerProcess server = ensemble.server(1);

            assertThat(server.version()).isEqualTo(version);
            assertThat(server.mode()).contains("standalone");
            assertThat(server.fourLetter("srvr")).startsWith("Zookeeper version: " + version + "-");
            assertThat(server.fourLetter("conf")).contains("tickTime=200", "maxClientCnxns=60");
            try (RawZooKeeper client = RawZooKeeper.connect(ensemble.connectString(), SESSION_TIMEOUT)) {
                byte[] data = ("written to " + version).getBytes(UTF_8);
                client.zk().create("/versions", data, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
                assertThat(client.zk().getData("/versions", false, null)).isEqualTo(data);
            }

            long stopping = System.nanoTime();
            server.stop();
            long stopNanos = System.nanoTime() - stopping;
            assertThat(server.isAlive()).isFalse();
            record(version + " standalone", startNanos, stopNanos);
        }
    }

    @Test
    void threeMember35EnsembleWithDynamicConfigReachesQuorumAndGetConfigNamesItsMembers() throws Exception {
        long started = System.nanoTime();
        try (ProcessEnsemble ensemble = ProcessEnsemble.builder()
                .serverVersion("3.5.10")
                .size(3)
                .reconfigEnabled(true)
                .start()) {
            long startNanos = System.nanoTime() - started;

            assertThat(ensemble.servers())
                    .allSatisfy(s -> assertThat(s.fourLetter("srvr")).startsWith("Zookeeper version: 3.5.10-"));
            assertThat(ensemble.servers().stream().map(s -> s.mode().orElse("none")))
                    .containsExactlyInAnyOrder("leader", "follower", "follower");
            // With reconfig on, 3.5 moves the membership into a dynamic file, as later versions do.
            assertThat(ensemble.server(1).configFile()).content().contains("dynamicConfigFile=");
            try (RawZooKeeper client = RawZooKeeper.connect(ensemble.connectString(), SESSION_TIMEOUT)) {
                String config = new String(client.zk().getConfig(false, null), UTF_8);
                List<String> members =
                        config.lines().filter(l -> l.startsWith("server.")).toList();
                assertThat(members).hasSize(3);
                for (ServerProcess server : ensemble.servers()) {
                    assertThat(members)
                            .as("config %s names %s", config, server)
                            .anyMatch(Pattern.compile("server\\." + server.id()
                                            + "=127\\.0\\.0\\.1:\\d+:\\d+:participant;127\\.0\\.0\\.1:"
                                            + server.clientPort())
                                    .asMatchPredicate());
                }
                assertThat(config).containsPattern("(?m)^version=[0-9a-f]+$");
            }
            // A member restarts from the zoo.cfg that 3.5 rewrote (static part plus dynamicConfigFile).
            long restarting = System.nanoTime();
            ensemble.server(3).restart();
            ensemble.awaitQuorum(QUORUM_TIMEOUT);
            long restartNanos = System.nanoTime() - restarting;

            long stopping = System.nanoTime();
            ensemble.servers().forEach(ServerProcess::stop);
            record("3.5.10 three members, reconfigEnabled", startNanos, System.nanoTime() - stopping);
            record("3.5.10 member 3 restart", "back in quorum after " + restartNanos / 1_000_000 + " ms");
        }
    }

    @Test
    void threeMember34EnsembleWithStaticServerLinesReachesQuorumAndReplicates() throws Exception {
        long started = System.nanoTime();
        try (ProcessEnsemble ensemble =
                ProcessEnsemble.builder().serverVersion("3.4.14").size(3).start()) {
            long startNanos = System.nanoTime() - started;

            assertThat(ensemble.server(1).configFile())
                    .content()
                    .containsPattern("(?m)^server\\.3=127\\.0\\.0\\.1:\\d+:\\d+$")
                    .doesNotContain("reconfigEnabled", "admin.", "participant");
            assertThat(ensemble.servers().stream().map(s -> s.mode().orElse("none")))
                    .containsExactlyInAnyOrder("leader", "follower", "follower");
            try (RawZooKeeper writer = RawZooKeeper.connect(ensemble.connectString(1), SESSION_TIMEOUT);
                    RawZooKeeper reader = RawZooKeeper.connect(ensemble.connectString(3), SESSION_TIMEOUT)) {
                writer.zk().create("/replicated", new byte[0], Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
                await().atMost(Duration.ofSeconds(10)).until(() -> reader.zk().exists("/replicated", false) != null);
            }

            long stopping = System.nanoTime();
            ensemble.servers().forEach(ServerProcess::stop);
            record("3.4.14 three members", startNanos, System.nanoTime() - stopping);
        }
    }

    @Test
    void olderServerHaltsWhenTheProcessThatStartedItDies() throws Exception {
        // As ServerLauncherIT, on 3.4's jars: the launcher still watches the test JVM.
        Process fakeParent = new ProcessBuilder("sleep", "120").start();
        try (ProcessEnsemble ensemble = ProcessEnsemble.builder()
                .serverVersion("3.4.14")
                .size(1)
                .watchedParentPid(fakeParent.pid())
                .start()) {
            ServerProcess server = ensemble.server(1);
            assertThat(server.isServing()).isTrue();

            fakeParent.destroyForcibly().waitFor();

            await().atMost(Duration.ofSeconds(15)).until(() -> !server.isAlive());
            assertThat(server.logFile()).content().contains("has exited; halting");
        } finally {
            fakeParent.destroyForcibly();
        }
    }

    private static void record(String what, long startNanos, long stopNanos) {
        record(what, String.format("start %5d ms, stop %5d ms", startNanos / 1_000_000, stopNanos / 1_000_000));
    }

    private static void record(String what, String time) {
        System.out.println("ServerVersionsIT: ZooKeeper " + what + ": " + time);
        synchronized (TIMES) {
            TIMES.put(what, time);
        }
    }
}
