package dev.zksdk.hosts;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.Random;
import org.junit.jupiter.api.Test;

class HostsConfigTest {

    @Test
    void defaultsAreTheDocumentedConstants() {
        HostsConfig c = HostsConfig.defaults();
        assertThat(c.perServerConnectionBudget())
                .isEqualTo(HostsConfig.DEFAULT_PER_SERVER_CONNECTION_BUDGET)
                .isEqualTo(50);
        assertThat(c.quarantineInitialBackoff()).isEqualTo(HostsConfig.DEFAULT_QUARANTINE_INITIAL_BACKOFF);
        assertThat(c.quarantineMaxBackoff()).isEqualTo(HostsConfig.DEFAULT_QUARANTINE_MAX_BACKOFF);
        assertThat(c.reconnectJitterBase()).isEqualTo(HostsConfig.DEFAULT_RECONNECT_JITTER_BASE);
        assertThat(c.reconnectJitterCap()).isEqualTo(HostsConfig.DEFAULT_RECONNECT_JITTER_CAP);
        assertThat(c.sessionCreationRate()).isEqualTo(HostsConfig.DEFAULT_SESSION_CREATION_RATE);
        assertThat(c.sessionCreationMaxWait()).isEqualTo(HostsConfig.DEFAULT_SESSION_CREATION_MAX_WAIT);
        assertThat(c.connectAttemptTimeout())
                .as("not set: the share of the session timeout applies")
                .isNull();
        assertThat(c.weights()).isEmpty();
        assertThat(c.weight("zk1:2181")).isEqualTo(HostsConfig.DEFAULT_WEIGHT);
    }

    @Test
    void toBuilderCopiesEverySetting() {
        Random random = new Random(1);
        TestClock clock = new TestClock();
        HostsConfig c = HostsConfig.builder()
                .weight("zk1:2181", 3)
                .perServerConnectionBudget(7)
                .quarantineInitialBackoff(Duration.ofMillis(10))
                .quarantineMaxBackoff(Duration.ofMillis(20))
                .reconnectJitterBase(Duration.ZERO)
                .reconnectJitterCap(Duration.ofMillis(5))
                .sessionCreationRate(2.5)
                .sessionCreationMaxWait(Duration.ZERO)
                .connectAttemptTimeout(Duration.ofMillis(1500))
                .random(random)
                .nanoClock(clock)
                .sleeper(clock)
                .build();
        HostsConfig copy = c.toBuilder().perServerConnectionBudget(8).build();
        assertThat(copy.weights()).containsEntry("zk1:2181", 3);
        assertThat(copy.perServerConnectionBudget()).isEqualTo(8);
        assertThat(copy.quarantineInitialBackoff()).isEqualTo(Duration.ofMillis(10));
        assertThat(copy.quarantineMaxBackoff()).isEqualTo(Duration.ofMillis(20));
        assertThat(copy.reconnectJitterBase()).isZero();
        assertThat(copy.reconnectJitterCap()).isEqualTo(Duration.ofMillis(5));
        assertThat(copy.sessionCreationRate()).isEqualTo(2.5);
        assertThat(copy.sessionCreationMaxWait()).isZero();
        assertThat(copy.connectAttemptTimeout()).isEqualTo(Duration.ofMillis(1500));
        assertThat(copy.random()).isSameAs(random);
        assertThat(copy.nanoClock()).isSameAs(clock);
        assertThat(copy.sleeper()).isSameAs(clock);
        assertThat(c.perServerConnectionBudget())
                .as("the original is unchanged")
                .isEqualTo(7);
    }

    @Test
    void weightKeysAreCanonicalHostPort() {
        HostsConfig c = HostsConfig.builder()
                .weight("ZK1.Example.COM:2181", 2)
                .weight("[::1]:2182", 0)
                .build();
        assertThat(c.weights()).containsOnlyKeys("zk1.example.com:2181", "[::1]:2182");
        assertThat(c.weight("zk1.example.com:2181")).isEqualTo(2);
        assertThat(c.weight("[0:0:0:0:0:0:0:1]:2182"))
                .as("a different spelling is a different name")
                .isEqualTo(1);
        assertThat(c.weight("[::1]:2182")).isZero();
    }

