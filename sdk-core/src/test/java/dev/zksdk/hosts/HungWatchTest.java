package dev.zksdk.hosts;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.time.Duration;
import org.apache.zookeeper.client.ZKClientConfig;
import org.junit.jupiter.api.Test;

/**
 * A server left as hung stays quarantined while it answers nothing ({@link SessionSpread#watchHung}), against a real
 * socket: a listening socket that never accepts is a frozen process to a client (its connect completes in the kernel's
 * backlog, nothing is ever read), a closed port is a process gone.
 */
class HungWatchTest {

    @Test
    void aServerThatAnswersNothingStaysQuarantinedUntilItIsGone() throws Exception {
        SessionSpread spread = SessionSpread.ofPool(HostsConfig.builder()
                .quarantineMaxBackoff(Duration.ofSeconds(5))
                .build());
        ServerSocket frozen = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        String key = "127.0.0.1:" + frozen.getLocalPort();
        InetSocketAddress address = new InetSocketAddress(InetAddress.getLoopbackAddress(), frozen.getLocalPort());
        try {
            long start = System.nanoTime();
            spread.quarantineSilent(key, address, new ZKClientConfig(), Duration.ofSeconds(1));
            // Without the watch the quarantine ends 1 s after the start; with it, each probe that gets no answer
            // pushes the end further out.
            await("the quarantine extended past 2.5 s from the start")
                    .atMost(Duration.ofSeconds(10))
                    .until(() -> {
                        Duration left = spread.stats().quarantined().get(key);
                        return left != null
                                && System.nanoTime() - start + left.toNanos()
                                        > Duration.ofMillis(2500).toNanos();
                    });
        } finally {
            frozen.close();
        }
        // The process gone (connection refused): the watch ends and the quarantine with it, at most its bound later.
        await("the quarantine over once the port is closed")
                .atMost(Duration.ofSeconds(12))
                .until(() -> !spread.isQuarantined(key));
        assertThat(spread.isQuarantined(key)).isFalse();
    }
}
