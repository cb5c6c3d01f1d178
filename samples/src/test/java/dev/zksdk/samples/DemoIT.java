package dev.zksdk.samples;

import static org.assertj.core.api.Assertions.assertThat;

import dev.zksdk.EphemeralNode;
import dev.zksdk.testing.InProcessEnsembles;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.Test;

/** The demo end to end on real servers: its exit code follows its checks. */
class DemoIT {

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    @Test
    void readmeDemoInjectsEveryFaultOnTheEmbeddedEnsembleAndEveryCheckHolds() throws Exception {
        int code = Main.run(new String[] {"demo"}, print(out), print(err));

        String output = out.toString(StandardCharsets.UTF_8);
        System.out.print(output);
        assertThat(code).as(output).isZero();
        assertThat(output)
                .contains(
                        "--- fault 1/3: kill the leader ---", "the leader; the other two elect a new one", "leads now")
                .contains("--- fault 2/3: drop the connection ---", "client connection(s) at the proxies")
                .contains("--- fault 3/3: force a session expiry ---", "with NEW session", "1 ephemeral(s) re-created")
                .containsPattern("RECONNECTED to server \\d .* same session 0x")
                .contains("doctor report:", "Result: INFO")
                .contains("  ok    no request failed", "all 8 checks held")
                .doesNotContain("FAIL");
        assertThat(err.toString(StandardCharsets.UTF_8)).isEmpty();
    }

    @Test
    void failedCheckMakesTheExitCodeNonZero() throws Exception {
        Demo.Hooks closeRegistration = new Demo.Hooks() {
            @Override
            public void beforeChecks(EphemeralNode registration) {
                registration.close();
            }
        };

        int code = Demo.run(
                new String[] {"--faults", "none", "--seconds", "1"}, print(out), print(err), closeRegistration);

        String output = out.toString(StandardCharsets.UTF_8);
        assertThat(code).as(output).isEqualTo(1);
        assertThat(output)
                .containsPattern("FAIL  the registration /zksdk-demo-\\w+/services/demo-1 exists")
                .contains("(no node)", "  ok    the watch saw the last config value", "1 of 5 checks FAILED");
    }

    @Test
    void externalEnsembleGetsTheFaultsTheDemoCanInjectAndSaysWhichItSkips() throws Exception {
        try (TestingServer server = InProcessEnsembles.startServer()) {
            int code = Main.run(
                    new String[] {"demo", "--connect", server.getConnectString(), "--seconds", "1", "--handlers", "8"},
                    print(out),
                    print(err));

            String output = out.toString(StandardCharsets.UTF_8);
            assertThat(code).as(output).isZero();
            assertThat(output)
                    .contains("ensemble: " + server.getConnectString())
                    .contains("skipped: the demo cannot kill the leader of an ensemble it does not run (--connect)")
                    .contains("--- fault 2/3: drop the connection ---", "same session 0x")
                    .contains("--- fault 3/3: force a session expiry ---", "with NEW session")
                    .contains("(your ensemble's findings are shown, not checked")
                    .contains("all 6 checks held");
        }
    }

    private static PrintStream print(ByteArrayOutputStream bytes) {
        return new PrintStream(bytes, true, StandardCharsets.UTF_8);
    }
}
