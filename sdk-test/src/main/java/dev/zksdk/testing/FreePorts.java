package dev.zksdk.testing;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Free loopback ports below the kernel's ephemeral range, for servers that are stopped and restarted on the same
 * port. A port the kernel hands out with {@code new ServerSocket(0)} is also one it may give to an outgoing
 * connection (a member's election connection, a client's socket) while its server is down, and the restarted server
 * then fails to bind it ({@code Address already in use}). No outgoing connection gets a local port below the
 * ephemeral range, so one chosen there is still free when its server comes back, unless another test took it.
 */
final class FreePorts {
    /** The lowest port chosen: above every well-known and registered service a test machine may run. */
    static final int LOWEST = 10_000;

    private static final int ATTEMPTS = 200;
    /** The number of the test JVM among those running at once (1, 2, ...), set by the build; absent: the whole range. */
    static final String FORK_PROPERTY = "zksdk.test.forkNumber";
    /** Slices of the range for forks running at once. */
    private static final int SLICES = 8;

    private static final Path EPHEMERAL_RANGE = Path.of("/proc/sys/net/ipv4/ip_local_port_range");

    private FreePorts() {}

    /**
     * Binds a free port on {@code address}, below the ephemeral range where the range is known and leaves room, and
     * returns the bound socket: the caller holds it until it hands the port on.
     *
     * @param address the address to bind
     * @return the bound socket
     * @throws IOException if no port could be bound
     */
    static ServerSocket bind(InetAddress address) throws IOException {
        int below = ephemeralLow();
        if (below - LOWEST >= 1_000) {
            // Test JVMs running side by side (failsafe's forks, numbered in FORK_PROPERTY) take ports from slices of
            // their own: a server stopped in one JVM keeps its port free for its restart, where another JVM choosing
            // at random could have taken it meanwhile.
            int low = LOWEST;
            int high = below;
            int fork = Integer.getInteger(FORK_PROPERTY, 0);
            if (fork > 0) {
                int slice = (below - LOWEST) / SLICES;
                low = LOWEST + slice * ((fork - 1) % SLICES);
                high = low + slice;
            }
            for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
                int port = ThreadLocalRandom.current().nextInt(low, high);
                ServerSocket socket = new ServerSocket();
                try {
                    socket.bind(new InetSocketAddress(address, port), 1);
                    return socket;
                } catch (IOException taken) {
                    socket.close();
                }
            }
        }
        return new ServerSocket(0, 1, address);
    }

    /** The first port of the ephemeral range, or {@link #LOWEST} where it cannot be read (then the kernel chooses). */
    private static int ephemeralLow() {
        try {
            String[] range = Files.readString(EPHEMERAL_RANGE, StandardCharsets.US_ASCII)
                    .trim()
                    .split("\\s+");
            return Integer.parseInt(range[0]);
        } catch (IOException | RuntimeException unreadable) {
            return LOWEST;
        }
    }
}
