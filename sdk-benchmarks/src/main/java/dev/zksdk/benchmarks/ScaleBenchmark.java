package dev.zksdk.benchmarks;

import dev.zksdk.EnsembleConfig;
import dev.zksdk.ZkLease;
import dev.zksdk.ZkSessionPool;
import dev.zksdk.hosts.HostsConfig;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.ThreadParams;

/**
 * Scale of the pool itself (issue 23): synchronous {@code getData} through one pool routing {@code ensembles} prefixes
 * ({@code /e0} .. {@code /e<n-1>}) to as many ensembles, each operation on the next prefix in turn (each thread starting
 * at its own), so that operations spread over every ensemble. Each operation takes a lease, reads, and closes the
 * lease. With {@code heldLeases} = 10,000, that many more leases are held open for the whole run, each having read
 * once (so each holds its share of an ensemble lease), the ensembles in turn.
 *
 * <p>The ensembles are chroots ({@code host:port/zksdk-bench-scale/e<i>}) spread in turn over {@value #SERVERS}
 * standalone server processes (with {@code server=process}; with an embedded or external server, all on that one), one
 * session each ({@code sessionsPerEnsemble} 1): a distinct {@link EnsembleConfig} per chroot, with an alias of its own.
 * One ensemble uses one server; ten or a hundred use all three: the comparison is of the same client load spread over
 * more ensembles, sessions and servers, not of one server's work. {@link #getDataAllRoutesToOneEnsemble} is the
 * control: the same prefixes and the same routed leases, every prefix routed to the first ensemble (one session, one
 * server), so that what more ensembles cost (sessions, their I/O threads, servers) can be told from what routing over
 * more prefixes costs.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 3)
@Measurement(iterations = 4, time = 3)
@Threads(16)
@Fork(1)
public class ScaleBenchmark {

    /** Server processes the ensembles are spread over. */
    static final int SERVERS = 3;

    @Param({"1", "10", "100"})
    public int ensembles;

    /** Accepted because the profile runner passes it to every benchmark; {@code process} starts {@value #SERVERS}. */
    @Param({BenchServer.PROCESS})
    public String server;

    private Routed routed;
    /**
     * The control: a pool with the same {@code ensembles} prefixes, every one routed to the first ensemble (one
     * session), so that the routing and the routed leases are the same and only the ensembles and sessions differ.
     */
    private ZkSessionPool oneEnsemble;

    /** Leases held open for the whole run ({@link ScaleBenchmark#getData} only). */
    @State(Scope.Benchmark)
    public static class Held {
        @Param({"0", "10000"})
        public int heldLeases;

        private final List<ZkLease> leases = new ArrayList<>();

        @Setup(Level.Trial)
        public void take(ScaleBenchmark benchmark) {
            for (int i = 0; i < heldLeases; i++) {
                ZkLease lease = benchmark.routed.pool.lease();
                leases.add(lease);
                lease.getData(benchmark.routed.paths[i % benchmark.ensembles]);
            }
        }

        @TearDown(Level.Trial)
        public void release() {
            leases.forEach(ZkLease::close);
            leases.clear();
        }
    }

    /** Each thread's next prefix. */
    @State(Scope.Thread)
    public static class Cursor {
        int next;

        @Setup(Level.Trial)
        public void start(ScaleBenchmark benchmark, ThreadParams thread) {
            next = thread.getThreadIndex() % benchmark.ensembles;
        }

        String next(String[] paths) {
            int i = next;
            next = i + 1 == paths.length ? 0 : i + 1;
            return paths[i];
        }
    }

    @Setup(Level.Trial)
    public void start() {
        routed = Routed.start(server, ensembles);
        routed.openEveryEnsemble();
        oneEnsemble = Routed.buildPool(
                routed.servers.get(0).connectString(), Collections.nCopies(ensembles, routed.configs.get(0)));
        try (ZkLease lease = oneEnsemble.lease()) {
            for (String path : routed.paths) {
                lease.getData(path);
            }
        }
    }

    @TearDown(Level.Trial)
    public void stop() {
        if (oneEnsemble != null) {
            oneEnsemble.close();
        }
        if (routed != null) {
            routed.close();
        }
    }

    /** One operation on the next prefix, its ensemble of its own, through a lease taken and closed around it. */
    @Benchmark
    public byte[] getData(Cursor cursor, Held held) {
        String path = cursor.next(routed.paths);
        try (ZkLease lease = routed.pool.lease()) {
            return lease.getData(path);
        }
    }

    /**
     * The control: the same operations, every prefix routed to the first ensemble (its chroot holds a node for every
     * prefix, {@code <chroot>/e<i>/data}), through a routed lease taken and closed around each.
     */
    @Benchmark
    public byte[] getDataAllRoutesToOneEnsemble(Cursor cursor) {
        String path = cursor.next(routed.paths);
        try (ZkLease lease = oneEnsemble.lease()) {
            return lease.getData(path);
        }
    }

    /**
     * A pool routing {@code /e0} .. {@code /e<n-1>} to chroots on a few servers, and those servers: what both scale
     * benchmarks build.
     */
    static final class Routed implements AutoCloseable {
        static final String CHROOT_PARENT = "/zksdk-bench-scale";

        final List<BenchServer> servers;
        final ZkSessionPool pool;
        /** The node each ensemble's operations read, as the lease names it: {@code /e<i>/data}. */
        final String[] paths;
        /** Each prefix's ensemble, in order. */
        final List<EnsembleConfig> configs;
        /** False for a pool of {@link #withNewPool()}: closing it leaves the servers running. */
        private final boolean ownsServers;

        private Routed(List<BenchServer> servers, List<EnsembleConfig> configs, String[] paths, boolean ownsServers) {
            this.servers = servers;
            this.configs = configs;
            this.paths = paths;
            this.ownsServers = ownsServers;
            this.pool = buildPool(servers.get(0).connectString(), configs);
        }

        /**
         * Starts the servers ({@value #SERVERS} processes for {@code process}, else the one the spec names), makes
         * every ensemble's node and builds the pool (which opens nothing yet).
         */
        static Routed start(String serverSpec, int ensembles) {
            if (ensembles < 1) {
                throw new IllegalArgumentException("ensembles must be at least 1, was " + ensembles);
            }
            List<BenchServer> servers = new ArrayList<>();
            List<ZooKeeper> raw = new ArrayList<>();
            try {
                int count = serverSpec.equals(BenchServer.PROCESS) ? SERVERS : 1;
                for (int s = 0; s < count; s++) {
                    servers.add(BenchServer.start(serverSpec));
                    raw.add(Workload.connect(servers.get(s).connectString()));
                }
                String[] paths = new String[ensembles];
                List<EnsembleConfig> configs = new ArrayList<>();
                for (int i = 0; i < ensembles; i++) {
                    String prefix = "/e" + i;
                    String chroot = CHROOT_PARENT + prefix;
                    String connect = servers.get(i % servers.size()).connectString();
                    prepare(raw.get(i % servers.size()), chroot, prefix);
                    // The control routes every prefix to the first ensemble: its chroot holds every prefix's node too.
                    prepare(raw.get(0), CHROOT_PARENT + "/e0", prefix);
                    paths[i] = prefix + "/data";
                    configs.add(EnsembleConfig.builder()
                            .connectString(connect + chroot)
                            .alias("e" + i)
                            .sessionTimeout(Workload.SESSION_TIMEOUT)
                            .connectionTimeout(Workload.CONNECT_TIMEOUT)
                            .sessionsPerEnsemble(1)
                            .build());
                }
                return new Routed(List.copyOf(servers), List.copyOf(configs), paths, true);
            } catch (RuntimeException e) {
                servers.forEach(BenchServer::close);
                throw e;
            } finally {
                closeAll(raw);
            }
        }

        /** Another pool over the same servers and ensembles; closing it leaves the servers running. */
        Routed withNewPool() {
            return new Routed(servers, configs, paths, false);
        }

        static ZkSessionPool buildPool(String defaultConnect, List<EnsembleConfig> configs) {
            ZkSessionPool.Builder builder = ZkSessionPool.builder()
                    .connectString(defaultConnect)
                    .sessionTimeout(Workload.SESSION_TIMEOUT)
                    .connectionTimeout(Workload.CONNECT_TIMEOUT)
                    .hosts(HostsConfig.builder()
                            .sessionCreationRate(HostsConfig.MAX_SESSION_CREATION_RATE)
                            .build())
                    .name("scale");
            for (int i = 0; i < configs.size(); i++) {
                builder.route("/e" + i, configs.get(i));
            }
            return builder.build();
        }

        private static void closeAll(List<ZooKeeper> clients) {
            for (ZooKeeper zk : clients) {
                try {
                    zk.close();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }

        /** Reads once through every ensemble, so that each has its session connected. */
        void openEveryEnsemble() {
            try (ZkLease lease = pool.lease()) {
                for (String path : paths) {
                    lease.getData(path);
                }
            }
        }

        /** Makes {@code <chroot><prefix>/data} on the server (the lease's path, under the ensemble's chroot). */
        private static void prepare(ZooKeeper zk, String chroot, String prefix) {
            try {
                for (String node : List.of(CHROOT_PARENT, chroot, chroot + prefix)) {
                    ensure(zk, node, new byte[0]);
                }
                ensure(zk, chroot + prefix + "/data", Workload.payload());
            } catch (KeeperException e) {
                throw new IllegalStateException("could not create the scale benchmark's nodes under " + chroot, e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while preparing " + chroot, e);
            }
        }

        private static void ensure(ZooKeeper zk, String path, byte[] data)
                throws KeeperException, InterruptedException {
            try {
                zk.create(path, data, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            } catch (KeeperException.NodeExistsException e) {
                // made by an earlier trial on the same (external) server
            }
        }

        @Override
        public void close() {
            try {
                pool.close();
            } finally {
                if (ownsServers) {
                    servers.forEach(BenchServer::close);
                }
            }
        }
    }
}
