package dev.zksdk.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.zksdk.diagnostics.AdminServerUse;
import dev.zksdk.diagnostics.DoctorOptions;
import dev.zksdk.security.TlsConfig;
import dev.zksdk.testing.TestPki;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import org.junit.jupiter.api.Test;
import picocli.CommandLine.ParseResult;

/** Every {@link DoctorOptions} setting has a doctor option, and the option reaches the setting. */
class DoctorOptionsReachableTest {

    @Test
    void everySettingDiffersFromItsDefaultWhenEveryOptionIsGiven() throws Exception {
        TestPki pki = TestPki.shared();

        DoctorOptions options = parse(
                "--connect",
                "127.0.0.1:2181",
                "--timeout",
                "3s",
                "--session-timeout",
                "PT45S",
                "--client-address",
                "10.1.2.3",
                "--connection-budget-ratio",
                "0.5",
                "--admin-port",
                "9090",
                "--admin-server",
                "always",
                "--max-zxid-lag",
                "7",
                "--avg-latency-threshold",
                "250ms",
                "--max-latency-threshold",
                "1m",
                "--outstanding-requests-threshold",
                "11",
                "--data-size-threshold-bytes",
                "12345",
                "--tls-trust-store",
                pki.clientTrustStore().toString(),
                "--tls-trust-store-password=" + pki.clientTrustStorePassword(),
                "--tls-trust-store-type",
                "pkcs12",
                "--tls-key-store",
                pki.clientKeyStore().toString(),
                "--tls-key-store-password=" + pki.clientKeyStorePassword(),
                "--tls-key-store-type",
                "PKCS12",
                "--no-tls-hostname-verification");

        assertThat(options.timeout()).isEqualTo(Duration.ofSeconds(3));
        assertThat(options.requestedSessionTimeout()).isEqualTo(Duration.ofSeconds(45));
        assertThat(options.clientAddress()).isEqualTo("10.1.2.3");
        assertThat(options.connectionBudgetRatio()).isEqualTo(0.5);
        assertThat(options.adminPort()).isEqualTo(9090);
        assertThat(options.adminServerUse()).isEqualTo(AdminServerUse.ALWAYS);
        assertThat(options.maxZxidLag()).isEqualTo(7);
        assertThat(options.avgLatencyThreshold()).isEqualTo(Duration.ofMillis(250));
        assertThat(options.maxLatencyThreshold()).isEqualTo(Duration.ofMinutes(1));
        assertThat(options.outstandingRequestsThreshold()).isEqualTo(11);
        assertThat(options.dataSizeThresholdBytes()).isEqualTo(12345);
        TlsConfig tls = options.tls();
        assertThat(tls.trustStore()).isEqualTo(pki.clientTrustStore());
        assertThat(tls.trustStorePassword())
                .isEqualTo(pki.clientTrustStorePassword().toCharArray());
        assertThat(tls.trustStoreType()).isEqualTo("PKCS12");
        assertThat(tls.keyStore()).isEqualTo(pki.clientKeyStore());
        assertThat(tls.keyStorePassword())
                .isEqualTo(pki.clientKeyStorePassword().toCharArray());
        assertThat(tls.keyStoreType()).isEqualTo("PKCS12");
        assertThat(tls.hostnameVerification()).isFalse();

        // A setting added to DoctorOptions without an option fails here: every accessor must have moved.
        DoctorOptions defaults = DoctorOptions.defaults();
        List<String> unchanged = new ArrayList<>();
        for (Method accessor : settings()) {
            if (Objects.equals(accessor.invoke(options), accessor.invoke(defaults))) {
                unchanged.add(accessor.getName());
            }
        }
        assertThat(unchanged)
                .as("DoctorOptions settings no doctor option reached")
                .isEmpty();
        assertThat(settings()).hasSize(12);
    }

    @Test
    void optionsNotGivenKeepTheCoresDefaults() {
        DoctorOptions options = parse("--connect", "127.0.0.1:2181");

        assertThat(options.toString()).isEqualTo(DoctorOptions.defaults().toString());
    }

    @Test
    void tlsAloneTrustsTheJvmsCasWithHostnameVerification() {
        TlsConfig tls = parse("--connect", "127.0.0.1:2181", "--tls").tls();

        assertThat(tls).isNotNull();
        assertThat(tls.trustStore()).isNull();
        assertThat(tls.keyStore()).isNull();
        assertThat(tls.hostnameVerification()).isTrue();
    }

    private static List<Method> settings() {
        return Arrays.stream(DoctorOptions.class.getDeclaredMethods())
                .filter(m -> Modifier.isPublic(m.getModifiers()) && !Modifier.isStatic(m.getModifiers()))
                .filter(m -> m.getParameterCount() == 0)
                .filter(m -> !List.of("toString", "toBuilder", "hashCode").contains(m.getName()))
                .toList();
    }

    private static DoctorOptions parse(String... args) {
        ParseResult result = ZkSdkCli.commandLine().parseArgs(prepend("doctor", args));
        DoctorCommand doctor = (DoctorCommand) result.subcommand().commandSpec().userObject();
        return doctor.doctorOptions();
    }

    private static String[] prepend(String first, String... rest) {
        String[] all = new String[rest.length + 1];
        all[0] = first;
        System.arraycopy(rest, 0, all, 1, rest.length);
        return all;
    }
}
