package dev.zksdk.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Exit codes and messages of the command line that need no server: help, version, usage errors. */
class ZkSdkCliTest {

    @Test
    void helpOfTheTopCommandExitsZeroAndListsTheDoctor() {
        Cli r = Cli.run("--help");

        assertThat(r.exitCode()).isZero();
        assertThat(r.out()).contains("Usage: zk-sdk", "doctor", "--version", "64", "usage error");
        assertThat(r.err()).isEmpty();
    }

    @Test
    void helpOfTheDoctorExitsZeroWithItsOptionsAndExitCodes() {
        Cli r = Cli.run("doctor", "--help");

        assertThat(r.exitCode()).isZero();
        assertThat(r.out())
                .contains(
                        "Usage: zk-sdk doctor",
                        "--connect",
                        "--timeout",
                        "Default: 2s",
                        "--admin-server",
                        "NEVER, FALLBACK,",
                        "Default: FALLBACK",
                        "--tls-trust-store",
                        "critical findings",
                        "usage error: bad option or value");
        assertThat(Cli.run("help", "doctor").out()).isEqualTo(r.out());
    }

    @Test
    void versionExitsZero() {
        Cli r = Cli.run("--version");

        assertThat(r.exitCode()).isZero();
        // From its jar the manifest's Implementation-Version follows (CliJarIT); here the classes are a directory.
        assertThat(r.out()).startsWith("zk-sdk ").contains("JVM: " + System.getProperty("java.version"));
        assertThat(Cli.run("doctor", "--version").exitCode()).isZero();
    }

    @Test
    void aPasswordExportedWithoutItsStoreIsIgnoredButOneTypedIsAUsageError() {
        Map<String, String> exported = Map.of(
                "--tls-key-store-password", "exported-key-pw", "--tls-trust-store-password", "exported-trust-pw");
        // Nothing listens on port 1: the doctor runs and finds the member down (critical, 2), not a usage error.
        Cli plain = Cli.runDoctorWithDefaults(exported, "doctor", "--connect", "127.0.0.1:1", "--timeout", "500ms");
        assertThat(plain.exitCode()).as(plain.err()).isEqualTo(2);
        assertThat(plain.err()).doesNotContain("needs --tls");
        assertThat(plain.out() + plain.err()).doesNotContain("exported-key-pw", "exported-trust-pw");

        Cli typed = Cli.runDoctorWithDefaults(
                exported, "doctor", "--connect", "127.0.0.1:1", "--tls-key-store-password", "typed-pw");
        assertThat(typed.exitCode()).isEqualTo(64);
        assertThat(typed.err()).contains("needs --tls-key-store").doesNotContain("typed-pw");
    }

    @Test
    void noArgumentsIsAUsageErrorThatStartsNothing() {
        Cli r = Cli.run();

        assertThat(r.exitCode()).isEqualTo(ZkSdkCli.EX_USAGE).isEqualTo(64);
        assertThat(r.err()).contains("a command is required", "Usage: zk-sdk");
        assertThat(r.out()).isEmpty();
    }

    @Test
    void unknownCommandsAndOptionsAreUsageErrors() {
        Cli unknownCommand = Cli.run("diagnose");
        assertThat(unknownCommand.exitCode()).isEqualTo(64);
        assertThat(unknownCommand.err()).contains("diagnose");

        Cli unknownOption = Cli.run("doctor", "--connect", "127.0.0.1:2181", "--verbose");
        assertThat(unknownOption.exitCode()).isEqualTo(64);
        assertThat(unknownOption.err()).contains("Unknown option: '--verbose'");
        assertThat(unknownOption.out()).isEmpty();

        Cli helpOfNothing = Cli.run("help", "nothing");
        assertThat(helpOfNothing.exitCode()).isEqualTo(64);
    }

    @Test
    void missingConnectStringIsAUsageError() {
        Cli r = Cli.run("doctor");

        assertThat(r.exitCode()).isEqualTo(64);
        assertThat(r.err()).contains("Missing required option: '--connect=<host:port,...>'");
        assertThat(r.out()).isEmpty();
    }

