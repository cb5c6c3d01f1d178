package org.apache.zookeeper;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.channels.SocketChannel;
import org.apache.zookeeper.client.ZKClientConfig;

/**
 * ZooKeeper's NIO client socket, bound to one local address before it connects: the benchmarks' simulated hosts
 * ({@code dev.zksdk.benchmarks.FleetHost}) are JVMs on one machine, and each must reach the server from a loopback
 * address of its own (127.0.0.2, 127.0.0.3, ...) so that the server's per-address {@code maxClientCnxns} counts it
 * as a host of its own. Chosen with {@code -Dzookeeper.clientCnxnSocket=} this class and the address with
 * {@code -D}{@value #SOURCE_ADDRESS_PROPERTY}; it lives in ZooKeeper's package because the socket's creation is
 * package-private there.
 */
public class SourceBoundClientCnxnSocket extends ClientCnxnSocketNIO {

    /** The system property naming the local address every connection leaves from. */
    public static final String SOURCE_ADDRESS_PROPERTY = "zksdk.bench.sourceAddress";

    private final InetAddress source;

    public SourceBoundClientCnxnSocket(ZKClientConfig config) throws IOException {
        super(config);
        String address = System.getProperty(SOURCE_ADDRESS_PROPERTY);
        if (address == null || address.isBlank()) {
            throw new IllegalStateException(SOURCE_ADDRESS_PROPERTY + " must name the local address to connect from");
        }
        source = InetAddress.getByName(address);
    }

    @Override
    SocketChannel createSock() throws IOException {
        SocketChannel sock = super.createSock();
        try {
            sock.bind(new InetSocketAddress(source, 0));
        } catch (IOException e) {
            sock.close();
            throw new IOException("could not bind a client socket to " + source.getHostAddress(), e);
        }
        return sock;
    }
}
