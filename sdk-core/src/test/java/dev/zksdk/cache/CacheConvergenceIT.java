package dev.zksdk.cache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.zksdk.OperationPolicy;
import dev.zksdk.SessionEvent;
import dev.zksdk.SessionState;
import dev.zksdk.ZkLease;
import dev.zksdk.ZkSessionPool;
import dev.zksdk.testing.ForcedExpiry;
import dev.zksdk.testing.InProcessEnsembles;
import dev.zksdk.testing.ProxiedEnsemble;
import dev.zksdk.testing.RawZooKeeper;
import dev.zksdk.testing.Recorder;
import dev.zksdk.testing.ZkProxy;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;
import org.apache.curator.test.InstanceSpec;
import org.apache.curator.test.TestingCluster;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.data.Stat;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Convergence under faults on a three-server ensemble: a writer (an independent client, straight to the servers) keeps
 * changing data and children while a reader keeps the cache full; a fault cuts the cache's session off; the writer
 * stops as soon as the cache's session is back, so what it wrote during the gap is never announced by a watch. When it
 * has stopped, the cache must come to equal the servers' state.
 */
class CacheConvergenceIT {

    static final Duration SESSION_TIMEOUT = Duration.ofSeconds(8); // the client notices a freeze after ~5.3 s
    static final int DATA_NODES = 10;
    static final int TOGGLED_CHILDREN = 5;

    static TestingCluster cluster;
    static ProxiedEnsemble proxies;

    RawZooKeeper writerClient;
    ZkSessionPool pool;
    ZkLease lease;
    final Recorder events = new Recorder();
    final AtomicLong writes = new AtomicLong();

    @BeforeAll
    static void startCluster() {
        cluster = InProcessEnsembles.startCluster(3);
        proxies = ProxiedEnsemble.of(cluster.getConnectString());
    }

    @AfterAll
    static void stopCluster() throws Exception {
        proxies.close();
        cluster.close();
    }

    @BeforeEach
    void start() {
        pool = ZkSessionPool.builder()
                .connectString(proxies.connectString())
                .sessionTimeout(SESSION_TIMEOUT)
                .connectionTimeout(Duration.ofSeconds(10))
                .operationPolicy(OperationPolicy.builder()
                        .operationTimeout(Duration.ofSeconds(30))
                        .breakerFailureRateThreshold(100f)
                        .build())
                .listener(events)
                .build();
        lease = pool.lease();
    }

    @AfterEach
    void stop() {
        proxies.unfreezeAll();
        lease.close();
        pool.close();
        if (writerClient != null) {
            writerClient.close();
        }
    }

    @Test
    void convergesAfterTheServerOfItsSessionIsKilled() throws Exception {
        runWithFault("/kill", e -> e.state() == SessionState.RECONNECTED && e.sameSession(), () -> {
            InstanceSpec victim = serverOfTheCache();
            // The other servers are unreachable for the cache until the writer has written: a gap to miss changes in.
            for (ZkProxy proxy : proxies.proxies()) {
                if (!proxy.target().endsWith(":" + victim.getPort())) {
                    proxy.freeze();
                }
            }
            cluster.killServer(victim);
            awaitState(SessionState.SUSPENDED);
            awaitWrites(20);
            proxies.unfreezeAll();
            return () -> cluster.restartServer(victim);
        });
    }

    @Test
    void convergesAfterAFreezeWithinTheSession() throws Exception {
        runWithFault("/freeze", e -> e.state() == SessionState.RECONNECTED && e.sameSession(), () -> {
            proxies.freezeAll();
            awaitWrites(20);
            awaitState(SessionState.SUSPENDED);
            proxies.unfreezeAll();
            return () -> {};
        });
    }

    @Test
    void convergesAfterTheSessionExpires() throws Exception {
        runWithFault("/expiry", e -> e.state() == SessionState.RECONNECTED && e.newSession(), () -> {
            ZooKeeper zk = lease.curator().getZookeeperClient().getZooKeeper();
            proxies.freezeAll();
            ForcedExpiry.expireSession(cluster.getConnectString(), zk.getSessionId(), zk.getSessionPasswd());
            awaitWrites(20); // while the cache's session is cut off and dead
            proxies.unfreezeAll();
            return () -> {};
        });
    }

    /** What a fault leaves to undo once the test is over. */
    interface Cleanup {
        void run() throws Exception;
    }

    interface Fault {
        Cleanup inject() throws Exception;
    }

