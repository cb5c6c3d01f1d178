package dev.zksdk.internal.session;

import static org.assertj.core.api.Assertions.assertThat;

import dev.zksdk.internal.ServerLiveness;
import dev.zksdk.internal.ServerLiveness.Liveness;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import org.apache.zookeeper.client.ZKClientConfig;
import org.junit.jupiter.api.Test;

/**
 * How the hung-server check reads the out-of-band {@code srvr} it sends before dropping a silent connection: what a
 * live process does (answers, refuses the word, closes or resets the connection) against what a hung one does
 * (accepts in the kernel's backlog and never answers) and a process gone (refused). Real sockets on the loopback
 * stand for the server's side of the exchange; the verdict on a real paused ZooKeeper server is
 * {@code Review15AdversarialIT}'s and {@code HungServerIT}'s.
 */
class HungServerProbeTest {

    static final int TIMEOUT_MS = 500;

    static InetSocketAddress address(ServerSocket s) {
        return new InetSocketAddress(InetAddress.getLoopbackAddress(), s.getLocalPort());
    }

    static ServerSocket listen() throws Exception {
        return new ServerSocket(0, 10, InetAddress.getLoopbackAddress());
    }

    /** Serves one connection on a thread: {@code reply} then close, or a reset when {@code reply} is null. */
    static Thread serveOnce(ServerSocket server, String reply) {
        Thread t = new Thread(() -> {
            try (Socket s = server.accept()) {
                if (reply == null) {
                    s.setSoLinger(true, 0); // close with RST
                    return;
                }
                OutputStream out = s.getOutputStream();
                out.write(reply.getBytes(StandardCharsets.UTF_8));
                out.flush();
            } catch (Exception e) {
                // the test's assertion tells
            }
        });
        t.setDaemon(true);
        t.start();
        return t;
    }

    @Test
    void anAnswerOrARefusalOfTheWordIsALiveProcess() throws Exception {
        try (ServerSocket server = listen()) {
            serveOnce(server, "Zookeeper version: 3.9.4\nMode: follower\n");
            assertThat(ServerLiveness.probe(new ZKClientConfig(), address(server), TIMEOUT_MS))
                    .isEqualTo(Liveness.ALIVE);
            serveOnce(server, "srvr is not executed because it is not in the whitelist.\n");
            assertThat(ServerLiveness.probe(new ZKClientConfig(), address(server), TIMEOUT_MS))
                    .isEqualTo(Liveness.ALIVE);
        }
    }

    @Test
    void aConnectionClosedOrResetByTheServerIsALiveProcess() throws Exception {
        try (ServerSocket server = listen()) {
            serveOnce(server, ""); // closed at once, as over maxClientCnxns
            assertThat(ServerLiveness.probe(new ZKClientConfig(), address(server), TIMEOUT_MS))
                    .isEqualTo(Liveness.ALIVE);
            serveOnce(server, null);
            assertThat(ServerLiveness.probe(new ZKClientConfig(), address(server), TIMEOUT_MS))
                    .isEqualTo(Liveness.ALIVE);
        }
    }

    @Test
    void aConnectionAcceptedAndNeverAnsweredIsNoAnswer() throws Exception {
        try (ServerSocket server = listen()) { // never accepts: the kernel completes the handshake, nobody reads
            long start = System.nanoTime();
            assertThat(ServerLiveness.probe(new ZKClientConfig(), address(server), TIMEOUT_MS))
                    .isEqualTo(Liveness.NO_ANSWER);
            assertThat((System.nanoTime() - start) / 1_000_000)
                    .as("given up at its timeout")
                    .isGreaterThanOrEqualTo(TIMEOUT_MS - 50);
        }
    }

    @Test
    void aRefusedConnectionIsAProcessGone() throws Exception {
        InetSocketAddress closed;
        try (ServerSocket server = listen()) {
            closed = address(server);
        }
        assertThat(ServerLiveness.probe(new ZKClientConfig(), closed, TIMEOUT_MS))
                .isEqualTo(Liveness.GONE);
    }
}
