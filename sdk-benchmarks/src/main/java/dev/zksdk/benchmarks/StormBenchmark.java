package dev.zksdk.benchmarks;

import dev.zksdk.SessionEvent;
import dev.zksdk.SessionListener;
import dev.zksdk.SessionState;
import dev.zksdk.ZkLease;
import dev.zksdk.ZkSessionPool;
import dev.zksdk.hosts.HostsConfig;
import dev.zksdk.testing.ProcessEnsemble;
import dev.zksdk.testing.ServerProcess;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLongArray;
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

/**
 * A reconnect storm: {@code sessions} sessions attached to one server in a separate process, which is killed
 * ({@code kill -9}) and started again on the same port, with ZooKeeper's default listen backlog (50) and no
 * {@code maxClientCnxns} limit (one process, one address, more sessions than the default 60).
 *
 * <p>{@code client=sdk}: one {@link ZkSessionPool} with {@code sessions} pooled sessions, the SDK's host selection at
 * its defaults (reconnect delay with full jitter, from 100 ms up to 2 s) except what 200 sessions from one process need:
 * a per-server connection budget of {@code sessions} and a faster session-creation rate while they are opened.
 * {@code client=zookeeper}: {@code sessions} plain ZooKeeper handles, which pause a second between rounds over their
 * (single) server.
 *
 * <p>Before each measured storm the server is killed and every session is seen disconnected (untimed). The measured
 * invocation launches the server's JVM again and waits until every session is back; the primary score is that whole
 * time, server start-up included. {@link StormCounters} splits it: launch to the first session back (the server's
 * start-up), then each session's time back counted from the first, as percentiles and a histogram. A session that
 * comes back as a new session (it expired) is counted; the session timeout ({@value #SESSION_TIMEOUT_SECONDS} s) leaves
 * room for a slow restart, so none should.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 1)
@Measurement(iterations = 5)
@Threads(1)
@Fork(1)
public class StormBenchmark {

    static final String SDK = "sdk";
    static final String ZOOKEEPER = "zookeeper";
    static final int SESSION_TIMEOUT_SECONDS = 30;
    private static final Duration SESSION_TIMEOUT = Duration.ofSeconds(SESSION_TIMEOUT_SECONDS);
    private static final Duration WAIT = Duration.ofSeconds(90);
    /** Raw handles are opened this many at a time, so that setting up does not itself storm the server. */
    private static final int OPEN_BATCH = 20;

    @Param({SDK, ZOOKEEPER})
    public String client;

    @Param({"200"})
    public int sessions;

    /**
     * Accepted because the profile runner passes it to every benchmark; this one always starts its own server in a
     * separate process, since it kills and restarts it.
     */
    @Param({BenchServer.PROCESS})
    public String server;

    private ProcessEnsemble ensemble;
    private ServerProcess serverProcess;
    private ZkSessionPool pool;
    private final List<ZkLease> leases = new ArrayList<>();
    private ZooKeeper[] handles;
    private long[] sessionIds;

    /** The storm being measured, or null between storms: events outside one are not recorded. */
    private volatile Storm storm;

    /** What the sessions did in one storm, indexed by session. */
    private static final class Storm {
        final CountDownLatch down;
        final CountDownLatch back;
        final AtomicIntegerArray wentDown;
        final AtomicLongArray backAt;
        final AtomicIntegerArray expired;

        Storm(int sessions) {
            down = new CountDownLatch(sessions);
            back = new CountDownLatch(sessions);
            wentDown = new AtomicIntegerArray(sessions);
            backAt = new AtomicLongArray(sessions);
            expired = new AtomicIntegerArray(sessions);
        }

        void wentDown(int session) {
            if (wentDown.compareAndSet(session, 0, 1)) {
                down.countDown();
            }
        }

        void cameBack(int session, boolean newSession) {
            if (newSession) {
                expired.set(session, 1);
            }
            if (backAt.compareAndSet(session, 0, System.nanoTime())) {
                back.countDown();
            }
        }

        int expiredCount() {
            int n = 0;
            for (int i = 0; i < expired.length(); i++) {
                n += expired.get(i);
            }
            return n;
        }

        long[] times() {
            long[] t = new long[backAt.length()];
            for (int i = 0; i < t.length; i++) {
                t[i] = backAt.get(i);
            }
            return t;
        }
    }

    @Setup(Level.Trial)
    public void start() throws InterruptedException {
        if (!server.equals(BenchServer.PROCESS)) {
            System.err.println("StormBenchmark starts its own server in a separate process (it kills and restarts it);"
                    + " server=" + server + " does not apply to it");
        }
        if (sessions < 1) {
            throw new IllegalArgumentException("sessions must be at least 1, was " + sessions);
        }
        BenchServer.absoluteClassPath();
        ensemble = ProcessEnsemble.builder().size(1).maxClientCnxns(0).start();
        serverProcess = ensemble.server(1);
        sessionIds = new long[sessions];
        switch (client) {
            case SDK -> openPool();
            case ZOOKEEPER -> openHandles();
            default ->
                throw new IllegalArgumentException(
                        "client must be " + SDK + " or " + ZOOKEEPER + ", was '" + client + "'");
        }
    }

    private void openPool() {
        pool = ZkSessionPool.builder()
                .connectString(ensemble.connectString())
                .sessionTimeout(SESSION_TIMEOUT)
                .connectionTimeout(SESSION_TIMEOUT)
                .sessionsPerEnsemble(sessions)
                .name("storm")
                .hosts(HostsConfig.builder()
                        .perServerConnectionBudget(sessions)
                        .sessionCreationRate(100)
                        .build())
                .listener(new SessionListener() {
                    @Override
                    public void onStateChange(SessionEvent event) {
                        Storm s = storm;
                        if (s == null) {
                            return;
                        }
                        if (event.state() == SessionState.SUSPENDED) {
                            s.wentDown(event.sessionIndex());
                        } else if (event.state() == SessionState.RECONNECTED) {
                            s.cameBack(event.sessionIndex(), event.newSession());
                        }
                    }
                })
                .build();
        // One lease per session: leases go round robin over the pool's sessions.
        for (int i = 0; i < sessions; i++) {
            leases.add(pool.lease());
        }
        for (ZkLease lease : leases) {
            lease.exists("/");
        }
        if (pool.stats().openSessions() != sessions) {
            throw new IllegalStateException("the pool opened " + pool.stats().openSessions() + " sessions, not "
                    + sessions + ": " + pool.stats());
        }
    }

    private void openHandles() throws InterruptedException {
        handles = new ZooKeeper[sessions];
        for (int from = 0; from < sessions; from += OPEN_BATCH) {
            int to = Math.min(sessions, from + OPEN_BATCH);
            CountDownLatch connected = new CountDownLatch(to - from);
            for (int i = from; i < to; i++) {
                handles[i] = openHandle(i, connected);
            }
            if (!connected.await(WAIT.toSeconds(), TimeUnit.SECONDS)) {
                throw new IllegalStateException(
                        "raw handles " + from + " to " + (to - 1) + " did not connect within " + WAIT);
            }
        }
        for (int i = 0; i < sessions; i++) {
            sessionIds[i] = handles[i].getSessionId();
        }
    }

    private ZooKeeper openHandle(int index, CountDownLatch connected) {
        try {
            return new ZooKeeper(ensemble.connectString(), (int) SESSION_TIMEOUT.toMillis(), event -> {
                Storm s = storm;
                switch (event.getState()) {
                    case SyncConnected -> {
                        connected.countDown();
                        if (s != null) {
                            s.cameBack(index, false);
                        }
                    }
                    case Disconnected -> {
                        if (s != null) {
                            s.wentDown(index);
                        }
                    }
                    case Expired -> {
                        if (s != null) {
                            // The handle is finished; it is replaced after the storm, and counted as back (expired)
                            // here.
                            s.cameBack(index, true);
                        }
                    }
                    default -> {}
                }
            });
        } catch (IOException e) {
            throw new UncheckedIOException("could not create a ZooKeeper handle for " + ensemble.connectString(), e);
        }
    }

    @Setup(Level.Invocation)
    public void killServer() throws InterruptedException {
        Storm s = new Storm(sessions);
        storm = s;
        serverProcess.kill9();
        if (!s.down.await(WAIT.toSeconds(), TimeUnit.SECONDS)) {
            throw new IllegalStateException(
                    (sessions - s.down.getCount()) + " of " + sessions + " sessions saw the server go within " + WAIT);
        }
    }

    @Benchmark
    public long[] restartToAllBack(StormCounters counters) throws InterruptedException {
        Storm s = storm;
        OptionalLong overflowsBefore = ServerCounters.listenOverflows();
        OptionalLong dropsBefore = ServerCounters.listenDrops();
        long launched = System.nanoTime();
        serverProcess.restart();
        if (!s.back.await(WAIT.toSeconds(), TimeUnit.SECONDS)) {
            throw new IllegalStateException((sessions - s.back.getCount()) + " of " + sessions
                    + " sessions were back within " + WAIT + " of restarting the server");
        }
        long[] times = s.times();
        counters.record(launched, times, s.expiredCount());
        OptionalLong overflowsAfter = ServerCounters.listenOverflows();
        OptionalLong dropsAfter = ServerCounters.listenDrops();
        counters.listenOverflows = delta(overflowsBefore, overflowsAfter);
        counters.listenDrops = delta(dropsBefore, dropsAfter);
        boolean read = overflowsBefore.isPresent()
                && overflowsAfter.isPresent()
                && dropsBefore.isPresent()
                && dropsAfter.isPresent();
        counters.kernelCountersUnread = read ? 0 : 1;
        return times;
    }

    private static long delta(OptionalLong before, OptionalLong after) {
        return before.isPresent() && after.isPresent() ? after.getAsLong() - before.getAsLong() : 0;
    }

    @TearDown(Level.Invocation)
    public void afterStorm() throws InterruptedException {
        Storm s = storm;
        storm = null;
        if (handles == null || s == null) {
            return;
        }
        // An expired raw handle is dead for good: a new one takes its place so the next storm has every session again.
        for (int i = 0; i < sessions; i++) {
            if (s.expired.get(i) == 1) {
                handles[i].close();
                CountDownLatch connected = new CountDownLatch(1);
                handles[i] = openHandle(i, connected);
                if (!connected.await(WAIT.toSeconds(), TimeUnit.SECONDS)) {
                    throw new IllegalStateException("replacement handle " + i + " did not connect within " + WAIT);
                }
                sessionIds[i] = handles[i].getSessionId();
            } else if (handles[i].getSessionId() != sessionIds[i]) {
                throw new IllegalStateException("handle " + i + " changed session without expiring: 0x"
                        + Long.toHexString(sessionIds[i]) + " -> 0x" + Long.toHexString(handles[i].getSessionId()));
            }
        }
    }

    @TearDown(Level.Trial)
    public void stop() throws InterruptedException {
        try {
            leases.forEach(ZkLease::close);
            if (pool != null) {
                pool.close();
            }
            if (handles != null) {
                for (ZooKeeper zk : handles) {
                    if (zk != null) {
                        zk.close();
                    }
                }
            }
            ConnectBenchmark.awaitNoClientThreads();
        } finally {
            if (ensemble != null) {
                ensemble.close();
            }
        }
    }
}
