package org.apache.zookeeper;

import java.io.IOException;
import java.lang.reflect.Field;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;
import org.apache.zookeeper.client.ZKClientConfig;
import org.slf4j.LoggerFactory;

/**
 * ZooKeeper's NIO client socket without the pause its {@code cleanup()} ends with: {@code ClientCnxnSocketNIO} sleeps
 * 100 ms after closing every connection, so a connect string's refused address costs each handle that tries it first
 * 100 ms before the next server is tried. zk-sdk's handles pause by their own rules instead: after a lost connection
 * ZooKeeper's reconnect pause of up to a second still applies, and after failed attempts the host provider waits its
 * own backoff once a whole round of servers has failed ({@code dev.zksdk.hosts.WeightedHostProvider}); the 100 ms
 * pause would only come on top. (ZooKeeper's Netty socket, used over TLS, has no such pause.)
 *
 * <p>The connection is closed here, as ZooKeeper closes it (the key cancelled, both directions shut down, the socket and
 * the channel closed, every failure ignored); ZooKeeper's own {@code cleanup()} then finds nothing to close and only
 * sleeps, which the thread's interrupt status, set just before, ends at once (the sleep consumes it). Nothing else runs
 * with that status set: no close step, and none of ZooKeeper's log lines, whose appenders might write through an
 * interruptible channel (a {@code Review17pAdversarialIT} case: ZooKeeper's DEBUG lines about the close, delivered on
 * an interrupted thread, failed such a write with {@code ClosedByInterruptException}). An interrupt the thread had
 * before is kept. When the socket's private key cannot be reached (another ZooKeeper version), ZooKeeper's own cleanup
 * runs unchanged, pause included.
 *
 * <p>Lives in ZooKeeper's package because the socket's constructor and {@code cleanup()} are package-private there;
 * chosen per handle through the client config's {@code zookeeper.clientCnxnSocket}, unless the application named a
 * socket of its own.
 */
public class PromptClientCnxnSocketNIO extends ClientCnxnSocketNIO {

    /** {@code ClientCnxnSocketNIO.sockKey}: the key of the connection; null when it cannot be reached. */
    private static final Field SOCK_KEY = sockKeyField();

    /**
     * Called by ZooKeeper, by reflection, for each handle whose config names this class.
     *
     * @param config the handle's client config
     * @throws IOException when the socket's selector cannot be opened
     */
    public PromptClientCnxnSocketNIO(ZKClientConfig config) throws IOException {
        super(config);
    }

    private static Field sockKeyField() {
        try {
            Field f = ClientCnxnSocketNIO.class.getDeclaredField("sockKey");
            if (f.getType() != SelectionKey.class) {
                throw new NoSuchFieldException("sockKey is a " + f.getType());
            }
            f.setAccessible(true);
            return f;
        } catch (ReflectiveOperationException | RuntimeException e) {
            LoggerFactory.getLogger(PromptClientCnxnSocketNIO.class)
                    .info(
                            "ZooKeeper's NIO socket keeps its 100 ms pause after every closed connection: its key"
                                    + " cannot be reached ({})",
                            e.toString());
            return null;
        }
    }

    @Override
    void cleanup() {
        if (SOCK_KEY == null || !closeConnection()) {
            super.cleanup();
            return;
        }
        boolean interruptedBefore = Thread.interrupted();
        Thread.currentThread().interrupt();
        try {
            super.cleanup(); // nothing left to close: only the sleep, which returns at once
        } finally {
            Thread.interrupted(); // ours, had the sleep not consumed it
            if (interruptedBefore) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Closes the connection as ZooKeeper's cleanup does and clears its key; false when the key cannot be reached. */
    private boolean closeConnection() {
        SelectionKey key;
        try {
            key = (SelectionKey) SOCK_KEY.get(this);
        } catch (IllegalAccessException | RuntimeException e) {
            return false;
        }
        if (key != null) {
            SocketChannel sock = (SocketChannel) key.channel();
            key.cancel();
            try {
                sock.socket().shutdownInput();
            } catch (IOException | RuntimeException e) {
                // not connected, or closed already: nothing to shut down
            }
            try {
                sock.socket().shutdownOutput();
            } catch (IOException | RuntimeException e) {
                // as above
            }
            try {
                sock.socket().close();
            } catch (IOException | RuntimeException e) {
                // as ZooKeeper: a close that fails leaves nothing to do
            }
            try {
                sock.close();
            } catch (IOException | RuntimeException e) {
                // as above
            }
            try {
                SOCK_KEY.set(this, null);
            } catch (IllegalAccessException | RuntimeException e) {
                return false; // ZooKeeper's cleanup closes the (closed) channel again and keeps its pause
            }
        }
        return true;
    }
}