    private void runWithFault(String root, Predicate<SessionEvent> recovered, Fault fault) throws Exception {
        // The writer talks straight to the servers the cache's session is not on, so no fault of the cache's touches
        // it.
        String cacheServer = ":" + serverOfTheCache().getPort();
        writerClient = RawZooKeeper.connect(
                cluster.getInstances().stream()
                        .filter(s -> !s.getConnectString().endsWith(cacheServer))
                        .map(InstanceSpec::getConnectString)
                        .reduce((a, b) -> a + "," + b)
                        .orElseThrow(),
                Duration.ofSeconds(30));
        ZooKeeper zk = writerClient.zk();
        zk.create(root, new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        for (int i = 0; i < DATA_NODES; i++) {
            zk.create(root + "/n" + i, bytes("0"), ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        }
        Cleanup cleanup = () -> {};
        try (ZkTreeCache cache = lease.treeCache(root)) {
            assertThat(converged(cache, root))
                    .as("the cache starts equal to the servers")
                    .isTrue();
            Thread writer = new Thread(() -> write(root), "cache-it-writer");
            Thread reader = new Thread(() -> read(cache, root), "cache-it-reader");
            writer.start();
            reader.start();
            try {
                awaitWrites(50);
                cleanup = fault.inject();
                await().atMost(Duration.ofSeconds(30)).until(() -> events.saw(recovered));
            } finally {
                writer.interrupt();
                writer.join();
                reader.interrupt();
                reader.join();
            }
            await().atMost(Duration.ofSeconds(30)).until(() -> converged(cache, root));
        } finally {
            cleanup.run();
        }
    }

    private InstanceSpec serverOfTheCache() {
        String proxyAddress =
                pool.stats().connectionsPerServer().keySet().iterator().next();
        ZkProxy proxy = proxies.proxies().stream()
                .filter(p -> p.connectString().equals(proxyAddress))
                .findFirst()
                .orElseThrow();
        int serverPort =
                Integer.parseInt(proxy.target().substring(proxy.target().lastIndexOf(':') + 1));
        return cluster.getInstances().stream()
                .filter(s -> s.getPort() == serverPort)
                .findFirst()
                .orElseThrow();
    }

    private void awaitState(SessionState state) {
        await().atMost(Duration.ofSeconds(20)).until(() -> events.saw(state));
    }

    private void awaitWrites(int more) {
        long at = writes.get();
        await().atMost(Duration.ofSeconds(20)).until(() -> writes.get() >= at + more);
    }

    private void write(String root) {
        ZooKeeper zk = writerClient.zk();
        Random random = new Random(root.hashCode());
        while (!Thread.currentThread().isInterrupted()) {
            try {
                if (random.nextInt(4) == 0) {
                    String child = root + "/c" + random.nextInt(TOGGLED_CHILDREN);
                    if (zk.exists(child, false) == null) {
                        zk.create(child, bytes("c"), ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
                    } else {
                        zk.delete(child, -1);
                    }
                } else {
                    zk.setData(root + "/n" + random.nextInt(DATA_NODES), bytes(Long.toString(writes.get())), -1);
                }
                writes.incrementAndGet();
            } catch (KeeperException.NodeExistsException | KeeperException.NoNodeException e) {
                // the toggle raced with itself after a connection loss; the next round fixes it
            } catch (KeeperException e) {
                // connection loss while a server is killed: keep writing once reconnected
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    private static void read(ZkTreeCache cache, String root) {
        while (!Thread.currentThread().isInterrupted()) {
            try {
                cache.getChildren(root);
                for (int i = 0; i < DATA_NODES; i++) {
                    cache.get(root + "/n" + i);
                }
                for (int i = 0; i < TOGGLED_CHILDREN; i++) {
                    cache.get(root + "/c" + i);
                }
            } catch (RuntimeException e) {
                // reads fail while the session is cut off past the bound; keep reading
                if (Thread.currentThread().isInterrupted()) {
                    return;
                }
            }
        }
    }

    /** The cache equals what the writer's server holds: children of the root, and every node's data and version. */
    private boolean converged(ZkTreeCache cache, String root) {
        try {
            ZooKeeper zk = writerClient.zk();
            List<String> children = new ArrayList<>(zk.getChildren(root, false));
            Collections.sort(children);
            if (!cache.getChildren(root).equals(children)) {
                return false;
            }
            List<String> names = new ArrayList<>();
            for (int i = 0; i < DATA_NODES; i++) {
                names.add("n" + i);
            }
            for (int i = 0; i < TOGGLED_CHILDREN; i++) {
                names.add("c" + i);
            }
            for (String name : names) {
                String path = root + "/" + name;
                Stat stat = new Stat();
                byte[] data;
                try {
                    data = zk.getData(path, false, stat);
                } catch (KeeperException.NoNodeException e) {
                    data = null;
                }
                CachedNode cached = cache.get(path);
                if (data == null
                        ? cached != null
                        : cached == null
                                || cached.version() != stat.getVersion()
                                || !Arrays.equals(cached.data(), data)) {
                    return false;
                }
            }
            return true;
        } catch (KeeperException | RuntimeException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
