package dev.zksdk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** Bad settings fail in the builder, before anything is opened, naming the setting and the value. */
class ConfigValidationTest {

    @ParameterizedTest
    @CsvSource(
            delimiter = '|',
            value = {
                "''|must not be empty",
                "'   '|must not be empty",
                "zk1|missing the port of server 'zk1'",
                "zk1:2181,zk2|missing the port of server 'zk2'",
                "zk1:0|port 0 out of range",
                "zk1:65536|port 65536 out of range",
                "zk1:-1|port -1 out of range",
                "zk1:abc|port that is not a number",
                ":2181|empty host in ':2181'",
                "zk1:2181,,zk2:2181|empty server entry",
                "zk1:2181,|empty server entry",
                "zk 1:2181|whitespace in host",
                "zk1:2181/app/|invalid chroot '/app/'",
                "zk1:2181/app//x|invalid chroot",
                "::1:2181|IPv6 address without brackets",
                "[::1:2181|unclosed IPv6 bracket",
            })
    void badConnectStringIsRejectedNamingSettingAndValue(String connectString, String expected) {
        assertThatThrownBy(() -> ZkSessionPool.builder().connectString(connectString))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("connectString")
                .hasMessageContaining(expected);
    }

    @ParameterizedTest
    @CsvSource(
            delimiter = '|',
            value = {
                "1|1048575|asyncBatching maxOps must be 2 to 10000, was 1",
                "0|1048575|asyncBatching maxOps must be 2 to 10000, was 0",
                "10001|1048575|asyncBatching maxOps must be 2 to 10000, was 10001",
                "64|1023|asyncBatching maxBytes must be 1024 up to the client's jute.maxbuffer (1048575), was 1023",
                "64|1048576|asyncBatching maxBytes must be 1024 up to the client's jute.maxbuffer (1048575), was 1048576",
            })
    void badBatchingIsRejectedNamingSettingAndValue(int maxOps, int maxBytes, String expected) {
        assertThatThrownBy(() -> BatchingConfig.of(maxOps, maxBytes))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage(expected);
        if (maxBytes == 1048575) {
            assertThatThrownBy(() -> ZkSessionPool.builder().asyncBatching(maxOps))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessage(expected);
        }
    }

    @Test
    void batchingIsOffByDefaultAndPartOfTheEnsemble() {
        EnsembleConfig plain = EnsembleConfig.of("zk1:2181");
        assertThat(plain.asyncBatching()).isNull();
        EnsembleConfig batched = plain.toBuilder().asyncBatching(64).build();
        assertThat(batched.asyncBatching()).isEqualTo(BatchingConfig.of(64));
        assertThat(batched).isNotEqualTo(plain);
        assertThat(batched.toBuilder().build()).isEqualTo(batched);
        assertThat(batched.toString()).contains("asyncBatching=BatchingConfig{maxOps=64, maxBytes=1048575}");
    }

    @Test
    void nullConnectStringIsRejected() {
        assertThatThrownBy(() -> ZkSessionPool.builder().connectString(null))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("connectString must not be null");
    }

