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
        spread.moved(new Object(), "127.0.0.1:1"); // a session of the pool is open
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

    /**
     * The watch follows its pool's settings, so it ends with the pool, and what it added to the quarantine ends too:
     * a pool still open meets the server with its own settings (Review21g: a closed pool's watch, alive 5 s after
     * close, kept a thawed member from the next pool for 25.7 s with its 30 s maximum).
     */
    @Test
    void theWatchEndsWithItsPoolAndWhatItAddedEndsToo() throws Exception {
        SessionSpread spread = SessionSpread.ofPool(HostsConfig.builder()
                .quarantineMaxBackoff(Duration.ofSeconds(30))
                .build());
        Object session = new Object();
        spread.moved(session, "127.0.0.1:1");
        try (ServerSocket frozen = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            String key = "127.0.0.1:" + frozen.getLocalPort();
            InetSocketAddress address = new InetSocketAddress(InetAddress.getLoopbackAddress(), frozen.getLocalPort());
            spread.quarantineSilent(key, address, new ZKClientConfig(), Duration.ofSeconds(1));
            await("the watch extended the quarantine")
                    .atMost(Duration.ofSeconds(10))
                    .until(() -> {
                        Duration left = spread.stats().quarantined().get(key);
                        return left != null && left.compareTo(Duration.ofMillis(1500)) > 0;
                    });
            spread.remove(session); // the pool closed
            await("the quarantine it added over").atMost(Duration.ofSeconds(3)).until(() -> !spread.isQuarantined(key));
            await("the watch thread gone")
                    .atMost(Duration.ofSeconds(3))
                    .until(() -> Thread.getAllStackTraces().keySet().stream()
                            .noneMatch(t -> t.getName().equals("zksdk-hung-watch-" + key)));
        }
    }
}
