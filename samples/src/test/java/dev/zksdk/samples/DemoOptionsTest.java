package dev.zksdk.samples;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Bad demo arguments: exit 64 (EX_USAGE) with a message naming the option and the value, before any server starts. */
class DemoOptionsTest {

    @Test
    void badArgumentsExitWithTheUsageCodeAndNameTheProblem() throws Exception {
        assertRejected(List.of("--handlers", "0"), "demo: --handlers must be between 1 and 1000, was 0");
        assertRejected(List.of("--seconds", "ten"), "demo: --seconds must be a whole number, was 'ten'");
        assertRejected(
                List.of("--faults", "kill-leader,flood"),
                "demo: --faults has an unknown fault 'flood'; known: kill-leader, drop-connection, expire-session, or none");
        assertRejected(List.of("--connect", "zk1"), "demo: --connect: connectString");
        assertRejected(List.of("--connect"), "demo: option --connect needs a value");
        assertRejected(List.of("--connect", "--seconds", "1"), "demo: option --connect needs a value");
        assertRejected(List.of("--verbose"), "demo: unknown option '--verbose'");
    }

    @Test
    void faultsAreInjectedInTheirFixedOrder() {
        assertThat(Demo.Options.parse(new String[] {"--faults", "expire-session,kill-leader"}).faults)
                .containsExactly(Fault.KILL_LEADER, Fault.EXPIRE_SESSION);
        assertThat(Demo.Options.parse(new String[] {"--faults", "none"}).faults).isEmpty();
        assertThat(Demo.Options.parse(new String[0]).faults).containsExactly(Fault.values());
    }

    private static void assertRejected(List<String> args, String message) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();

        int code = Main.run(
                args.toArray(String[]::new),
                new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));

        assertThat(code).as("%s", args).isEqualTo(64);
        assertThat(err.toString(StandardCharsets.UTF_8)).as("%s", args).contains(message);
        assertThat(out.toString(StandardCharsets.UTF_8)).as("%s", args).isEmpty();
    }
}
