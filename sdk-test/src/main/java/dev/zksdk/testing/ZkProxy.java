package dev.zksdk.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.BindException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.netcrusher.NetCrusherException;
import org.netcrusher.core.filter.TransformFilter;
import org.netcrusher.core.filter.TransformFilterFactory;
import org.netcrusher.core.reactor.NioReactor;
import org.netcrusher.core.throttle.Throttler;
import org.netcrusher.core.throttle.rate.ByteRateThrottler;
import org.netcrusher.tcp.TcpCrusher;
import org.netcrusher.tcp.TcpCrusherBuilder;

/**
 * A TCP proxy (NetCrusher) on a free 127.0.0.1 port in front of one ZooKeeper server, for network faults between
 * a client and that server. Point the client at {@link #connectString()}.
 *
 * <p>{@link #freeze()} is a silent network: the proxy stops moving bytes in both directions on existing
 * connections and stops accepting new ones (the kernel still completes TCP handshakes into the listen backlog,
 * so a client connects but never hears back). Nothing is lost: what was sent while frozen is delivered after
 * {@link #unfreeze()}. A client that gives up during the freeze closes its socket; the proxy notices only once
 * unfrozen. {@link #closeAllConnections()} is an abrupt disconnect: every proxied connection is closed, the
 * listening socket stays open, so the client can reconnect at once.
 *
 * <p>{@link #blackholeNextConnections(int)} makes the next connections hang: accepted, but nothing sent on them
 * reaches the server and nothing comes back, as with a server that accepts a connection and never reads it (a
 * stopped process behind a load balancer, or ZooKeeper's own start-up race ZOOKEEPER-5051, where a connection closed
 * before the server loaded its database is left open and never answered).
 *
 * <p>{@link #latency(Duration)} slows the link down without stopping it: every chunk of bytes, in either
 * direction, is held back for about that long before it is passed on (the reactor's timer ticks every 20 ms, so
 * the delay is rounded up to a tick, and under a steady stream of chunks a chunk may wait up to about twice as long).
 * Order is kept and nothing is lost.
 *
 * <p>Thread-safe. Each proxy has its own reactor (two threads), released by {@link #close()}.
 */
public final class ZkProxy implements AutoCloseable {

    private static final String LOOPBACK = "127.0.0.1";
    private static final int BIND_ATTEMPTS = 5;

    private final String target;
    private final NioReactor reactor;
    private final TcpCrusher crusher;
    private final int port;
    private final Blackhole blackhole;
    private final Latency latency;
    private final Bandwidth bandwidth;

    private ZkProxy(
            String target,
            NioReactor reactor,
            TcpCrusher crusher,
            int port,
            Blackhole blackhole,
            Latency latency,
            Bandwidth bandwidth) {
        this.target = target;
        this.reactor = reactor;
        this.crusher = crusher;
        this.port = port;
        this.blackhole = blackhole;
        this.latency = latency;
        this.bandwidth = bandwidth;
    }

    /** A byte rate for each direction of every connection, read as each chunk is queued; 0 = unlimited. */
    private static final class Bandwidth {
        private volatile long bytesPerSecond;

        /** One connection's one direction: the latency, and NetCrusher's byte-rate throttle while a rate is set. */
        Throttler throttler(Latency latency) {
            return new Throttler() {
                private long rate;
                private ByteRateThrottler byRate;

                @Override
                public long calculateDelayNs(ByteBuffer buffer) {
                    long r = bytesPerSecond;
                    long delay = latency.calculateDelayNs(buffer);
                    if (r <= 0) {
                        byRate = null;
                        return delay;
                    }
                    if (byRate == null || r != rate) {
                        rate = r;
                        byRate = new ByteRateThrottler(r, 1, TimeUnit.SECONDS);
                    }
                    long paced = byRate.calculateDelayNs(buffer);
                    return Math.max(delay, paced);
                }
            };
        }
    }

    /** A delay for every chunk, read at the moment the chunk is queued, so that it can change at any time. */
    private static final class Latency implements Throttler {
        private volatile long nanos;

        @Override
        public long calculateDelayNs(ByteBuffer buffer) {
            long delay = nanos;
            return delay > 0 ? delay : Throttler.NO_DELAY_NS;
        }
    }

    /**
     * Decides once per connection (by the client's address) whether it is black-holed, and drops every byte of
     * those in both directions.
     */
    private static final class Blackhole {
        private final AtomicInteger armed = new AtomicInteger();
        private final AtomicInteger swallowed = new AtomicInteger();
        private final ConcurrentMap<InetSocketAddress, Boolean> decided = new ConcurrentHashMap<>();

        private static final TransformFilter DROP = buffer -> buffer.position(buffer.limit());

        TransformFilterFactory filters() {
            return client -> decided.computeIfAbsent(client, c -> {
                        boolean swallow = armed.getAndUpdate(n -> n > 0 ? n - 1 : 0) > 0;
                        if (swallow) {
                            swallowed.incrementAndGet();
                        }
                        return swallow;
                    })
                    ? DROP
                    : TransformFilter.NOOP;
        }
    }

