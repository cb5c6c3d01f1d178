package dev.zksdk.cache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.github.benmanes.caffeine.cache.Ticker;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class CacheConfigTest {

    @Test
    void defaultsAreTheDocumentedConstants() {
        CacheConfig c = CacheConfig.defaults();
        assertThat(c.maximumSize()).isEqualTo(CacheConfig.DEFAULT_MAXIMUM_SIZE);
        assertThat(c.maxDisconnectedStaleness()).isEqualTo(CacheConfig.DEFAULT_MAX_DISCONNECTED_STALENESS);
        assertThat(c.recordStats()).isEqualTo(CacheConfig.DEFAULT_RECORD_STATS).isTrue();
        assertThat(c.ticker()).isSameAs(Ticker.systemTicker());
    }

    @Test
    void badValuesAreRefusedNamingTheSettingAndTheValue() {
        assertThatThrownBy(() -> CacheConfig.builder().maximumSize(0))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("maximumSize")
                .hasMessageContaining("0");
        assertThatThrownBy(() -> CacheConfig.builder().maxDisconnectedStaleness(Duration.ofSeconds(-1)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("maxDisconnectedStaleness")
                .hasMessageContaining("PT-1S");
        assertThatThrownBy(() -> CacheConfig.builder().maxDisconnectedStaleness(null))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("maxDisconnectedStaleness");
        assertThatThrownBy(() -> CacheConfig.builder().ticker(null))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("ticker");
    }

    @Test
    void toBuilderKeepsEverySetting() {
        Ticker ticker = () -> 42;
        CacheConfig c = CacheConfig.builder()
                .maximumSize(7)
                .maxDisconnectedStaleness(Duration.ZERO)
                .recordStats(false)
                .ticker(ticker)
                .build();
        CacheConfig copy = c.toBuilder().build();
        assertThat(copy.maximumSize()).isEqualTo(7);
        assertThat(copy.maxDisconnectedStaleness()).isEqualTo(Duration.ZERO);
        assertThat(copy.recordStats()).isFalse();
        assertThat(copy.ticker()).isSameAs(ticker);
        assertThat(c.toString()).contains("maximumSize=7").contains("PT0S");
    }
}
