package dev.zksdk.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Free loopback ports below the kernel's ephemeral range, for servers that are stopped and restarted on the same
 * port. A port the kernel hands out with {@code new ServerSocket(0)} is also one it may give to an outgoing
 * connection (a member's election connection, a client's socket) while its server is down, and the restarted server
 * then fails to bind it ({@code Address already in use}). No outgoing connection gets a local port below the
 * ephemeral range, so one chosen there is still free when its server comes back, unless another test took it.
 *
 * <p>The same holds for a server's first start: Curator's {@code InstanceSpec} with port {@code -1} draws from the
 * ephemeral range, and an in-process server that then fails to bind makes ZooKeeper's embedded runner exit the whole
 * test JVM (exit code 2), taking every other test of that JVM with it. In-process servers take {@link #take()} ports.
 */
public final class FreePorts {
    /** The lowest port chosen: above every well-known and registered service a test machine may run. */
    static final int LOWEST = 10_000;

    private static final int ATTEMPTS = 200;
    /** The number of the test JVM among those running at once (1, 2, ...), set by the build; absent: the whole range. */
    static final String FORK_PROPERTY = "zksdk.test.forkNumber";
    /** Slices of the range for forks running at once. */
    private static final int SLICES = 8;

    private static final Path EPHEMERAL_RANGE = Path.of("/proc/sys/net/ipv4/ip_local_port_range");
    /** Ports handed out lately in this JVM, not handed out again: a port is free until its server binds it. */
    private static final int REMEMBERED = 512;

    private static final Deque<Integer> recentOrder = new ArrayDeque<>();
    private static final Set<Integer> recent = new HashSet<>();

    private FreePorts() {}

    /**
     * A port free on every address now, below the ephemeral range where that is known, and not one handed out lately
     * in this JVM, for a server started soon after.
     *
     * @return the port
     * @throws UncheckedIOException if no port could be bound
     */
    public static int take() {
        try (ServerSocket socket = bind(null)) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException("could not find a free port", e);
        }
    }

    /**
     * Binds a free port on {@code address}, below the ephemeral range where the range is known and leaves room, and
     * returns the bound socket: the caller holds it until it hands the port on.
     *
     * @param address the address to bind, or {@code null} for every address
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
                if (!remember(port)) {
                    continue;
                }
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

    /** Remembers {@code port} as handed out; false if it was handed out lately. */
    private static synchronized boolean remember(int port) {
        if (!recent.add(port)) {
            return false;
        }
        recentOrder.addLast(port);
        if (recentOrder.size() > REMEMBERED) {
            recent.remove(recentOrder.removeFirst());
        }
        return true;
    }

    /** The first port of the ephemeral range, or {@link #LOWEST} where it cannot be read (then the kernel chooses). */
    static int ephemeralLow() {
        try {
            // Not Files.readString: on JDK 17 it returns only the first character of this /proc file ("3"), whose
            // size the kernel reports as 0, and every port was then the kernel's choice, inside the ephemeral range.
            List<String> lines = Files.readAllLines(EPHEMERAL_RANGE, StandardCharsets.US_ASCII);
            return Integer.parseInt(lines.get(0).trim().split("\\s+")[0]);
        } catch (IOException | RuntimeException unreadable) {
            return LOWEST;
        }
    }
}