    @Test
    void badDurationsAreUsageErrorsNamingOptionAndValue() throws IOException {
        String dead = "127.0.0.1:" + unusedPort();

        Cli bare = Cli.run("doctor", "--connect", dead, "--timeout", "1500");
        assertThat(bare.exitCode()).isEqualTo(64);
        assertThat(bare.err()).contains("Invalid value for option '--timeout'", "'1500' is not a duration");

        Cli word = Cli.run("doctor", "--connect", dead, "--session-timeout", "soon");
        assertThat(word.exitCode()).isEqualTo(64);
        assertThat(word.err()).contains("Invalid value for option '--session-timeout'", "'soon'");

        // Parsed, but out of the core's range: still a usage error, named, nothing probed.
        Cli tooLong = Cli.run("doctor", "--connect", dead, "--timeout", "10m");
        assertThat(tooLong.exitCode()).isEqualTo(64);
        assertThat(tooLong.err())
                .contains("Invalid value for option '--timeout': '10m' (PT10M)", "timeout must be at most PT5M");
        assertThat(tooLong.out()).isEmpty();
    }

    @Test
    void valuesTheCoreRefusesAreUsageErrorsNamingOptionAndValue() {
        Cli ratio = Cli.run("doctor", "--connect", "127.0.0.1:2181", "--connection-budget-ratio", "1.5");
        assertThat(ratio.exitCode()).isEqualTo(64);
        assertThat(ratio.err())
                .contains("Invalid value for option '--connection-budget-ratio': '1.5'", "must be in (0, 1]");

        Cli port = Cli.run("doctor", "--connect", "127.0.0.1:2181", "--admin-port", "70000");
        assertThat(port.exitCode()).isEqualTo(64);
        assertThat(port.err()).contains("'--admin-port': '70000'");

        Cli use = Cli.run("doctor", "--connect", "127.0.0.1:2181", "--admin-server", "sometimes");
        assertThat(use.exitCode()).isEqualTo(64);
        assertThat(use.err()).contains("--admin-server", "sometimes");

        Cli store = Cli.run("doctor", "--connect", "127.0.0.1:2181", "--tls-trust-store", "/no/such/store.p12");
        assertThat(store.exitCode()).isEqualTo(64);
        assertThat(store.err()).contains("Invalid value for option '--tls-trust-store': '/no/such/store.p12'");

        Cli typeWithoutTls = Cli.run("doctor", "--connect", "127.0.0.1:2181", "--tls-key-store-type", "PEM");
        assertThat(typeWithoutTls.exitCode()).isEqualTo(64);
        assertThat(typeWithoutTls.err()).contains("need TLS");
    }

    @Test
    void malformedConnectStringIsAUsageErrorBeforeProbing() {
        Cli r = Cli.run("doctor", "--connect", "zk1");

        assertThat(r.exitCode()).isEqualTo(64);
        assertThat(r.err()).contains("Invalid value for option '--connect': 'zk1'", "missing the port of server 'zk1'");
        assertThat(r.out()).isEmpty();
    }

    @Test
    void unreachableMemberIsCriticalWithTheDoctorsExitCodeNotAUsageError() throws IOException {
        String dead = "127.0.0.1:" + unusedPort();

        Cli r = Cli.run("doctor", "--connect", dead, "--timeout", "1s");

        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.out()).contains("Result: CRITICAL", dead + ": UNREACHABLE - connection refused");

        Cli json = Cli.run("doctor", "--connect", dead, "--json", "--timeout", "PT1S");
        assertThat(json.exitCode()).isEqualTo(2);
        assertThat(json.out()).startsWith("{").contains("\"exitCode\":2", "\"code\":\"UNREACHABLE\"");
    }

    /** A port nothing listens on: bound, then released. */
    static int unusedPort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            return socket.getLocalPort();
        }
    }
}
