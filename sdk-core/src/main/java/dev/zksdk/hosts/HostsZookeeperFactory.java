package dev.zksdk.hosts;

import dev.zksdk.internal.ConnectString;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import org.apache.curator.utils.ZookeeperFactory;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.client.ZKClientConfig;

/**
 * Curator's {@link ZookeeperFactory} for the sessions of one pool and ensemble: every handle Curator creates
 * (the first, and each replacement after session expiry) first takes a session-creation permit, then gets a
 * {@link WeightedHostProvider} sharing the pool's {@link SessionSpread}, and is a {@link BudgetedZooKeeper}
 * so its connection-budget slot is returned when Curator closes it.
 *
 * <p>Use with {@code CuratorFrameworkFactory.builder().zookeeperFactory(factory)}; one factory per pool and
 * ensemble, shared by all its Curator clients. Thread-safe.
 *
 * <p>{@code newZooKeeper} throws {@link SessionRateLimitedException} when no creation permit came within
 * {@code sessionCreationMaxWait}, {@link ConnectionBudgetExhaustedException} when every server is at its
 * budget. {@code canBeReadOnly = true} makes handles that may connect to a read-only server (ZooKeeper's read-only
 * mode; see {@link WeightedHostProvider} for how its probes for a read-write server are handled).
 */
public final class HostsZookeeperFactory implements ZookeeperFactory {

    private final SessionSpread spread;
    private final ConnectionBudget budget;
    private final SessionCreationLimiter limiter;

    /**
     * A factory with its own budget and limiter (tests; the pool uses {@link #forPool}).
     *
     * @param spread the pool's spread
     * @param budget the connection budget handles take a slot on
     * @param limiter the limiter each new session takes a permit from
     * @throws IllegalArgumentException when an argument is null
     */
    public HostsZookeeperFactory(SessionSpread spread, ConnectionBudget budget, SessionCreationLimiter limiter) {
        if (spread == null || budget == null || limiter == null) {
            throw new IllegalArgumentException(
                    "spread, budget and limiter must not be null, were " + spread + ", " + budget + ", " + limiter);
        }
        this.spread = spread;
        this.budget = budget;
        this.limiter = limiter;
    }

    /**
     * A factory using the process-wide {@link ConnectionBudget#shared()} and
     * {@link SessionCreationLimiter#shared(double)} at the spread's {@code sessionCreationRate}.
     *
     * @param spread the pool's spread
     * @return a new factory
     * @throws IllegalArgumentException when {@code spread} is null
     */
    public static HostsZookeeperFactory forPool(SessionSpread spread) {
        if (spread == null) {
            throw new IllegalArgumentException("spread must not be null");
        }
        return new HostsZookeeperFactory(
                spread,
                ConnectionBudget.shared(),
                SessionCreationLimiter.shared(spread.config().sessionCreationRate()));
    }

    /**
     * The spread the factory's handles choose servers with.
     *
     * @return the spread
     */
    public SessionSpread spread() {
        return spread;
    }

    /**
     * The connection budget the factory's handles take slots on.
     *
     * @return the budget
     */
    public ConnectionBudget budget() {
        return budget;
    }

    @Override
    public ZooKeeper newZooKeeper(String connectString, int sessionTimeout, Watcher watcher, boolean canBeReadOnly)
            throws Exception {
        return newZooKeeper(connectString, sessionTimeout, watcher, canBeReadOnly, null);
    }

    @Override
    public ZooKeeper newZooKeeper(
            String connectString,
            int sessionTimeout,
            Watcher watcher,
            boolean canBeReadOnly,
            ZKClientConfig zkClientConfig)
            throws Exception {
        limiter.acquire(spread.config().sessionCreationMaxWait());
        List<InetSocketAddress> servers = new ArrayList<>();
        for (ConnectString.Address a :
                ConnectString.parse("connectString", connectString).addresses()) {
            servers.add(InetSocketAddress.createUnresolved(a.host(), a.port()));
        }
        WeightedHostProvider provider = new WeightedHostProvider(servers, spread, budget, sessionTimeout);
        return BudgetedZooKeeper.open(connectString, sessionTimeout, watcher, canBeReadOnly, provider, zkClientConfig);
    }
}