    @Test
    void missingConnectStringIsRejectedAtBuild() {
        assertThatThrownBy(() -> ZkSessionPool.builder().build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("connectString must be set");
    }

    @Test
    void goodConnectStringsAreNormalized() {
        EnsembleConfig c = EnsembleConfig.of(" zk1:2181, zk2:2182 ,[::1]:2183/app/x ");
        assertThat(c.connectString()).isEqualTo("zk1:2181,zk2:2182,[::1]:2183/app/x");
        assertThat(c.servers()).containsExactly("zk1:2181", "zk2:2182", "[::1]:2183");
        assertThat(c.chroot()).isEqualTo("/app/x");
        assertThat(EnsembleConfig.of("zk1:2181/").chroot()).isNull();
    }

    @ParameterizedTest
    @ValueSource(longs = {0, -1, -30_000})
    void nonPositiveTimeoutsAreRejected(long millis) {
        Duration d = Duration.ofMillis(millis);
        assertThatThrownBy(() -> ZkSessionPool.builder().sessionTimeout(d))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("sessionTimeout must be positive, was " + d);
        assertThatThrownBy(() -> ZkSessionPool.builder().connectionTimeout(d))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("connectionTimeout must be positive, was " + d);
        assertThatThrownBy(() -> OperationPolicy.builder().operationTimeout(d))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("operationTimeout must be positive, was " + d);
    }

    @Test
    void timeoutsThatDoNotFitZooKeepersIntMillisAreRejected() {
        assertThatThrownBy(() -> ZkSessionPool.builder().sessionTimeout(Duration.ofDays(30)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("sessionTimeout must be between 1 ms and");
        assertThatThrownBy(() -> ZkSessionPool.builder().sessionTimeout(null))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("sessionTimeout must not be null");
    }

    @ParameterizedTest
    @ValueSource(ints = {0, -1, Integer.MIN_VALUE})
    void nonPositivePoolSizesAreRejected(int size) {
        assertThatThrownBy(() -> ZkSessionPool.builder().sessionsPerEnsemble(size))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("sessionsPerEnsemble must be at least 1, was " + size);
        assertThatThrownBy(() -> OperationPolicy.builder().maxInFlight(size))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("maxInFlight must be at least 1, was " + size);
    }

    @Test
    void policyCombinationsAreCheckedAtBuild() {
        assertThatThrownBy(() -> OperationPolicy.builder()
                        .retryInitialBackoff(Duration.ofSeconds(2))
                        .retryMaxBackoff(Duration.ofSeconds(1))
                        .build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("retryMaxBackoff (PT1S) must not be shorter than retryInitialBackoff (PT2S)");
        assertThatThrownBy(() -> OperationPolicy.builder()
                        .breakerSlidingWindow(3)
                        .breakerMinimumCalls(5)
                        .build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("breakerMinimumCalls (5) must not exceed breakerSlidingWindow (3)");
        assertThatThrownBy(() -> OperationPolicy.builder().breakerFailureRateThreshold(0f))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("breakerFailureRateThreshold must be in (0, 100] percent, was 0.0");
    }

    @Test
    void ensembleConfigsAreKeyedByEverySettingIncludingCredentials() {
        EnsembleConfig a = EnsembleConfig.builder()
                .connectString("zk1:2181/app")
                .authorization("digest", "u:p".getBytes(StandardCharsets.UTF_8))
                .build();
        EnsembleConfig same = EnsembleConfig.builder()
                .connectString("zk1:2181/app")
                .authorization("digest", "u:p".getBytes(StandardCharsets.UTF_8))
                .build();
        EnsembleConfig otherSecret = EnsembleConfig.builder()
                .connectString("zk1:2181/app")
                .authorization("digest", "u:q".getBytes(StandardCharsets.UTF_8))
                .build();
        EnsembleConfig otherChroot = EnsembleConfig.builder()
                .connectString("zk1:2181/other")
                .authorization("digest", "u:p".getBytes(StandardCharsets.UTF_8))
                .build();
        EnsembleConfig otherTimeout =
                a.toBuilder().sessionTimeout(Duration.ofSeconds(7)).build();
        assertThat(a).isEqualTo(same).hasSameHashCodeAs(same);
        assertThat(a).isNotEqualTo(otherSecret).isNotEqualTo(otherChroot).isNotEqualTo(otherTimeout);
    }

    @Test
    void credentialsNeverPrint() {
        EnsembleConfig c = EnsembleConfig.builder()
                .connectString("zk1:2181")
                .authorization("digest", "alice:s3cr3t-pw".getBytes(StandardCharsets.UTF_8))
                .build();
        assertThat(c.toString())
                .contains("digest:****")
                .doesNotContain("s3cr3t")
                .doesNotContain("alice");
        ZkSessionPool pool = ZkSessionPool.builder()
                .connectString("127.0.0.1:1")
                .authorization("digest", "alice:s3cr3t-pw".getBytes(StandardCharsets.UTF_8))
                .build();
        try {
            assertThat(pool.toString()).doesNotContain("s3cr3t").doesNotContain("alice");
        } finally {
            pool.close();
        }
    }

    @Test
    void buildOpensNothingAndClosedPoolRefusesLeases() {
        // Nothing listens on port 1: a build that connected would fail or hang; it must do neither.
        ZkSessionPool pool =
                ZkSessionPool.builder().connectString("127.0.0.1:1").build();
        assertThat(pool.stats().openSessions()).isZero();
        assertThat(pool.stats().sessionsOpened()).isZero();
        pool.close();
        assertThatThrownBy(pool::lease)
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("closed");
    }
}
