package dev.zksdk.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import org.apache.zookeeper.ZooKeeper;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

/**
 * The connection count against an independent one: a plain listening socket (no ZooKeeper server) that accepts every
 * connection and closes it at once, so a ZooKeeper client connects, loses the connection and tries again, round after
 * round. Once the client is closed and its threads are gone, the socket has accepted exactly as many connections as
 * were counted.
 */
class ConnectCounterTest {

    private static final Duration WAIT = Duration.ofSeconds(20);

    @Test
    void countsExactlyTheConnectionsTheServerSideAccepted() throws Exception {
        ConnectCounter.install();
        ConnectCounter.install(); // a second install must not count anything twice
        assertThat(ConnectCounter.installed()).isTrue();

        try (AcceptAndClose server = new AcceptAndClose()) {
            AtomicLong own = new AtomicLong();
            long totalBefore = ConnectCounter.total();
            ZooKeeper zk;
            // The client's send thread is created here and inherits the owner: its connections count there.
            ConnectCounter.setOwner(own);
            try {
                zk = new ZooKeeper(server.connectString(), 10_000, event -> {});
            } finally {
                ConnectCounter.clearOwner();
            }
            try {
                await(() -> server.accepted() >= 3, "three connections accepted");
            } finally {
                zk.close();
            }
            ConnectBenchmark.awaitNoClientThreads();
            await(() -> server.accepted() >= own.get(), "the last connection accepted");

            assertThat(own.get()).isGreaterThanOrEqualTo(3).isEqualTo(server.accepted());
            assertThat(ConnectCounter.total() - totalBefore).isEqualTo(own.get());
        }
    }

    private static void await(BooleanSupplier condition, String what) {
        Awaitility.await(what).atMost(WAIT).pollInterval(Duration.ofMillis(20)).until(condition::getAsBoolean);
    }

    /** Accepts every connection on a loopback port, counts it and closes it. */
    private static final class AcceptAndClose implements AutoCloseable {

        private final ServerSocket socket = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        private final AtomicLong accepted = new AtomicLong();
        private final Thread acceptor = new Thread(this::acceptAll, "accept-and-close");

        AcceptAndClose() throws IOException {
            acceptor.setDaemon(true);
            acceptor.start();
        }

        private void acceptAll() {
            while (!socket.isClosed()) {
                try (Socket s = socket.accept()) {
                    accepted.incrementAndGet();
                } catch (IOException e) {
                    // the socket was closed: the loop ends
                }
            }
        }

        String connectString() {
            return "127.0.0.1:" + socket.getLocalPort();
        }

        long accepted() {
            return accepted.get();
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }
}
