package dev.zksdk.samples;

import static org.assertj.core.api.Assertions.assertThat;

import dev.zksdk.testing.InProcessEnsembles;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The doctor command against a real server, in this JVM and as the shaded jar's process exit code. */
class DoctorCommandIT {

    private static TestingServer server;

    @BeforeAll
    static void startServer() {
        server = InProcessEnsembles.startServer();
    }

    @AfterAll
    static void stopServer() throws Exception {
        server.close();
    }

    @Test
    void healthyServerExitsWithZero() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();

        int code = DoctorCommand.run(new String[] {"--connect", server.getConnectString()}, print(out), System.err);

        assertThat(code).isZero();
        assertThat(out.toString(StandardCharsets.UTF_8))
                .contains("Result: INFO", server.getConnectString() + ": standalone", "SINGLE_SERVER");
    }

    @Test
    @SuppressWarnings("unchecked")
    void jsonReportOfHealthyServerParses() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();

        int code = DoctorCommand.run(
                new String[] {"--json", "--connect", server.getConnectString(), "--session-timeout", "6s"},
                print(out),
                System.err);

        assertThat(code).isZero();
        Map<String, Object> report = (Map<String, Object>) StrictJson.parse(out.toString(StandardCharsets.UTF_8));
        assertThat(report).containsEntry("worstSeverity", "INFO");
        assertThat(report.get("exitCode")).hasToString("0");
        assertThat((List<Map<String, Object>>) report.get("servers"))
                .singleElement()
                .satisfies(s -> {
                    assertThat(s)
                            .containsEntry("reachable", true)
                            .containsEntry("serving", true)
                            .containsEntry("mode", "standalone");
                    assertThat((Map<String, Object>) s.get("config")).containsKey("maxSessionTimeout");
                });
    }

    @Test
    void shadedJarExitsWithTheReportsCode() throws Exception {
        Path jar = Path.of(System.getProperty("samples.jar", "target/zk-sdk-samples.jar"));
        assertThat(jar).as("the shaded jar, built in the package phase").exists();

        assertThat(runJar(jar, "doctor", "--connect", server.getConnectString()))
                .isZero();
        assertThat(runJar(jar, "doctor", "--connect", "127.0.0.1:" + DoctorCommandTest.unusedPort(), "--timeout", "1s"))
                .isEqualTo(2);
        assertThat(runJar(jar, "doctor", "--json")).isEqualTo(2);
    }

    private static int runJar(Path jar, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:TieredStopAtLevel=1",
                "-jar",
                jar.toString()));
        command.addAll(List.of(args));
        Path log = Files.createTempFile("doctor-", ".log");
        try {
            Process process = new ProcessBuilder(command)
                    .redirectErrorStream(true)
                    .redirectOutput(log.toFile())
                    .start();
            assertThat(process.waitFor(60, TimeUnit.SECONDS)).as("the jar ends").isTrue();
            String output = Files.readString(log);
            assertThat(output).as("output of %s", List.of(args)).isNotBlank();
            return process.exitValue();
        } finally {
            Files.deleteIfExists(log);
        }
    }

    private static PrintStream print(ByteArrayOutputStream bytes) {
        return new PrintStream(bytes, true, StandardCharsets.UTF_8);
    }
}
