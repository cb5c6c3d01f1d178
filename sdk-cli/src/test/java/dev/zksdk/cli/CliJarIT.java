package dev.zksdk.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.zksdk.testing.InProcessEnsembles;
import dev.zksdk.testing.SecureServer;
import dev.zksdk.testing.TestPki;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarFile;
import java.util.zip.ZipEntry;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.Test;

/** The runnable jar, target/zk-sdk-cli.jar (built in package, before integration-test), as a process. */
class CliJarIT {

    private static final Path JAR = Path.of(System.getProperty("cli.jar", "target/zk-sdk-cli.jar"));

    @Test
    void versionIsTheProjectVersionFromTheManifest() throws Exception {
        Run r = run("--version");

        assertThat(r.exitCode()).as(r.output()).isZero();
        // A line of its own (the JVM may print a warning of its own first on a loaded machine, in the merged output)
        assertThat(r.output().lines()).as(r.output()).contains("zk-sdk " + System.getProperty("cli.version"));
    }

    @Test
    void helpAndUsageErrorsExitAsDocumented() throws Exception {
        assertThat(run("--help").exitCode()).isZero();
        assertThat(run("doctor", "--help").exitCode()).isZero();

        Run none = run();
        assertThat(none.exitCode()).isEqualTo(64);
        assertThat(none.output()).contains("Usage: zk-sdk");

        Run badDuration = run("doctor", "--connect", "127.0.0.1:2181", "--timeout", "soon");
        assertThat(badDuration.exitCode()).isEqualTo(64);
        assertThat(badDuration.output()).contains("--timeout", "'soon'");
    }

    @Test
    void doctorRunsFromTheJarAgainstARealServer() throws Exception {
        try (TestingServer server = InProcessEnsembles.startServer()) {
            Run r = run("doctor", "--connect", server.getConnectString());

            assertThat(r.exitCode()).as(r.output()).isZero();
            assertThat(r.output()).contains(server.getConnectString() + ": standalone");
        }
    }

    @Test
    void doctorProbesOverTlsFromTheJar() throws Exception {
        // The jar leaves Netty's OpenSSL out: the JDK's TLS must be all the doctor needs.
        TestPki pki = TestPki.shared();
        try (SecureServer server = SecureServer.start(pki, Map.of())) {
            Run r = run(
                    "doctor",
                    "--connect",
                    server.secureConnectString(),
                    "--tls-trust-store",
                    pki.clientTrustStore().toString(),
                    "--tls-trust-store-password=" + pki.clientTrustStorePassword(),
                    "--tls-key-store",
                    pki.clientKeyStore().toString(),
                    "--tls-key-store-password=" + pki.clientKeyStorePassword());

            assertThat(r.exitCode()).as(r.output()).isZero();
            assertThat(r.output()).contains(server.secureConnectString() + ": standalone");
        }
    }

    @Test
    void jarHoldsNoServerFrameworkTestFixturesOrSpring() throws Exception {
        List<String> unwanted = new ArrayList<>();
        try (JarFile jar = new JarFile(JAR.toFile())) {
            for (ZipEntry e : Collections.list(jar.entries())) {
                String name = e.getName();
                if (name.startsWith("org/apache/catalina/")
                        || name.startsWith("org/apache/tomcat/")
                        || name.startsWith("org/springframework/")
                        || name.startsWith("org/apache/curator/test/")
                        || name.startsWith("dev/zksdk/testing/")
                        || name.startsWith("org/junit/")) {
                    unwanted.add(name);
                }
            }
        }
        assertThat(unwanted).isEmpty();
        System.out.println("zk-sdk-cli.jar: " + Files.size(JAR) + " bytes");
    }

    private record Run(int exitCode, String output) {}

    private static Run run(String... args) throws Exception {
        assertThat(JAR).as("the runnable jar, built in the package phase").exists();
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:TieredStopAtLevel=1",
                "-jar",
                JAR.toString()));
        command.addAll(List.of(args));
        Path log = Files.createTempFile("zk-sdk-cli-", ".log");
        try {
            Process process = new ProcessBuilder(command)
                    .redirectErrorStream(true)
                    .redirectOutput(log.toFile())
                    .start();
            assertThat(process.waitFor(60, TimeUnit.SECONDS)).as("the jar ends").isTrue();
            return new Run(process.exitValue(), Files.readString(log));
        } finally {
            Files.deleteIfExists(log);
        }
    }
}
