package dev.zksdk.benchmarks;

import dev.zksdk.ZkLease;
import dev.zksdk.ZkSessionPool;
import dev.zksdk.hosts.HostsConfig;
import dev.zksdk.metrics.SessionStatus;
import dev.zksdk.testing.ProcessEnsemble;
import dev.zksdk.testing.ServerProcess;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import org.apache.zookeeper.Watcher;
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
 * Rebalancing after failover (issue 21): {@code sessions} sessions on a three-server separate-process ensemble, which
 * is restarted in a rolling fashion with {@code kill -9} (each server killed, every session seen on the two others,
 * then the server started again and serving before the next is killed). The measured invocation is one whole rolling
 * restart and then {@value #OBSERVE_SECONDS} s of sampling where the sessions are, every {@value #SAMPLE_MS} ms.
 *
 * <p>Skew = (most sessions on one server - fewest on one) / (sessions / servers), in percent: 0 is an even spread,
 * 300 % is every session on one server of three. JMH's primary score is the whole invocation (rolling restart and
 * window); {@link Skew#evenAfterMs} is the time from the last restart (the last server serving again) until the skew is
 * first at most {@value #GOAL_PERCENT} %, or {@value #OBSERVE_SECONDS} s when it never is (then
 * {@code evenWithinWindow} is 0). {@link Skew} also gives the skew when the last server was killed, at the last restart
 * and at 10, 30 and 60 s after it, and the sessions that expired (came back as new sessions).
 *
 * <p>A separate client writes (a sequential create) every sample and while the sessions leave a killed server, as a
 * live application does: a server refuses a session that has seen a later transaction than it has applied, and after
 * the leader election of a rolling restart a follower stays behind the sessions connected to the leader until the next
 * write, so without writes no session could move to it, for either client.
 *
 * <p>{@code client=sdk}: one {@link ZkSessionPool} of {@code sessions} sessions, rebalancing at its default interval.
 * {@code client=zookeeper}: {@code sessions} plain ZooKeeper handles (their host provider never moves a connected
 * session).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 0)
@Measurement(iterations = 1)
@Threads(1)
@Fork(1)
public class RebalanceBenchmark {

    static final String SDK = "sdk";
    static final String ZOOKEEPER = "zookeeper";
    static final int OBSERVE_SECONDS = 60;
    static final int SAMPLE_MS = 250;
    static final int GOAL_PERCENT = 20;
    private static final Duration SESSION_TIMEOUT = Duration.ofSeconds(30);
    private static final Duration WAIT = Duration.ofSeconds(90);
    private static final String WRITTEN = "/zksdk-bench-rebalance-";

    @Param({SDK, ZOOKEEPER})
    public String client;

    @Param({"30"})
    public int sessions;

    /** Accepted because the profile runner passes it to every benchmark; this one always starts its own servers. */
    @Param({BenchServer.PROCESS})
    public String server;

    private ProcessEnsemble ensemble;
    private ZkSessionPool pool;
    private final List<ZkLease> leases = new ArrayList<>();
    private Handle[] handles;
    private final AtomicInteger expired = new AtomicInteger();
    /** A client of its own writing a node every sample, as any live application does (see the class comment). */
    private ZooKeeper writer;

    /** A plain handle that tells which server it is connected to. */
    private static final class Handle extends ZooKeeper {
        Handle(String connectString, int timeoutMs, Watcher watcher) throws IOException {
            super(connectString, timeoutMs, watcher);
        }

        String server() {
            if (!getState().isConnected()) {
                return null;
            }
            SocketAddress a = testableRemoteSocketAddress();
            return a instanceof InetSocketAddress i ? "127.0.0.1:" + i.getPort() : null;
        }
    }