    @Test
    void badValuesAreRejectedNamingSettingAndValue() {
        HostsConfig.Builder b = HostsConfig.builder();
        assertThatThrownBy(() -> b.weight("zk1", 1))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("weight")
                .hasMessageContaining("'zk1'");
        assertThatThrownBy(() -> b.weight("zk1:99999", 1)).hasMessageContaining("'zk1:99999'");
        assertThatThrownBy(() -> b.weight("zk1:abc", 1)).hasMessageContaining("'zk1:abc'");
        assertThatThrownBy(() -> b.weight("[::1:2181", 1)).hasMessageContaining("'[::1:2181'");
        assertThatThrownBy(() -> b.weight("zk1:2181", -1))
                .hasMessageContaining("weight for zk1:2181")
                .hasMessageContaining("-1");
        assertThatThrownBy(() -> b.weight("zk1:2181", HostsConfig.MAX_WEIGHT + 1))
                .hasMessageContaining(String.valueOf(HostsConfig.MAX_WEIGHT + 1));
        assertThatThrownBy(() -> b.perServerConnectionBudget(0))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("perServerConnectionBudget must be >= 1, was 0");
        assertThatThrownBy(() -> b.quarantineInitialBackoff(Duration.ZERO))
                .hasMessageContaining("quarantineInitialBackoff")
                .hasMessageContaining("PT0S");
        assertThatThrownBy(() -> b.quarantineMaxBackoff(null))
                .hasMessageContaining("quarantineMaxBackoff")
                .hasMessageContaining("null");
        assertThatThrownBy(() -> b.reconnectJitterBase(Duration.ofMillis(-1)))
                .hasMessageContaining("reconnectJitterBase")
                .hasMessageContaining("PT-0.001S");
        assertThatThrownBy(() -> b.reconnectJitterCap(Duration.ofMillis(-1)))
                .hasMessageContaining("reconnectJitterCap");
        assertThatThrownBy(() -> b.sessionCreationRate(0))
                .hasMessageContaining("sessionCreationRate")
                .hasMessageContaining("0.0");
        assertThatThrownBy(() -> b.sessionCreationRate(Double.NaN)).hasMessageContaining("NaN");
        assertThatThrownBy(() -> b.sessionCreationRate(2_000_000)).hasMessageContaining("2000000.0");
        assertThatThrownBy(() -> b.sessionCreationMaxWait(Duration.ofSeconds(-1)))
                .hasMessageContaining("sessionCreationMaxWait");
        assertThatThrownBy(() -> b.connectAttemptTimeout(Duration.ZERO))
                .hasMessage("connectAttemptTimeout must be > 0, was PT0S");
        assertThatThrownBy(() -> b.connectAttemptTimeout(null)).hasMessageContaining("connectAttemptTimeout");
        assertThatThrownBy(() -> b.random(null)).hasMessageContaining("random");
        assertThatThrownBy(() -> b.nanoClock(null)).hasMessageContaining("nanoClock");
        assertThatThrownBy(() -> b.sleeper(null)).hasMessageContaining("sleeper");
        assertThatThrownBy(() -> b.weight(null, 1)).hasMessageContaining("null");
    }

