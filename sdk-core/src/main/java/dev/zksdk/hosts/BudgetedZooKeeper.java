package dev.zksdk.hosts;

import java.io.IOException;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.client.ZKClientConfig;

/**
 * A ZooKeeper handle that connects through a {@link WeightedHostProvider} and closes it when the handle is
 * closed, so the provider's connection-budget slot lives exactly as long as the handle. Curator closes the
 * handles it replaces (after session expiry, on {@code close()}), so a pool that creates handles through
 * {@link HostsZookeeperFactory} never leaks a slot.
 *
 * <p>Not a {@code ZooKeeperAdmin}: ZooKeeper offers no admin constructor taking a {@code HostProvider}, so
 * Curator's {@code reconfig()} (an ensemble-administration call) is not available on these handles.
 */
public final class BudgetedZooKeeper extends ZooKeeper {

    private final WeightedHostProvider provider;

    private BudgetedZooKeeper(String connectString, int sessionTimeoutMs, Watcher watcher,
            WeightedHostProvider provider, ZKClientConfig clientConfig) throws IOException {
        super(connectString, sessionTimeoutMs, watcher, false, provider, clientConfig);
        this.provider = provider;
    }

    /**
     * Starts a handle (ZooKeeper connects in the background). On failure the provider is closed.
     *
     * @param connectString the connect string, with its optional chroot, as given to ZooKeeper
     * @param clientConfig null for ZooKeeper's defaults
     * @throws IOException when ZooKeeper cannot create its client socket
     * @throws IllegalArgumentException when ZooKeeper rejects the connect string (bad chroot)
     */
    public static BudgetedZooKeeper open(String connectString, int sessionTimeoutMs, Watcher watcher,
            WeightedHostProvider provider, ZKClientConfig clientConfig) throws IOException {
        try {
            return new BudgetedZooKeeper(connectString, sessionTimeoutMs, watcher, provider, clientConfig);
        } catch (IOException | RuntimeException | Error e) {
            provider.close();
            throw e;
        }
    }

    /** The provider choosing this handle's servers (to read its server or report one as failed). */
    public WeightedHostProvider weightedHostProvider() {
        return provider;
    }

    /** Closes the session as {@link ZooKeeper#close()} does, then returns the connection-budget slot. */
    @Override
    public synchronized void close() throws InterruptedException {
        try {
            super.close();
        } finally {
            provider.close();
        }
    }
}
