package dev.zksdk.benchmarks;

import dev.zksdk.EphemeralNode;
import dev.zksdk.RecoveryEvent;
import dev.zksdk.SessionEvent;
import dev.zksdk.SessionListener;
import dev.zksdk.WatchHandle;
import dev.zksdk.ZkLease;
import dev.zksdk.ZkSessionPool;
import dev.zksdk.testing.ForcedExpiry;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.zookeeper.CreateMode;
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
 * Recovery after session expiry with {@code owned} ephemerals ({@code lease.ephemeral}) and as many watches
 * ({@code lease.watch}) on one pooled session.
 *
 * <p>Before each measured invocation the session is expired for real on the server ({@link ForcedExpiry}: a second
 * handle attaches to it and closes it, which deletes its ephemerals and drops its watches). The invocation then waits
 * for the pool's {@code recovered} event ({@link SessionListener#onRecovered}) and checks that every ephemeral was
 * re-created and every watch re-armed. The primary score is the whole outage as a caller lives it, from the server
 * ending the session to the end of recovery; it includes ZooKeeper's own reconnect delay (a random wait of up to a
 * second before a client reconnects after losing its connection). {@link RecoveryTimes} adds the part the SDK
 * controls: from the replacement session's {@code CONNECTED} event to {@code recovered}, as this benchmark's listener
 * saw it and as the event itself reports it.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2)
@Measurement(iterations = 10)
@Threads(1)
@Fork(1)
public class RecoveryBenchmark {

    private static final long RECOVERY_TIMEOUT_SECONDS = 60;

    @Param({"1", "100", "1000"})
    public int owned;

    private ZkSessionPool pool;
    private ZkLease lease;
    private final List<EphemeralNode> ephemerals = new ArrayList<>();
    private final List<WatchHandle> watches = new ArrayList<>();
    private String connectString;

    private volatile Expiry current;

    /** One forced expiry and what the listener saw of its recovery. */
    private static final class Expiry {
        final long expiredSessionId;
        final CountDownLatch recovered = new CountDownLatch(1);
        volatile long newSessionAtNanos;
        volatile long recoveredAtNanos;
        volatile RecoveryEvent event;

        Expiry(long expiredSessionId) {
            this.expiredSessionId = expiredSessionId;
        }
    }

    /** The part of each recovery the SDK controls, in milliseconds (one value per iteration). */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.EVENTS)
    public static class RecoveryTimes {
        /** From the replacement session's {@code CONNECTED} event to {@code recovered}, as this listener saw it. */
        public double newSessionToRecoveredMs;
        /** {@link RecoveryEvent#duration()}: the SDK's own measure of the same span. */
        public double reportedRecoveryMs;
    }

    @Setup(Level.Trial)
    public void open(ServerFixture fixture) throws Exception {
        connectString = fixture.connectString();
        pool = ZkSessionPool.builder()
                .connectString(connectString)
                .sessionTimeout(Workload.SESSION_TIMEOUT)
                .connectionTimeout(Workload.CONNECT_TIMEOUT)
                .name("recovery")
                .listener(new SessionListener() {
                    @Override
                    public void onStateChange(SessionEvent event) {
                        Expiry expiry = current;
                        if (expiry != null
                                && event.newSession()
                                && event.sessionIdBefore() == expiry.expiredSessionId) {
                            expiry.newSessionAtNanos = System.nanoTime();
                        }
                    }

                    @Override
                    public void onRecovered(RecoveryEvent event) {
                        Expiry expiry = current;
                        if (expiry != null && event.oldSessionId() == expiry.expiredSessionId) {
                            expiry.recoveredAtNanos = System.nanoTime();
                            expiry.event = event;
                            expiry.recovered.countDown();
                        }
                    }
                })
                .build();
        lease = pool.lease();
        byte[] data = Workload.payload();
        String parent = Workload.RECOVERY + "/run-" + Long.toHexString(lease.sessionId());
        lease.create(parent, new byte[0], CreateMode.PERSISTENT);
        List<CompletableFuture<String>> created = new ArrayList<>();
        for (int i = 0; i < owned; i++) {
            created.add(lease.createAsync(parent + "/watched-" + i, data, CreateMode.PERSISTENT));
        }
        CompletableFuture.allOf(created.toArray(new CompletableFuture<?>[0])).get(60, TimeUnit.SECONDS);
        for (int i = 0; i < owned; i++) {
            ephemerals.add(lease.ephemeral(parent + "/owned-" + i, data));
            watches.add(lease.watch(parent + "/watched-" + i, event -> {}));
        }
    }

    @Setup(Level.Invocation)
    public void expire() throws Exception {
        ZooKeeper zk = lease.curator().getZookeeperClient().getZooKeeper();
        long sessionId = zk.getSessionId();
        current = new Expiry(sessionId);
        ForcedExpiry.expireSession(connectString, sessionId, zk.getSessionPasswd());
    }

    @Benchmark
    public RecoveryEvent expiryToRecovered(RecoveryTimes times) throws InterruptedException {
        Expiry expiry = current;
        if (!expiry.recovered.await(RECOVERY_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
            throw new IllegalStateException(
                    "no recovered event within " + RECOVERY_TIMEOUT_SECONDS + " s after session 0x"
                            + Long.toHexString(expiry.expiredSessionId) + " expired; pool: " + pool.stats());
        }
        RecoveryEvent event = expiry.event;
        if (!event.complete() || event.ephemeralsRecreated() != owned || event.watchesRearmed() != owned) {
            throw new IllegalStateException(
                    "recovery did not restore all " + owned + " ephemerals and " + owned + " watches: " + event);
        }
        if (expiry.newSessionAtNanos == 0) {
            throw new IllegalStateException("recovered without a new-session event before it: " + event);
        }
        times.newSessionToRecoveredMs = (expiry.recoveredAtNanos - expiry.newSessionAtNanos) / 1e6;
        times.reportedRecoveryMs = event.duration().toNanos() / 1e6;
        return event;
    }

    @TearDown(Level.Trial)
    public void close() {
        watches.forEach(WatchHandle::close);
        ephemerals.forEach(EphemeralNode::close);
        lease.close();
        pool.close();
    }
}