    /**
     * Opens a proxy to {@code hostPort}, accepting connections at once.
     *
     * @param hostPort the server's client address, {@code host:port}
     * @return the open proxy; close it to stop it
     * @throws IllegalArgumentException if {@code hostPort} is not {@code host:port}
     * @throws UncheckedIOException if no local port can be bound
     */
    public static ZkProxy to(String hostPort) {
        FourLetterWords.HostPort targetAddress = FourLetterWords.HostPort.parse("hostPort", hostPort);
        NioReactor reactor;
        try {
            reactor = new NioReactor();
        } catch (IOException e) {
            throw new UncheckedIOException("could not open a NetCrusher reactor", e);
        }
        // NetCrusher reports the configured bind address, not the bound one, so the port is chosen first; another
        // process may take it in between, hence the retries.
        RuntimeException lastFailure = null;
        Blackhole blackhole = new Blackhole();
        Latency latency = new Latency();
        Bandwidth bandwidth = new Bandwidth();
        for (int attempt = 0; attempt < BIND_ATTEMPTS; attempt++) {
            int port = freePort();
            try {
                TcpCrusher crusher = TcpCrusherBuilder.builder()
                        .withReactor(reactor)
                        .withBindAddress(LOOPBACK, port)
                        .withConnectAddress(targetAddress.host(), targetAddress.port())
                        .withOutgoingTransformFilterFactory(blackhole.filters())
                        .withIncomingTransformFilterFactory(blackhole.filters())
                        .withOutgoingThrottlerFactory(client -> bandwidth.throttler(latency))
                        .withIncomingThrottlerFactory(client -> bandwidth.throttler(latency))
                        .buildAndOpen();
                return new ZkProxy(hostPort, reactor, crusher, port, blackhole, latency, bandwidth);
            } catch (NetCrusherException e) {
                if (!causedByBindFailure(e)) {
                    reactor.close();
                    throw e;
                }
                lastFailure = e;
            }
        }
        reactor.close();
        throw new UncheckedIOException(
                "could not bind a proxy port after " + BIND_ATTEMPTS + " attempts", new IOException(lastFailure));
    }

    /**
     * The address clients use: {@code 127.0.0.1:<proxy port>}.
     *
     * @return the proxy's address, {@code host:port}
     */
    public String connectString() {
        return LOOPBACK + ":" + port;
    }

    /**
     * The local port the proxy listens on; it stays the same for the proxy's life.
     *
     * @return the port
     */
    public int port() {
        return port;
    }

    /**
     * The proxied server, {@code host:port}.
     *
     * @return the server's address
     */
    public String target() {
        return target;
    }

    /** Stops all traffic through the proxy and stops accepting connections. Idempotent. */
    public synchronized void freeze() {
        if (!crusher.isFrozen()) {
            crusher.freeze();
        }
    }

    /** Lets traffic flow again, delivering what queued up while frozen. Idempotent. */
    public synchronized void unfreeze() {
        if (crusher.isFrozen()) {
            crusher.unfreeze();
        }
    }

    /**
     * The next {@code count} connections the proxy accepts hang: nothing sent on them reaches the server and nothing
     * comes back, until the client gives up on them. Later connections pass as usual.
     *
     * @param count how many connections to black-hole
     */
    public void blackholeNextConnections(int count) {
        if (count < 0) {
            throw new IllegalArgumentException("count must not be negative, was " + count);
        }
        blackhole.armed.set(count);
    }

    /**
     * Holds back every chunk of bytes, in both directions, for about {@code oneWay} before passing it on (see the
     * class comment for how exact that is); {@link Duration#ZERO} passes bytes at once again. Applies to bytes
     * read from now on, on existing and new connections.
     *
     * @param oneWay the delay in each direction, zero or more
     * @throws IllegalArgumentException if {@code oneWay} is null or negative
     */
    public void latency(Duration oneWay) {
        if (oneWay == null || oneWay.isNegative()) {
            throw new IllegalArgumentException("oneWay latency must be zero or positive, was " + oneWay);
        }
        latency.nanos = oneWay.toNanos();
    }

    /**
     * Limits each direction of every connection to {@code bytesPerSecond} (NetCrusher's byte-rate throttle): a large
     * answer then arrives in chunks over a while, as on a slow link. 0 lifts the limit. Applies to bytes read from now
     * on, on existing and new connections.
     *
     * @param bytesPerSecond the rate, 0 for unlimited
     * @throws IllegalArgumentException if {@code bytesPerSecond} is negative
     */
    public void bandwidth(long bytesPerSecond) {
        if (bytesPerSecond < 0) {
            throw new IllegalArgumentException("bytesPerSecond must be zero or positive, was " + bytesPerSecond);
        }
        bandwidth.bytesPerSecond = bytesPerSecond;
    }

    /**
     * The current one-way latency; {@link Duration#ZERO} unless {@link #latency(Duration)} set one.
     *
     * @return the one-way delay
     */
    public Duration latency() {
        return Duration.ofNanos(latency.nanos);
    }

    /**
     * How many connections have been black-holed so far.
     *
     * @return the number of connections black-holed
     */
    public int blackholedConnections() {
        return blackhole.swallowed.get();
    }

    /**
     * Whether traffic is stopped by {@link #freeze()}.
     *
     * @return true between {@link #freeze()} and {@link #unfreeze()}
     */
    public boolean isFrozen() {
        return crusher.isFrozen();
    }

    /** Closes every proxied connection (the client sees its socket closed); keeps accepting new ones. */
    public void closeAllConnections() {
        crusher.closeAllPairs();
    }

    /**
     * Connections currently proxied (client sockets the proxy has accepted and not yet closed).
     *
     * @return the number of open client connections
     */
    public int clientConnectionCount() {
        return crusher.getClientAddresses().size();
    }

    /** Closes every connection, the listening socket and the reactor's threads. Idempotent. */
    @Override
    public void close() {
        if (reactor.isOpen()) {
            crusher.close();
            reactor.close();
        }
    }

    @Override
    public String toString() {
        return "ZkProxy " + connectString() + " -> " + target + (crusher.isOpen() && isFrozen() ? " (frozen)" : "");
    }

    private static int freePort() {
        try (ServerSocket socket = FreePorts.bind(InetAddress.getByName(LOOPBACK))) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException("could not find a free port on " + LOOPBACK, e);
        }
    }

    private static boolean causedByBindFailure(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof BindException) {
                return true;
            }
        }
        return false;
    }
}
