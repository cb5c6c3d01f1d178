package dev.zksdk.samples;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The doctor command's arguments and exit codes, without a server: nothing here needs one to answer. */
class DoctorCommandTest {

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    @Test
    void missingConnectStringIsRejectedWithExitTwo() throws Exception {
        assertThat(doctor()).isEqualTo(2);
        assertThat(err()).contains("doctor: --connect <host:port,...> is required", "usage:");
        assertThat(out()).isEmpty();
    }

    @Test
    void badOptionsAreRejectedNamingOptionAndValue() throws Exception {
        assertThat(doctor("--connect", "127.0.0.1:2181", "--verbose")).isEqualTo(2);
        assertThat(err()).contains("unknown option '--verbose'");

        assertThat(doctor("--connect")).isEqualTo(2);
        assertThat(err()).contains("option --connect needs a value");

        assertThat(doctor("--connect", "127.0.0.1:2181", "--timeout", "soon")).isEqualTo(2);
        assertThat(err()).contains("--timeout must be a duration such as 2000, 2000ms or 2s, was 'soon'");

        assertThat(doctor("--connect", "127.0.0.1:2181", "--session-timeout", "0s"))
                .isEqualTo(2);
        assertThat(err()).contains("--session-timeout must be positive, was '0s'");

        assertThat(doctor("--connect", "127.0.0.1:2181", "--timeout", "10m")).isEqualTo(2);
        assertThat(err()).contains("--timeout must be a duration");
        assertThat(out()).isEmpty();
    }

    @Test
    void malformedConnectStringIsRejectedBeforeProbing() throws Exception {
        assertThat(doctor("--connect", "zk1")).isEqualTo(2);

        assertThat(err())
                .contains("doctor: --connect: connectString is missing the port of server 'zk1' (value: 'zk1')");
        assertThat(out()).isEmpty();
    }

    @Test
    void unreachableAddressIsCriticalWithExitTwo() throws Exception {
        String dead = "127.0.0.1:" + unusedPort();

        assertThat(doctor("--connect", dead, "--timeout", "1s")).isEqualTo(2);

        assertThat(out())
                .contains(
                        "Result: CRITICAL",
                        dead + ": UNREACHABLE - connection refused",
                        "[CRITICAL] UNREACHABLE - member does not answer (" + dead + ")");
    }

    @Test
    @SuppressWarnings("unchecked")
    void jsonReportOfUnreachableAddressParsesAndCarriesTheExitCode() throws Exception {
        String dead = "127.0.0.1:" + unusedPort();

        assertThat(doctor("--connect", dead, "--json", "--timeout", "1000ms")).isEqualTo(2);

        Map<String, Object> report = (Map<String, Object>) StrictJson.parse(out());
        assertThat(report).containsEntry("connectString", dead).containsEntry("worstSeverity", "CRITICAL");
        assertThat(report.get("exitCode")).hasToString("2");
        List<Map<String, Object>> servers = (List<Map<String, Object>>) report.get("servers");
        assertThat(servers).singleElement().satisfies(s -> {
            assertThat(s)
                    .containsEntry("server", dead)
                    .containsEntry("reachable", false)
                    .containsEntry("serving", false);
            assertThat((String) s.get("problem")).contains("connection refused");
        });
        List<Map<String, Object>> findings = (List<Map<String, Object>>) report.get("findings");
        assertThat(findings).extracting(f -> f.get("code")).contains("UNREACHABLE");
        assertThat(err()).isEmpty();
    }

    @Test
    void mainDispatchesDoctorAndRejectsUnknownCommands() throws Exception {
        assertThat(Main.run(new String[] {"doctor"}, print(out), print(err))).isEqualTo(2);
        assertThat(err()).contains("--connect <host:port,...> is required");

        assertThat(Main.run(new String[] {"diagnose"}, print(out), print(err))).isEqualTo(2);
        assertThat(err()).contains("unknown command 'diagnose'", "doctor  --connect <connect string>");

        assertThat(Main.run(new String[] {"--help"}, print(out), print(err))).isZero();
        assertThat(out()).contains("usage: java -jar zk-sdk-samples.jar <command>");
    }

    private int doctor(String... args) {
        out.reset();
        err.reset();
        return DoctorCommand.run(args, print(out), print(err));
    }

    private static PrintStream print(ByteArrayOutputStream bytes) {
        return new PrintStream(bytes, true, StandardCharsets.UTF_8);
    }

    private String out() {
        return out.toString(StandardCharsets.UTF_8);
    }

    private String err() {
        return err.toString(StandardCharsets.UTF_8);
    }

    /** A port nothing listens on: bound, then released. */
    static int unusedPort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            return socket.getLocalPort();
        }
    }
}
