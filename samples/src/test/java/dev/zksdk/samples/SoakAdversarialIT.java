package dev.zksdk.samples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Review of issue 19 (review19): the {@code soak} command as a user runs it: its help, bad options, an ensemble that
 * is down, and a run interrupted the way Ctrl-C or a service manager does (SIGTERM), which must leave nothing behind.
 */
class SoakAdversarialIT {

    @TempDir
    Path dir;

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    private int run(String... args) throws Exception {
        return Main.run(
                args,
                new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
    }

    @Test
    void soakHelpPrintsTheSoakOptionsAndExitsZero() throws Exception {
        int code = run("soak", "--help");

        String all = out.toString(StandardCharsets.UTF_8) + err.toString(StandardCharsets.UTF_8);
        assertThat(code).as(all).isZero();
        assertThat(all).contains("--minutes", "--seed", "--connect", "--results");
    }

    @Test
    void badOptionsExitWithTheUsageCode64AndNameOptionAndValue() throws Exception {
        // The project's other command line (zk-sdk-cli's doctor) exits 64 (EX_USAGE) on a usage error.
        int code = run("soak", "--minutes", "0.5");

        String text = err.toString(StandardCharsets.UTF_8);
        assertThat(text).contains("--minutes", "0.5");
        assertThat(code).as(text).isEqualTo(64);
    }

    @Test
    void anEnsembleThatIsDownEndsTheRunWithAClearErrorAndNoVerdict() throws Exception {
        long start = System.nanoTime();
        int code = run(
                "soak",
                "--seconds",
                "5",
                "--seed",
                "1",
                "--connect",
                "127.0.0.1:1,127.0.0.1:2",
                "--results",
                dir.toString());
        Duration took = Duration.ofNanos(System.nanoTime() - start);

        String all = out.toString(StandardCharsets.UTF_8) + err.toString(StandardCharsets.UTF_8);
        // fix19: the reviewer asked only for a code apart from 0 and 1; it is now EX_UNAVAILABLE, apart from usage
        // (64).
        assertThat(code).as(all).isEqualTo(Main.EX_UNAVAILABLE).isEqualTo(69);
        assertThat(all).contains("127.0.0.1:1,127.0.0.1:2").doesNotContain("no violation");
        assertThat(took).as(all).isLessThan(Duration.ofSeconds(90));
    }

    @Test
    void sigtermDuringARunLeavesNoServerProcessAndNoEnsembleDirectory() throws Exception {
        Path jar = Path.of("target", "zk-sdk-samples.jar");
        assertThat(jar).exists();
        String java = ProcessHandle.current().info().command().orElse("java");
        Path log = dir.resolve("soak.out");
        Process soak = new ProcessBuilder(
                        java,
                        "-jar",
                        jar.toString(),
                        "soak",
                        "--seconds",
                        "60",
                        "--seed",
                        "20261206",
                        "--results",
                        dir.resolve("results").toString())
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .start();
        List<ProcessHandle> servers = new ArrayList<>();
        Set<Path> ensembleDirs;
        try {
            await().atMost(Duration.ofSeconds(60))
                    .pollInterval(Duration.ofMillis(200))
                    .until(() -> Files.readString(log).contains("clients running"));
            servers.addAll(soak.descendants()
                    .filter(p -> p.info().commandLine().orElse("").contains("zookeeper"))
                    .toList());
            ensembleDirs = ensembleDirs(servers);
            assertThat(servers).as("server processes of the run").hasSize(3);
            assertThat(ensembleDirs).as("the ensemble's directory").hasSize(1);
            assertThat(ensembleDirs.iterator().next()).isDirectory();

            soak.destroy(); // SIGTERM, as kill or a service manager sends; Ctrl-C's SIGINT takes the same JVM path
            assertThat(soak.waitFor(60, TimeUnit.SECONDS)).isTrue();
        } finally {
            soak.destroyForcibly();
            for (ProcessHandle p : servers) {
                if (p.isAlive()) {
                    // left behind: recorded by the assertion below, ended here so that it does not outlive the test
                    p.destroyForcibly();
                }
            }
        }
        String output = Files.readString(log);
        assertThat(servers).as(output).noneMatch(ProcessHandle::isAlive);
        await().atMost(Duration.ofSeconds(10))
                .untilAsserted(() -> assertThat(ensembleDirs)
                        .as("ensemble directories left behind")
                        .allMatch(d -> !Files.exists(d)));
        // fix19: the run so far is reported, marked interrupted.
        Path json = dir.resolve("results").resolve("soak-20261206.json");
        assertThat(json).as(output).exists();
        Map<?, ?> report = (Map<?, ?>) StrictJson.parse(Files.readString(json));
        assertThat(report.get("result")).as(output).isEqualTo("interrupted");
        assertThat(output).contains("[soak] interrupted; partial report: ");
    }

    private static Set<Path> ensembleDirs(List<ProcessHandle> servers) {
        Pattern p = Pattern.compile("(/[^\\s:=]*zk-ensemble-\\d+)");
        return servers.stream()
                .map(s -> s.info().commandLine().orElse(""))
                .map(p::matcher)
                .filter(Matcher::find)
                .map(m -> Path.of(m.group(1)))
                .collect(Collectors.toSet());
    }
}
