package dev.zksdk.diagnostics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.zksdk.security.TlsConfig;
import dev.zksdk.testing.TestPki;
import java.time.Duration;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Test;

class DoctorOptionsTest {

    @Test
    void defaultsAreThePublishedConstants() {
        DoctorOptions o = DoctorOptions.defaults();

        assertThat(o.timeout()).isEqualTo(DoctorOptions.DEFAULT_TIMEOUT);
        assertThat(o.requestedSessionTimeout()).isNull();
        assertThat(o.clientAddress()).isNull();
        assertThat(o.connectionBudgetRatio()).isEqualTo(DoctorOptions.DEFAULT_CONNECTION_BUDGET_RATIO);
        assertThat(o.adminPort()).isEqualTo(8080);
        assertThat(o.adminServerUse()).isEqualTo(AdminServerUse.FALLBACK);
        assertThat(o.maxZxidLag()).isEqualTo(DoctorOptions.DEFAULT_MAX_ZXID_LAG);
        assertThat(o.avgLatencyThreshold()).isEqualTo(DoctorOptions.DEFAULT_AVG_LATENCY_THRESHOLD);
        assertThat(o.maxLatencyThreshold()).isEqualTo(DoctorOptions.DEFAULT_MAX_LATENCY_THRESHOLD);
        assertThat(o.outstandingRequestsThreshold()).isEqualTo(DoctorOptions.DEFAULT_OUTSTANDING_REQUESTS_THRESHOLD);
        assertThat(o.dataSizeThresholdBytes()).isEqualTo(DoctorOptions.DEFAULT_DATA_SIZE_THRESHOLD_BYTES);
        assertThat(o.tls()).isNull();
        assertThat(o.toString()).contains("tls=off");
    }

    @Test
    void tlsIsKeptByToBuilderAndItsPasswordsAreNeverPrinted() {
        TestPki pki = TestPki.shared();
        TlsConfig tls = TlsConfig.builder()
                .trustStore(pki.clientTrustStore(), pki.clientTrustStorePassword())
                .keyStore(pki.clientKeyStore(), pki.clientKeyStorePassword())
                .build();

        DoctorOptions o = DoctorOptions.builder().tls(tls).build();

        assertThat(o.tls()).isEqualTo(tls);
        assertThat(o.toBuilder().build().tls()).isEqualTo(tls);
        assertThat(o.toBuilder().tls(null).build().tls()).isNull();
        assertThat(o.toString())
                .contains("tls=TlsConfig{", pki.clientKeyStore().toString())
                .doesNotContain(pki.clientKeyStorePassword())
                .doesNotContain(pki.clientTrustStorePassword());
    }

    @Test
    void toBuilderKeepsEveryValue() {
        DoctorOptions o = DoctorOptions.builder()
                .timeout(Duration.ofMillis(750))
                .requestedSessionTimeout(Duration.ofSeconds(30))
                .clientAddress("/10.1.2.3")
                .connectionBudgetRatio(0.5)
                .adminPort(9090)
                .adminServerUse(AdminServerUse.ALWAYS)
                .maxZxidLag(5)
                .avgLatencyThreshold(Duration.ofMillis(20))
                .maxLatencyThreshold(Duration.ofSeconds(1))
                .outstandingRequestsThreshold(7)
                .dataSizeThresholdBytes(1024)
                .build();

        DoctorOptions copy = o.toBuilder().build();

        assertThat(copy).hasToString(o.toString());
        assertThat(copy.clientAddress()).isEqualTo("10.1.2.3");
        assertThat(copy.timeout()).isEqualTo(Duration.ofMillis(750));
        assertThat(copy.adminServerUse()).isEqualTo(AdminServerUse.ALWAYS);
    }

    @Test
    void badValuesAreRejectedNamingTheSettingAndTheValue() {
        DoctorOptions.Builder b = DoctorOptions.builder();
        rejects(() -> b.timeout(null), "timeout must not be null");
        rejects(() -> b.timeout(Duration.ofMillis(-1)), "timeout", "PT-0.001S");
        rejects(() -> b.timeout(Duration.ofNanos(10)), "timeout", "PT0.00000001S");
        rejects(() -> b.timeout(Duration.ofHours(1)), "timeout", "PT1H");
        rejects(() -> b.requestedSessionTimeout(Duration.ZERO), "requestedSessionTimeout", "PT0S");
        rejects(() -> b.clientAddress(" "), "clientAddress", "' '");
        rejects(() -> b.clientAddress("10.0.0.1:2181"), "clientAddress", "10.0.0.1:2181");
        rejects(() -> b.clientAddress("http://x"), "clientAddress", "http://x");
        rejects(() -> b.connectionBudgetRatio(0), "connectionBudgetRatio", "0.0");
        rejects(() -> b.connectionBudgetRatio(1.5), "connectionBudgetRatio", "1.5");
        rejects(() -> b.connectionBudgetRatio(Double.NaN), "connectionBudgetRatio", "NaN");
        rejects(() -> b.adminPort(0), "adminPort", "0");
        rejects(() -> b.adminPort(70000), "adminPort", "70000");
        rejects(() -> b.adminServerUse(null), "adminServerUse");
        rejects(() -> b.maxZxidLag(-1), "maxZxidLag", "-1");
        rejects(() -> b.avgLatencyThreshold(Duration.ZERO), "avgLatencyThreshold", "PT0S");
        rejects(() -> b.maxLatencyThreshold(null), "maxLatencyThreshold");
        rejects(() -> b.outstandingRequestsThreshold(-3), "outstandingRequestsThreshold", "-3");
        rejects(() -> b.dataSizeThresholdBytes(0), "dataSizeThresholdBytes", "0");
    }

    @Test
    void ipv6ClientAddressIsAccepted() {
        assertThat(DoctorOptions.builder().clientAddress("fe80::1").build().clientAddress())
                .isEqualTo("fe80::1");
    }

    private static void rejects(ThrowingCallable call, String... parts) {
        assertThatThrownBy(call).isInstanceOf(IllegalArgumentException.class).hasMessageContainingAll(parts);
    }
}
