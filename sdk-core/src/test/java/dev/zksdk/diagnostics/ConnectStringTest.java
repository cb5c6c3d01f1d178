package dev.zksdk.diagnostics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ConnectStringTest {

    @Test
    void hostsArePortsAreParsedAndTheChrootIsSetAside() {
        ConnectString cs = ConnectString.parse(" zk1:2181, zk2.example.com:2182 ,[::1]:2183/apps/x");

        assertThat(cs.servers())
                .containsExactly(
                        new HostAndPort("zk1", 2181),
                        new HostAndPort("zk2.example.com", 2182),
                        new HostAndPort("::1", 2183));
        assertThat(cs.chroot()).isEqualTo("/apps/x");
        assertThat(cs.servers().get(2)).hasToString("[::1]:2183");
    }

    @Test
    void duplicateServersAreProbedOnce() {
        assertThat(ConnectString.parse("zk1:2181,zk1:2181,zk2:2181").servers()).hasSize(2);
    }

    @ParameterizedTest
    @CsvSource(
            delimiter = '|',
            quoteCharacter = '"',
            value = {
                "zk1|missing the port of server 'zk1'",
                "zk1:|not a number",
                ":2181|has an empty host",
                "zk1:0|port 0 out of range 1-65535",
                "zk1:65536|port 65536 out of range 1-65535",
                "zk1:abc|port that is not a number in 'zk1:abc'",
                "zk1:2181,,zk2:2181|empty server entry",
                "::1:2181|write [address]:port",
                "[::1|unclosed IPv6 bracket",
                "[::1]|missing the port",
                "zk 1:2181|whitespace"
            })
    void malformedConnectStringsAreRejectedNamingTheSettingAndTheValue(String connectString, String reason) {
        assertThatThrownBy(() -> ConnectString.parse(connectString))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("connectString")
                .hasMessageContaining(reason)
                .hasMessageContaining(connectString);
    }

    @Test
    void nullAndEmptyAreRejected() {
        assertThatThrownBy(() -> ConnectString.parse(null))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("connectString");
        assertThatThrownBy(() -> ConnectString.parse("  "))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("connectString must not be empty");
    }

    @Test
    void doctorRejectsBadInputBeforeProbing() {
        assertThatThrownBy(() -> EnsembleDoctor.probe("zk1"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("missing the port");
        assertThatThrownBy(() -> EnsembleDoctor.probe("127.0.0.1:2181", (Duration) null))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("timeout must not be null");
        assertThatThrownBy(() -> EnsembleDoctor.probe("127.0.0.1:2181", Duration.ZERO))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("timeout")
                .hasMessageContaining("PT0S");
        assertThatThrownBy(() -> EnsembleDoctor.probe("127.0.0.1:2181", (DoctorOptions) null))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("options must not be null");
    }
}
