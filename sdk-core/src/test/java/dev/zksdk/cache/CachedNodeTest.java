package dev.zksdk.cache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import org.apache.zookeeper.data.Stat;
import org.junit.jupiter.api.Test;

class CachedNodeTest {

    @Test
    void aCachedNodeCannotBeChangedThroughWhatItHandsOut() {
        byte[] data = "secret".getBytes(StandardCharsets.UTF_8);
        Stat stat = new Stat(1, 2, 3, 4, 5, 6, 7, 0, data.length, 0, 2);
        CachedNode node = new CachedNode("/a", data, stat);
        data[0] = 'X';
        stat.setVersion(99);
        node.data()[0] = 'Y';
        node.stat().setVersion(98);

        assertThat(new String(node.data(), StandardCharsets.UTF_8)).isEqualTo("secret");
        assertThat(node.version()).isEqualTo(5);
        assertThat(node.stat().getVersion()).isEqualTo(5);
        assertThat(node.modifiedZxid()).isEqualTo(2);
        assertThat(node.dataLength()).isEqualTo(6);
        assertThat(node)
                .isEqualTo(new CachedNode(
                        "/a", "secret".getBytes(StandardCharsets.UTF_8), new Stat(1, 2, 3, 4, 5, 6, 7, 0, 6, 0, 2)));
        assertThat(node.toString()).contains("/a").contains("version 5").doesNotContain("secret");
        assertThat(new CachedNode("/b", null, stat).dataLength()).isZero();
        assertThatThrownBy(() -> new CachedNode(null, data, stat))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("path");
    }
}