    @Test
    void buildRejectsAMaximumBelowItsMinimum() {
        assertThatThrownBy(() -> HostsConfig.builder()
                        .quarantineInitialBackoff(Duration.ofSeconds(5))
                        .quarantineMaxBackoff(Duration.ofSeconds(1))
                        .build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("quarantineMaxBackoff (PT1S)")
                .hasMessageContaining("quarantineInitialBackoff (PT5S)");
        assertThatThrownBy(() -> HostsConfig.builder()
                        .reconnectJitterBase(Duration.ofSeconds(3))
                        .reconnectJitterCap(Duration.ofSeconds(1))
                        .build())
                .hasMessageContaining("reconnectJitterCap (PT1S)")
                .hasMessageContaining("reconnectJitterBase (PT3S)");
        assertThatThrownBy(() ->
                        HostsConfig.builder().clientZone("eu-1a").noRebalance().build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("clientZone (eu-1a)")
                .hasMessageContaining("noRebalance()");
    }

    @Test
    void rebalancingIsOnByDefaultCanBeSetAndTurnedOffAndRejectsABadInterval() {
        assertThat(HostsConfig.defaults().rebalanceInterval()).isEqualTo(HostsConfig.DEFAULT_REBALANCE_INTERVAL);
        HostsConfig set = HostsConfig.builder().rebalance(Duration.ofSeconds(7)).build();
        assertThat(set.rebalanceInterval()).isEqualTo(Duration.ofSeconds(7));
        assertThat(set.toBuilder().build().rebalanceInterval()).isEqualTo(Duration.ofSeconds(7));
        assertThat(set.toString()).contains("rebalanceInterval=PT7S");
        HostsConfig off = set.toBuilder().noRebalance().build();
        assertThat(off.rebalanceInterval()).isNull();
        assertThat(off.toString()).contains("rebalanceInterval=off");
        HostsConfig.Builder b = HostsConfig.builder();
        assertThatThrownBy(() -> b.rebalance(Duration.ZERO))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("rebalance must be > 0, was PT0S");
        assertThatThrownBy(() -> b.rebalance(Duration.ofMillis(-5))).hasMessage("rebalance must be > 0, was PT-0.005S");
        assertThatThrownBy(() -> b.rebalance(null)).hasMessage("rebalance must be > 0, was null");
    }

    @Test
    void zonesAreSetPerServerAndRejectBlankNamesAndABadLifetime() {
        HostsConfig none = HostsConfig.defaults();
        assertThat(none.clientZone()).isNull();
        assertThat(none.inClientZone("zk1:2181"))
                .as("no client zone: every server is in it")
                .isTrue();
        assertThat(none.fallbackSessionLifetime()).isEqualTo(HostsConfig.DEFAULT_FALLBACK_SESSION_LIFETIME);
        HostsConfig zoned = HostsConfig.builder()
                .clientZone("eu-1a")
                .serverZone("ZK1:2181", "eu-1a")
                .serverZone("zk2:2181", "eu-1b")
                .fallbackSessionLifetime(Duration.ofMinutes(3))
                .build();
        assertThat(zoned.inClientZone("zk1:2181")).isTrue();
        assertThat(zoned.inClientZone("zk2:2181")).isFalse();
        assertThat(zoned.inClientZone("zk3:2181"))
                .as("a server without a zone is outside the client's")
                .isFalse();
        assertThat(zoned.toBuilder().build().serverZones()).isEqualTo(zoned.serverZones());
        assertThat(zoned.toString()).contains("clientZone=eu-1a").contains("fallbackSessionLifetime=PT3M");
        HostsConfig.Builder b = HostsConfig.builder();
        assertThatThrownBy(() -> b.clientZone(" ")).hasMessage("clientZone must not be blank, was ' '");
        assertThatThrownBy(() -> b.clientZone(null)).hasMessage("clientZone must not be blank, was null");
        assertThatThrownBy(() -> b.serverZone("zk1:2181", ""))
                .hasMessage("serverZone for zk1:2181 must not be blank, was ''");
        assertThatThrownBy(() -> b.serverZone("zk1", "a")).hasMessageContaining("serverZone");
        assertThatThrownBy(() -> b.fallbackSessionLifetime(Duration.ZERO))
                .hasMessage("fallbackSessionLifetime must be > 0, was PT0S");
    }
}
