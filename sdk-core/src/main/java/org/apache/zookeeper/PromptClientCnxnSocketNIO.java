package org.apache.zookeeper;

import java.io.IOException;
import org.apache.zookeeper.client.ZKClientConfig;

/**
 * ZooKeeper's NIO client socket without the pause its {@code cleanup()} ends with: {@code ClientCnxnSocketNIO} sleeps
 * 100 ms after closing every connection, so a connect string's refused address costs each handle that tries it first
 * 100 ms before the next server is tried. zk-sdk's handles pause by their own rules instead: after a lost connection
 * ZooKeeper's reconnect pause of up to a second still applies, and after failed attempts the host provider waits its
 * own backoff once a whole round of servers has failed ({@code dev.zksdk.hosts.WeightedHostProvider}); the 100 ms
 * pause would only come on top. (ZooKeeper's Netty socket, used over TLS, has no such pause.)
 *
 * <p>The pause is ended, not copied out: the close it follows is ZooKeeper's own, run with this thread's interrupt
 * status set, which the sleep at its end consumes at once (that close is not interruptible: it shuts the socket down
 * and closes the channel). An interrupt the thread had before is kept. Lives in ZooKeeper's package because the
 * socket's constructor and {@code cleanup()} are package-private there; chosen per handle through the client config's
 * {@code zookeeper.clientCnxnSocket}, unless the application named a socket of its own.
 */
public class PromptClientCnxnSocketNIO extends ClientCnxnSocketNIO {

    /**
     * Called by ZooKeeper, by reflection, for each handle whose config names this class.
     *
     * @param config the handle's client config
     * @throws IOException when the socket's selector cannot be opened
     */
    public PromptClientCnxnSocketNIO(ZKClientConfig config) throws IOException {
        super(config);
    }

    @Override
    void cleanup() {
        boolean interruptedBefore = Thread.interrupted();
        Thread.currentThread().interrupt();
        try {
            super.cleanup();
        } finally {
            Thread.interrupted(); // ours, had the pause not consumed it
            if (interruptedBefore) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