    /** The secondary results of one rolling restart. */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.EVENTS)
    public static class Skew {
        /** Skew (percent) once the last server was killed, every session on the two others. */
        public double skewAtLastKillPercent;
        /** Skew at the moment the last server serves again. */
        public double skewAtLastRestartPercent;

        public double skewAt10sPercent;
        public double skewAt30sPercent;
        public double skewAt60sPercent;
        /**
         * From the last restart until the skew was first at most the goal; the window's length when it never was (the
         * primary score is the whole invocation: the rolling restart and the window).
         */
        public double evenAfterMs;
        /** 1 when the skew came down to the goal within the window, else 0. */
        public long evenWithinWindow;
        /** Sessions that came back as new sessions (expired) during the rolling restart and the window. */
        public long expired;
    }

    @Setup(Level.Trial)
    public void start() throws InterruptedException {
        BenchServer.absoluteClassPath();
        ensemble = ProcessEnsemble.builder().size(3).maxClientCnxns(0).start();
        ensemble.awaitQuorum(WAIT);
        try {
            writer = new ZooKeeper(ensemble.connectString(), (int) SESSION_TIMEOUT.toMillis(), event -> {});
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        switch (client) {
            case SDK -> openPool();
            case ZOOKEEPER -> openHandles();
            default ->
                throw new IllegalArgumentException(
                        "client must be " + SDK + " or " + ZOOKEEPER + ", was '" + client + "'");
        }
        awaitAllConnected();
    }

    private void openPool() {
        pool = ZkSessionPool.builder()
                .connectString(ensemble.connectString())
                .sessionTimeout(SESSION_TIMEOUT)
                .sessionsPerEnsemble(sessions)
                .name("rebalance")
                .hosts(HostsConfig.builder()
                        .perServerConnectionBudget(sessions)
                        .sessionCreationRate(100)
                        .build())
                .build();
        for (int i = 0; i < sessions; i++) {
            leases.add(pool.lease());
        }
        for (ZkLease lease : leases) {
            lease.exists("/");
        }
    }

    private void openHandles() {
        handles = new Handle[sessions];
        for (int i = 0; i < sessions; i++) {
            try {
                handles[i] = new Handle(ensemble.connectString(), (int) SESSION_TIMEOUT.toMillis(), event -> {
                    if (event.getState() == Watcher.Event.KeeperState.Expired) {
                        expired.incrementAndGet();
                    }
                });
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    /** Sessions per server, every server listed; null while a session is not connected. */
    private Map<String, Integer> spread() {
        Map<String, Integer> out = new HashMap<>();
        for (ServerProcess s : ensemble.servers()) {
            out.put(s.address(), 0);
        }
        if (pool != null) {
            for (SessionStatus s : pool.ensembles().get(0).sessions()) {
                if (!s.connected() || s.server() == null) {
                    return null;
                }
                out.merge(s.server(), 1, Integer::sum);
            }
        } else {
            for (Handle h : handles) {
                String server = h.server();
                if (server == null) {
                    return null;
                }
                out.merge(server, 1, Integer::sum);
            }
        }
        return out;
    }

    private double skewPercent(Map<String, Integer> spread) {
        int max = spread.values().stream().mapToInt(Integer::intValue).max().orElse(0);
        int min = spread.values().stream().mapToInt(Integer::intValue).min().orElse(0);
        return 100.0 * (max - min) / ((double) sessions / spread.size());
    }

    private Map<String, Integer> awaitAllConnected() {
        long end = System.nanoTime() + WAIT.toNanos();
        while (System.nanoTime() - end < 0) {
            Map<String, Integer> now = spread();
            if (now != null) {
                return now;
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(50));
        }
        throw new IllegalStateException("not every session connected within " + WAIT);
    }

    /** The pool's session ids, in session order; null for plain handles. */
    private long[] poolIds() {
        if (pool == null) {
            return null;
        }
        return pool.ensembles().get(0).sessions().stream()
                .mapToLong(SessionStatus::sessionId)
                .toArray();
    }

    @Benchmark
    public long rollingRestart(Skew skew) {
        int expiredBefore = expired.get();
        long[] idsBefore = poolIds();
        Map<String, Integer> atLastKill = null;
        for (ServerProcess s : ensemble.servers()) {
            s.kill9();
            long end = System.nanoTime() + WAIT.toNanos();
            while (true) {
                Map<String, Integer> now = spread();
                if (now != null && now.get(s.address()) == 0) {
                    atLastKill = now;
                    break;
                }
                if (System.nanoTime() - end > 0) {
                    throw new IllegalStateException("sessions did not leave killed " + s.address() + " within " + WAIT);
                }
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20));
                write();
            }
            s.restart();
            s.awaitServing(WAIT);
            ensemble.awaitQuorum(WAIT);
        }
        long lastRestart = System.nanoTime();
        skew.skewAtLastKillPercent = skewPercent(atLastKill);
        Map<String, Integer> first = spread();
        skew.skewAtLastRestartPercent = first == null ? skew.skewAtLastKillPercent : skewPercent(first);
        long evenAt = -1;
        double last = skew.skewAtLastRestartPercent;
        for (int tick = 0; tick <= OBSERVE_SECONDS * 1000 / SAMPLE_MS; tick++) {
            long due = lastRestart + TimeUnit.MILLISECONDS.toNanos((long) tick * SAMPLE_MS);
            long wait = due - System.nanoTime();
            if (wait > 0) {
                LockSupport.parkNanos(wait);
            }
            write();
            Map<String, Integer> now = spread();
            if (now != null) {
                last = skewPercent(now);
            }
            long sinceMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - lastRestart);
            if (evenAt < 0 && now != null && last <= GOAL_PERCENT) {
                evenAt = sinceMs;
            }
            int atMs = tick * SAMPLE_MS;
            if (atMs == 10_000) {
                skew.skewAt10sPercent = last;
            } else if (atMs == 30_000) {
                skew.skewAt30sPercent = last;
            } else if (atMs == OBSERVE_SECONDS * 1000) {
                skew.skewAt60sPercent = last;
            }
        }
        skew.evenWithinWindow = evenAt >= 0 ? 1 : 0;
        skew.expired = expired.get() - expiredBefore;
        long[] idsAfter = poolIds();
        if (idsBefore != null) {
            for (int i = 0; i < idsBefore.length; i++) {
                if (idsBefore[i] != idsAfter[i]) {
                    skew.expired++;
                }
            }
        }
        skew.evenAfterMs = evenAt >= 0 ? evenAt : OBSERVE_SECONDS * 1000.0;
        System.out.println("rebalance " + client + ": skew at last kill " + skew.skewAtLastKillPercent
                + " %, at last restart " + skew.skewAtLastRestartPercent + " %, 10 s " + skew.skewAt10sPercent
                + " %, 30 s " + skew.skewAt30sPercent + " %, 60 s " + skew.skewAt60sPercent + " %; even (<= "
                + GOAL_PERCENT + " %) after " + (evenAt >= 0 ? evenAt + " ms" : "never") + "; expired "
                + skew.expired);
        return evenAt >= 0 ? evenAt : OBSERVE_SECONDS * 1000L;
    }

    /** One write of the writer's node, not waited for (it fails while the writer has no quorum: ignored). */
    private void write() {
        writer.create(
                WRITTEN,
                new byte[0],
                org.apache.zookeeper.ZooDefs.Ids.OPEN_ACL_UNSAFE,
                org.apache.zookeeper.CreateMode.PERSISTENT_SEQUENTIAL,
                (rc, path, ctx, name) -> {},
                null);
    }

    @TearDown(Level.Trial)
    public void stop() throws InterruptedException {
        try {
            if (writer != null) {
                writer.close();
            }
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
        } finally {
            if (ensemble != null) {
                ensemble.close();
            }
        }
    }
}
