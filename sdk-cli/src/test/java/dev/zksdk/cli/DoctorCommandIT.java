package dev.zksdk.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.zksdk.testing.InProcessEnsembles;
import org.apache.curator.test.TestingCluster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** {@code zk-sdk doctor} in this JVM against a real in-process 3-member ensemble. */
class DoctorCommandIT {

    private static TestingCluster cluster;

    @BeforeAll
    static void startEnsemble() {
        cluster = InProcessEnsembles.startCluster(3);
    }

    @AfterAll
    static void stopEnsemble() throws Exception {
        cluster.close();
    }

    @Test
    void healthyEnsembleExitsZeroWithEveryMemberInTheReport() {
        String connect = cluster.getConnectString();

        Cli r = Cli.run("doctor", "--connect", connect, "--timeout", "5s", "--session-timeout", "30s");

        assertThat(r.exitCode()).as(r.out() + r.err()).isZero();
        assertThat(r.out()).contains("Result: INFO", ": leader", ": follower");
        for (String member : connect.split(",")) {
            assertThat(r.out()).contains(member);
        }
    }

    @Test
    void thresholdsGivenOnTheCommandLineReachTheAnalysis() {
        // Requested far above the servers' maxSessionTimeout: the doctor warns that it will be clamped.
        Cli r = Cli.run(
                "doctor",
                "--connect",
                cluster.getConnectString(),
                "--json",
                "--session-timeout",
                "1d",
                "--admin-server",
                "never");

        assertThat(r.exitCode()).as(r.out() + r.err()).isEqualTo(1);
        assertThat(r.out()).startsWith("{").contains("\"code\":\"SESSION_TIMEOUT_CLAMPED\"", "\"exitCode\":1");
    }
}
