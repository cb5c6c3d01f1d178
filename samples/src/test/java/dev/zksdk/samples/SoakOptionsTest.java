package dev.zksdk.samples;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bad soak arguments: exit 64 (EX_USAGE, as the CLI's doctor) with a message naming the option and the value, before
 * any server starts; {@code soak --help} lists the options and exits 0.
 */
class SoakOptionsTest {

    @Test
    void badArgumentsExitWithTheUsageCodeAndNameTheProblem() throws Exception {
        assertRejected(List.of("--minutes", "0"), "soak: --minutes must be between 1 and 10080, was 0");
        assertRejected(List.of("--seconds", "3"), "soak: --seconds must be between 5 and 604800, was 3");
        assertRejected(List.of("--seed", "x"), "soak: Invalid value for option '--seed': 'x' is not a long");
        assertRejected(List.of("--minutes", "3", "--seconds", "60"), "soak: give --minutes or --seconds, not both");
        assertRejected(List.of("--connect", "zk1"), "soak: --connect: connectString");
        assertRejected(List.of("--results"), "soak: Missing required parameter for option '--results' (<dir>)");
        assertRejected(List.of("--faults", "none"), "soak: Unknown options: '--faults', 'none'");
        assertRejected(
                List.of("--reconfig", "--connect", "127.0.0.1:2181"),
                "soak: --reconfig needs the soak's own ensemble; it cannot be combined with --connect 127.0.0.1:2181");
    }

    @Test
    void unwritableResultsAreRefusedBeforeAnythingStarts(@TempDir Path dir) throws Exception {
        Path file = Files.writeString(dir.resolve("a-file"), "");
        Path results = file.resolve("results");

        assertRejected(List.of("--seconds", "5", "--results", results.toString()), "soak: --results " + results);
    }

    @Test
    void helpListsTheOptionsAndTheExitCodesAndExitsZero() throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();

        int code = Main.run(
                new String[] {"soak", "--help"},
                new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));

        assertThat(code).isZero();
        assertThat(out.toString(StandardCharsets.UTF_8))
                .contains("--minutes", "--seconds", "--seed", "--connect", "--results", "--verbose")
                .contains("Exit codes:", "64", "69");
        assertThat(err.toString(StandardCharsets.UTF_8)).isEmpty();
    }

    @Test
    void optionsAreRead() {
        SoakCommand.Options o = SoakCommand.Options.parse(
                new String[] {"--minutes", "3", "--seed", "42", "--results", "out", "--verbose"});

        assertThat(o.duration).isEqualTo(Duration.ofMinutes(3));
        assertThat(o.seed).isEqualTo(42);
        assertThat(o.results).isEqualTo(Path.of("out"));
        assertThat(o.verbose).isTrue();
        assertThat(o.reconfig).isFalse();
        assertThat(SoakCommand.Options.parse(new String[] {"--reconfig"}).reconfig)
                .isTrue();
        assertThat(SoakCommand.Options.parse(new String[] {"--seconds", "60"}).duration)
                .isEqualTo(Duration.ofSeconds(60));
    }

    private static void assertRejected(List<String> args, String message) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        List<String> all = new java.util.ArrayList<>(List.of("soak"));
        all.addAll(args);

        int code = Main.run(
                all.toArray(String[]::new),
                new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));

        assertThat(code).isEqualTo(Main.EX_USAGE).isEqualTo(64);
        assertThat(err.toString(StandardCharsets.UTF_8)).startsWith(message);
        assertThat(out.toString(StandardCharsets.UTF_8)).isEmpty();
    }
}
