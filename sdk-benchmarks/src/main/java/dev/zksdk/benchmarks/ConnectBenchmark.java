package dev.zksdk.benchmarks;

import dev.zksdk.ZkLease;
import dev.zksdk.ZkSessionPool;
import dev.zksdk.hosts.ConnectionBudget;
import dev.zksdk.hosts.HostsConfig;
import dev.zksdk.testing.ProcessEnsemble;
import dev.zksdk.testing.ServerProcess;
import dev.zksdk.testing.ZkProxy;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryNTimes;
import org.apache.zookeeper.Watcher.Event.KeeperState;
import org.apache.zookeeper.ZooKeeper;
import org.openjdk.jmh.annotations.AuxCounters;
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

/**
 * Time to a usable session when one of three addresses in the connect string is dead: a fresh client per iteration
 * (a raw ZooKeeper handle, a Curator client, or a new {@link ZkSessionPool} with one session) is created and measured
 * up to its first successful {@code getData}.
 *
 * <p>The servers are a three-member ensemble in separate processes; one follower is killed with {@code kill -9} before
 * the first iteration, and the two others keep a quorum. The dead address is listed <b>first</b> in the connect string:
 * <ul>
 *   <li>{@code deadAddress=refused}: the killed member's own port, where nothing listens, so a connect attempt is
 *       refused at once;</li>
 *   <li>{@code deadAddress=blackholed}: a frozen NetCrusher proxy ({@code ZkProxy}) in front of the killed member. The
 *       kernel completes the TCP handshake but nothing ever answers, so a client that tries it waits out its attempt
 *       bound: ZooKeeper's connect timeout (the session timeout divided by the number of servers: 10 s / 3 = 3.3 s
 *       here), or for the SDK the bound it learnt from the handshakes this process completed (at least 500 ms).</li>
 * </ul>
 * Neither ZooKeeper nor the SDK takes the order of the string as given: ZooKeeper shuffles the addresses, the SDK picks
 * one at random (equal weights), so a fresh client tries the dead address first about one time in three.
 * {@link Attempts#connectAttempts} (TCP connects the client opened in that iteration, counted by
 * {@link ConnectCounter}) says whether it did: 1 = straight to a live member, 2 or more = the dead address was tried
 * first.
 *
 * <p>Every iteration's client is new, and so is everything the SDK learns about servers: a dead server's quarantine
 * is normally the process's (every pool skips it), so each iteration's pool is given a clock of its own, which keeps
 * the quarantine in the pool ({@code SessionSpread.ofPool}); no iteration profits from an earlier one's failure. What
 * the SDK learns about handshake times is the process's and is kept: it is what an application's first pool knows
 * after any other connection of the process. What is process-wide in the SDK (the connection budget and the session-creation rate limiter, which each iteration leaves idle by waiting one permit after its pool closed) holds no
 * state about the dead server; the budget is checked to be empty again after each pool is closed. Clients are closed
 * after the timed part, and the trial ends by checking that no ZooKeeper client thread is left.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 1)
@Measurement(iterations = 10)
@Threads(1)
@Fork(1)
public class ConnectBenchmark {

    static final String REFUSED = "refused";
    static final String BLACKHOLED = "blackholed";
    private static final Duration LEAK_WAIT = Duration.ofSeconds(20);
    /** One permit of the default session-creation rate, and a little more, between two iterations' pools. */
    static final long SESSION_SPACING_MILLIS = Math.round(1000 / HostsConfig.DEFAULT_SESSION_CREATION_RATE) + 10;

    @Param({REFUSED, BLACKHOLED})
    public String deadAddress;

    /**
     * Accepted because the profile runner passes it to every benchmark; this one always starts its own ensemble in
     * separate processes, since it kills a member.
     */
    @Param({BenchServer.PROCESS})
    public String server;

    private ProcessEnsemble ensemble;
    private ZkProxy blackhole;
    private String connectString;

    private ZooKeeper zooKeeper;
    private CuratorFramework curator;
    private ZkSessionPool pool;
    private long connectsBefore;

    /** What each iteration's client did besides taking its time. */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.EVENTS)
    public static class Attempts {
        /** TCP connections the client opened before its first read succeeded: 1 = the dead address was not tried. */
        public long connectAttempts;
    }

    @Setup(Level.Trial)
    public void start() {
        if (!server.equals(BenchServer.PROCESS)) {
            System.err.println("ConnectBenchmark starts its own three-member ensemble in separate processes (it kills a"
                    + " member); server=" + server + " does not apply to it");
        }
        ConnectCounter.install();
        BenchServer.absoluteClassPath();
        ensemble = ProcessEnsemble.builder()
                .size(3)
                .maxClientCnxns(BenchServer.MAX_CLIENT_CNXNS)
                .start();
        Workload.prepare(ensemble.connectString());
        ServerProcess leader = ensemble.leader();
        ServerProcess dead =
                ensemble.servers().stream().filter(s -> s != leader).findFirst().orElseThrow();
        dead.kill9();
        List<String> live = new ArrayList<>();
        for (ServerProcess s : ensemble.servers()) {
            if (s != dead) {
                s.awaitServing(Duration.ofSeconds(60));
                live.add(s.address());
            }
        }
        String first = dead.address();
        if (deadAddress.equals(BLACKHOLED)) {
            blackhole = ZkProxy.to(dead.address());
            blackhole.freeze();
            first = blackhole.connectString();
        } else if (!deadAddress.equals(REFUSED)) {
            throw new IllegalArgumentException(
                    "deadAddress must be " + REFUSED + " or " + BLACKHOLED + ", was '" + deadAddress + "'");
        }
        connectString = first + "," + String.join(",", live);
    }

    @Setup(Level.Iteration)
    public void countFromHere() {
        connectsBefore = ConnectCounter.total();
    }

    /** (a) {@code new ZooKeeper(...)}, {@code SyncConnected}, {@code getData}. */
    @Benchmark
    public byte[] zooKeeper(Attempts attempts) throws Exception {
        CountDownLatch connected = new CountDownLatch(1);
        zooKeeper = new ZooKeeper(connectString, (int) Workload.SESSION_TIMEOUT.toMillis(), event -> {
            if (event.getState() == KeeperState.SyncConnected) {
                connected.countDown();
            }
        });
        if (!connected.await(Workload.CONNECT_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
            throw new IllegalStateException("no session within " + Workload.CONNECT_TIMEOUT + " on " + connectString);
        }
        byte[] data = zooKeeper.getData(Workload.DATA, false, null);
        attempts.connectAttempts = attemptsSoFar();
        return data;
    }

    /** (b) A Curator client: {@code start()}, {@code blockUntilConnected}, {@code getData}. */
    @Benchmark
    public byte[] curator(Attempts attempts) throws Exception {
        curator = CuratorFrameworkFactory.builder()
                .connectString(connectString)
                .sessionTimeoutMs((int) Workload.SESSION_TIMEOUT.toMillis())
                .connectionTimeoutMs((int) Workload.CONNECT_TIMEOUT.toMillis())
                .retryPolicy(new RetryNTimes(3, 100))
                .build();
        curator.start();
        if (!curator.blockUntilConnected((int) Workload.CONNECT_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
            throw new IllegalStateException(
                    "no connection within " + Workload.CONNECT_TIMEOUT + " on " + connectString);
        }
        byte[] data = curator.getData().forPath(Workload.DATA);
        attempts.connectAttempts = attemptsSoFar();
        return data;
    }

    /** (c) A new pool with one session: {@code build()}, {@code lease()}, {@code getData}. */
    @Benchmark
    public byte[] sdk(Attempts attempts) {
        pool = ZkSessionPool.builder()
                .connectString(connectString)
                .sessionTimeout(Workload.SESSION_TIMEOUT)
                .connectionTimeout(Workload.CONNECT_TIMEOUT)
                .sessionsPerEnsemble(1)
                .name("connect")
                // A clock of its own keeps the pool's quarantine its own: the dead server is unknown to every pool.
                .hosts(HostsConfig.builder().nanoClock(() -> System.nanoTime()).build())
                .build();
        byte[] data;
        try (ZkLease lease = pool.lease()) {
            data = lease.getData(Workload.DATA);
        }
        attempts.connectAttempts = attemptsSoFar();
        return data;
    }

    private long attemptsSoFar() {
        long attempts = ConnectCounter.total() - connectsBefore;
        if (attempts < 1) {
            throw new IllegalStateException("a client read data without a counted connection: ConnectCounter is not"
                    + " counting, so connect attempts would read zero whatever they are");
        }
        return attempts;
    }

    @TearDown(Level.Iteration)
    public void closeClient() throws InterruptedException {
        if (zooKeeper != null) {
            zooKeeper.close();
            zooKeeper = null;
        }
        if (curator != null) {
            curator.close();
            curator = null;
        }
        if (pool != null) {
            pool.close();
            pool = null;
            if (!ConnectionBudget.shared().snapshot().isEmpty()) {
                throw new IllegalStateException(
                        "a closed pool left connection-budget slots taken: " + ConnectionBudget.shared());
            }
            // The process's session-creation limiter spaces new sessions 1/rate apart (50 ms at the default 20/s): a
            // pool built sooner after the last one would wait for its permit, which a process's first pool never
            // does. (The close used to take 100 ms, ZooKeeper's pause after a closed connection, which hid this.)
            Thread.sleep(SESSION_SPACING_MILLIS);
        }
    }

    @TearDown(Level.Trial)
    public void stop() {
        try {
            awaitNoClientThreads();
        } finally {
            if (blackhole != null) {
                blackhole.close();
            }
            if (ensemble != null) {
                ensemble.close();
            }
        }
    }

    /** ZooKeeper's close returns before its threads end; a thread still alive well after means a client leaked. */
    static void awaitNoClientThreads() {
        long deadline = System.nanoTime() + LEAK_WAIT.toNanos();
        List<String> left = clientThreads();
        while (!left.isEmpty() && System.nanoTime() - deadline < 0) {
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for client threads to end", e);
            }
            left = clientThreads();
        }
        if (!left.isEmpty()) {
            throw new IllegalStateException(left.size() + " ZooKeeper client threads still alive " + LEAK_WAIT
                    + " after every client was closed: " + left);
        }
    }

    private static List<String> clientThreads() {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(Thread::isAlive)
                .map(Thread::getName)
                .filter(n -> n.contains("-SendThread(") || n.endsWith("-EventThread"))
                .sorted()
                .toList();
    }
}
