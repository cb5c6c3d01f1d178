package dev.zksdk.benchmarks;

import dev.zksdk.ZkSessionPool;
import dev.zksdk.hosts.HostsConfig;
import dev.zksdk.metrics.SessionStatus;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import org.apache.curator.test.InstanceSpec;
import org.apache.curator.test.TestingServer;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.client.FourLetterWordMain;
import org.apache.zookeeper.client.StaticHostProvider;
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
 * Time to find a moved server (issue 21, item 1): a standalone server named {@code zk.moving.bench} in the connect
 * string runs on 127.0.0.2; the client's session is connected to it. The server stops (a pod rescheduled), the client
 * is disconnected, the name now resolves to 127.0.0.3 and the server starts there with its data (nothing listens on
 * 127.0.0.2 any more). The score of one invocation is the time from the server serving on its new address until the
 * session is connected again with its id.
 *
 * <p>Both clients resolve the name through the same injected resolver (a map the benchmark switches; the JVM's
 * address cache plays no part, which a real DNS name would add on top: {@code networkaddress.cache.ttl}, 30 s by
 * default). {@code client=sdk}: a {@link ZkSessionPool} of one session, whose {@link HostsConfig#resolver()} resolves
 * the name before every connection attempt. {@code client=zookeeper}: a plain {@link ZooKeeper} handle with ZooKeeper's
 * own {@link StaticHostProvider} given the same resolver; since ZOOKEEPER-2184 (3.4.13/3.5.5) it too resolves the name
 * again on every {@code next()} instead of once at construction, so it finds the server as well, at its own pace (it
 * waits up to a second after trying every server of its list, and a plain handle built before ZooKeeper 3.4.13, or any
 * client holding resolved IPs, never finds it). {@link Found} says whether the session came back with its id
 * ({@code sameSession}) and how many did not within {@value #FIND_SECONDS} s ({@code notFound}: their time is counted
 * as the bound).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 1)
@Measurement(iterations = 5)
@Threads(1)
@Fork(1)
public class MovedServerBenchmark {

    static final String SDK = "sdk";
    static final String ZOOKEEPER = "zookeeper";
    static final String NAME = "zk.moving.bench";
    static final String BEFORE = "127.0.0.2";
    static final String AFTER = "127.0.0.3";
    static final int FIND_SECONDS = 30;
    private static final int SESSION_TIMEOUT_MS = 40_000;
    private static final int TICK_MS = 250;

    @Param({SDK, ZOOKEEPER})
    public String client;

    /** Accepted because the profile runner passes it to every benchmark; this one always starts its own server. */
    @Param({BenchServer.PROCESS})
    public String server;

    private final AtomicReference<InetAddress> behindName = new AtomicReference<>();
    private File dataDir;
    private int port;
    private TestingServer running;
    private ZkSessionPool pool;
    private ZooKeeper handle;
    private long sessionId;

    /** The secondary results of one move. */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.EVENTS)
    public static class Found {
        /** 1 when the session connected again with the id it had before the move, else 0. */
        public long sameSession;
        /** 1 when the session was not connected again within the bound, else 0. */
        public long notFound;
    }

    private InetAddress[] resolve(String host) throws UnknownHostException {
        if (!NAME.equals(host)) {
            throw new UnknownHostException(host + ": not the benchmark's name");
        }
        return new InetAddress[] {behindName.get()};
    }

    @Setup(Level.Invocation)
    public void connect() throws Exception {
        System.setProperty("zookeeper.4lw.commands.whitelist", "*");
        System.setProperty("zookeeper.admin.enableServer", "false");
        dataDir = Files.createTempDirectory("zksdk-bench-moved").toFile();
        port = freePortOn(BEFORE);
        behindName.set(InetAddress.getByName(BEFORE));
        running = serverOn(BEFORE);
        String connect = NAME + ":" + port;
        if (SDK.equals(client)) {
            pool = ZkSessionPool.builder()
                    .name("moved")
                    .connectString(connect)
                    .sessionsPerEnsemble(1)
                    .sessionTimeout(Duration.ofMillis(SESSION_TIMEOUT_MS))
                    .hosts(HostsConfig.builder().resolver(this::resolve).build())
                    .build();
            pool.lease().close();
            await("the pool's session connected", () -> sdkSession() != null);
            sessionId = sdkSession().sessionId();
        } else {
            handle = new ZooKeeper(
                    connect,
                    SESSION_TIMEOUT_MS,
                    e -> {},
                    false,
                    new StaticHostProvider(List.of(InetSocketAddress.createUnresolved(NAME, port)), this::resolve));
            await("the handle connected", () -> handle.getState().isConnected());
            sessionId = handle.getSessionId();
        }
        // The server goes away; the client sees it, then the name points elsewhere.
        running.stop();
        await("the client disconnected", () -> !connectedNow());
        behindName.set(InetAddress.getByName(AFTER));
    }

    @Benchmark
    public long findMovedServer(Found found) throws Exception {
        running = serverOn(AFTER);
        long start = System.nanoTime();
        long deadline = start + TimeUnit.SECONDS.toNanos(FIND_SECONDS);
        while (!connectedNow() && System.nanoTime() < deadline) {
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5));
        }
        long elapsed = System.nanoTime() - start;
        boolean connected = connectedNow();
        found.notFound = connected ? 0 : 1;
        found.sameSession = connected && currentSessionId() == sessionId ? 1 : 0;
        return elapsed;
    }

    @TearDown(Level.Invocation)
    public void close() throws Exception {
        if (pool != null) {
            pool.close();
            pool = null;
        }
        if (handle != null) {
            handle.close();
            handle = null;
        }
        if (running != null) {
            running.close();
            running = null;
        }
    }

    private boolean connectedNow() {
        if (pool != null) {
            SessionStatus s = sdkSession();
            return s != null;
        }
        return handle.getState().isConnected();
    }

    private long currentSessionId() {
        return pool != null ? sdkSession().sessionId() : handle.getSessionId();
    }

    private SessionStatus sdkSession() {
        List<SessionStatus> sessions = pool.ensembles().get(0).sessions();
        return sessions.isEmpty() || !sessions.get(0).connected() ? null : sessions.get(0);
    }

    /** A standalone server bound to {@code ip:port} only, its data in the invocation's directory. */
    private TestingServer serverOn(String ip) throws Exception {
        InstanceSpec spec = new InstanceSpec(
                dataDir,
                port,
                -1,
                -1,
                false,
                -1,
                TICK_MS,
                -1,
                Map.of("clientPortAddress", ip, "maxSessionTimeout", String.valueOf(2 * SESSION_TIMEOUT_MS)),
                ip);
        TestingServer started = new TestingServer(spec, true);
        await("the server serving on " + ip + ":" + port, () -> {
            try {
                return FourLetterWordMain.send4LetterWord(ip, port, "srvr").contains("Mode: ");
            } catch (Exception e) {
                return false;
            }
        });
        return started;
    }

    private static int freePortOn(String ip) {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName(ip))) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void await(String what, BooleanSupplier condition) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("not within 60 s: " + what);
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10));
        }
    }
}
