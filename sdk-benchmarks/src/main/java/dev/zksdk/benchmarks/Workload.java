package dev.zksdk.benchmarks;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Watcher.Event.KeeperState;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;

/** The nodes every benchmark works on, and how to create them. */
public final class Workload {

    /** Everything the benchmarks write lives under this node. */
    public static final String ROOT = "/zksdk-bench";
    /** The node every read benchmark reads: {@value #DATA_BYTES} bytes. */
    public static final String DATA = ROOT + "/data";
    /** The node the write benchmarks overwrite. */
    public static final String WRITE = ROOT + "/write";
    /** Parent of the recovery benchmark's owned ephemerals and watched nodes. */
    public static final String RECOVERY = ROOT + "/recovery";

    public static final int DATA_BYTES = 128;

    /** Long enough that no session of a healthy run ever expires; the recovery benchmark expires its own on purpose. */
    public static final Duration SESSION_TIMEOUT = Duration.ofSeconds(10);
    /**
     * How long a client may take to connect before the request counts as failed: ten reconnect delays of ZooKeeper's
     * (up to a second each) after refused connections. Not longer than the session timeout, which Curator warns about.
     */
    public static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(10);

    private Workload() {}

    /** The payload: {@value #DATA_BYTES} bytes that are not all alike. */
    public static byte[] payload() {
        byte[] data = new byte[DATA_BYTES];
        for (int i = 0; i < data.length; i++) {
            data[i] = (byte) ('a' + i % 26);
        }
        return data;
    }

    /**
     * Creates (or resets) the benchmark nodes with a throw-away raw client.
     *
     * @throws IllegalStateException if the server cannot be reached within {@link #CONNECT_TIMEOUT}
     */
    public static void prepare(String connectString) {
        try (ZooKeeper zk = connect(connectString)) {
            byte[] data = payload();
            ensure(zk, ROOT, new byte[0]);
            ensure(zk, DATA, data);
            zk.setData(DATA, data, -1);
            ensure(zk, WRITE, data);
            ensure(zk, RECOVERY, new byte[0]);
        } catch (KeeperException e) {
            throw new IllegalStateException("could not create the benchmark nodes on " + connectString + ": " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while preparing " + connectString, e);
        }
    }

    private static void ensure(ZooKeeper zk, String path, byte[] data) throws KeeperException, InterruptedException {
        try {
            zk.create(path, data, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        } catch (KeeperException.NodeExistsException e) {
            // left by an earlier run on the same (external) server: reused
        }
    }

    /**
     * A raw handle, connected. Its connections count in {@link ConnectCounter}, once installed, like every other
     * client's.
     *
     * @throws IllegalStateException if it does not connect within {@link #CONNECT_TIMEOUT}
     */
    public static ZooKeeper connect(String connectString) {
        CountDownLatch connected = new CountDownLatch(1);
        ZooKeeper zk;
        try {
            zk = new ZooKeeper(connectString, (int) SESSION_TIMEOUT.toMillis(), event -> {
                if (event.getState() == KeeperState.SyncConnected) {
                    connected.countDown();
                }
            });
        } catch (IOException e) {
            throw new UncheckedIOException("could not create a client for " + connectString, e);
        }
        try {
            if (!connected.await(CONNECT_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                zk.close();
                throw new IllegalStateException("no connection to " + connectString + " within " + CONNECT_TIMEOUT);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while connecting to " + connectString, e);
        }
        return zk;
    }
}
