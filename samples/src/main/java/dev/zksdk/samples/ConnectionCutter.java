package dev.zksdk.samples;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.BindException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.netcrusher.NetCrusherException;
import org.netcrusher.core.reactor.NioReactor;
import org.netcrusher.tcp.TcpCrusher;
import org.netcrusher.tcp.TcpCrusherBuilder;

/**
 * A TCP proxy (NetCrusher) on 127.0.0.1 in front of each server of an ensemble, so that the demo can drop every
 * client connection at once, as a NAT timeout, a firewall reset or a load balancer restart does: the servers keep the
 * sessions, the clients see their sockets closed and reconnect. Connections to a server that is down are accepted and
 * closed at once, which a ZooKeeper client treats like a refused connection. The soak also freezes the proxies, a
 * silent network shorter or longer than the session timeout.
 *
 * <p>Thread-safe. {@link #close()} closes every proxied connection and the proxies' threads.
 */
final class ConnectionCutter implements AutoCloseable {

    private static final String LOOPBACK = "127.0.0.1";
    private static final int BIND_ATTEMPTS = 5;

    private final NioReactor reactor;
    private final List<TcpCrusher> crushers = new ArrayList<>();
    /** Proxy address ({@code 127.0.0.1:port}) to the server behind it ({@code host:port}), in connect-string order. */
    private final Map<String, String> targets = new LinkedHashMap<>();

    /**
     * Opens one proxy per server.
     *
     * @param servers {@code host:port} entries, IPv6 hosts in brackets
     * @throws UncheckedIOException when no local port can be bound
     */
    ConnectionCutter(List<String> servers) {
        try {
            reactor = new NioReactor();
        } catch (IOException e) {
            throw new UncheckedIOException("could not start the proxy's reactor", e);
        }
        try {
            for (String server : servers) {
                int colon = server.lastIndexOf(':');
                String host = server.substring(0, colon);
                if (host.startsWith("[") && host.endsWith("]")) {
                    host = host.substring(1, host.length() - 1);
                }
                int port = Integer.parseInt(server.substring(colon + 1));
                TcpCrusher crusher = open(host, port);
                crushers.add(crusher);
                targets.put(LOOPBACK + ":" + crusher.getBindAddress().getPort(), server);
            }
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    private TcpCrusher open(String host, int port) {
        // NetCrusher reports the configured bind address, not the bound one, so a free port is chosen first; another
        // process may take it in between, hence the retries.
        RuntimeException last = null;
        for (int attempt = 0; attempt < BIND_ATTEMPTS; attempt++) {
            try {
                return TcpCrusherBuilder.builder()
                        .withReactor(reactor)
                        .withBindAddress(LOOPBACK, freePort())
                        .withConnectAddress(host, port)
                        .buildAndOpen();
            } catch (NetCrusherException e) {
                if (!(rootCause(e) instanceof BindException)) {
                    throw e;
                }
                last = e;
            }
        }
        throw new UncheckedIOException("could not bind a proxy port on " + LOOPBACK, new IOException(last));
    }

    /** The connect string through the proxies, with {@code chroot} appended when not null. */
    String connectString(String chroot) {
        return String.join(",", targets.keySet()) + (chroot == null ? "" : chroot);
    }

    /** The server behind a proxy address; other addresses are returned as they are. */
    String target(String proxyAddress) {
        return targets.getOrDefault(proxyAddress, proxyAddress);
    }

    /** {@code 127.0.0.1:p1 -> server1, ...}, for messages. */
    String describe() {
        return targets.entrySet().stream()
                .map(e -> e.getKey() + " -> " + e.getValue())
                .collect(Collectors.joining(", "));
    }

    /** Closes every proxied connection now; new connections are accepted as before. Returns how many were open. */
    int cutAll() {
        int open = 0;
        for (TcpCrusher crusher : crushers) {
            open += crusher.getClientAddresses().size();
            crusher.closeAllPairs();
        }
        return open;
    }

    /**
     * Silences the network: every proxy stops moving bytes on its connections and stops accepting new ones, so the
     * clients hear nothing until {@link #unfreezeAll()} (what they sent meanwhile is delivered then).
     */
    void freezeAll() {
        for (TcpCrusher crusher : crushers) {
            crusher.freeze();
        }
    }

    /** Ends {@link #freezeAll()}: bytes flow again and new connections are accepted. */
    void unfreezeAll() {
        for (TcpCrusher crusher : crushers) {
            if (crusher.isFrozen()) {
                crusher.unfreeze();
            }
        }
    }

    @Override
    public void close() {
        for (TcpCrusher crusher : crushers) {
            crusher.close();
        }
        reactor.close();
    }

    private static int freePort() {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getByName(LOOPBACK))) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException("could not find a free port on " + LOOPBACK, e);
        }
    }

    private static Throwable rootCause(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        return t;
    }
}
