package dev.zksdk;

import static org.assertj.core.api.Assertions.assertThat;

import dev.zksdk.testing.InProcessEnsembles;
import dev.zksdk.testing.RawZooKeeper;
import dev.zksdk.testing.ZkProxy;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.apache.curator.test.TestingServer;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.Op;
import org.apache.zookeeper.OpResult;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.data.Stat;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * With batching on, a lease keeps its per-session FIFO order (DESIGN.md §3) and its bounded time, on real servers: a
 * synchronous call goes after the lease's queued asynchronous ones, a unit sent again after a neighbour's failure goes
 * before any later unit, and a queued operation ends within one operation timeout of its call.
 */
class BatchedOrderingIT {

    static final Duration WAIT = Duration.ofSeconds(60);

    TestingServer server;
    ZkProxy proxy;
    RawZooKeeper observer;

    @BeforeEach
    void start() {
        server = InProcessEnsembles.startServer();
        proxy = ZkProxy.to(server.getConnectString());
        observer = RawZooKeeper.connect(server.getConnectString(), Duration.ofSeconds(30));
    }

    @AfterEach
    void stop() throws Exception {
        observer.close();
        proxy.close();
        server.close();
    }

    private static ZkSessionPool pool(String connect, BatchingConfig batching, Duration operationTimeout) {
        return ZkSessionPool.builder()
                .connectString(connect)
                .sessionTimeout(Duration.ofSeconds(20))
                .connectionTimeout(Duration.ofSeconds(5))
                .sessionsPerEnsemble(1)
                .asyncBatching(batching)
                .operationPolicy(OperationPolicy.builder()
                        .operationTimeout(operationTimeout)
                        .maxInFlight(10_000)
                        .breakerFailureRateThreshold(100f)
                        .build())
                .build();
    }

    static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static Throwable unwrap(Throwable e) {
        while (e instanceof CompletionException && e.getCause() != null) {
            e = e.getCause();
        }
        return e;
    }

    /**
     * A raw Curator watcher runs on ZooKeeper's event thread, the thread that also delivers the outcomes of the
     * session's batches. From there, a synchronous call made while the lease's asynchronous creates are in flight and
     * queued cannot wait for them (it would wait for itself until its operation timeout): it is sent at once and
     * answers, and the creates all land.
     */
    @Test
    void aSynchronousCallOnZooKeepersEventThreadDoesNotWaitForTheBatchesThatThreadDelivers() throws Exception {
        try (ZkSessionPool pool = pool(server.getConnectString(), BatchingConfig.of(64), Duration.ofSeconds(20));
                ZkLease lease = pool.lease()) {
            lease.create("/e", bytes("v0"), CreateMode.PERSISTENT);
            CompletableFuture<String> fromWatcher = new CompletableFuture<>();
            List<CompletableFuture<String>> creates = new CopyOnWriteArrayList<>();
            lease.curator()
                    .checkExists()
                    .usingWatcher((Watcher) event -> {
                        try {
                            // The first create goes in flight at once, the others queue behind it.
                            for (int i = 0; i < 10; i++) {
                                creates.add(lease.createAsync("/e/c-" + i, bytes("c"), CreateMode.PERSISTENT));
                            }
                            fromWatcher.complete(new String(lease.getData("/e"), StandardCharsets.UTF_8));
                        } catch (Throwable t) {
                            fromWatcher.completeExceptionally(t);
                        }
                    })
                    .forPath("/e");
            observer.zk().setData("/e", bytes("v1"), -1);
            assertThat(fromWatcher.get(WAIT.toMillis(), TimeUnit.MILLISECONDS))
                    .as("the synchronous read on the event thread")
                    .isEqualTo("v1");
            assertThat(creates).hasSize(10);
            for (CompletableFuture<String> c : creates) {
                c.get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
            }
            assertThat(observer.zk().getChildren("/e", false)).hasSize(10);
        }
    }

    /**
     * One lease writes one node with expected versions, alternating asynchronous writes (queued behind the one in
     * flight) with synchronous writes, and with asynchronous operations that have no batched form (multi, exists,
     * sync): each write must find the version the writes before it left, each reported stat is the issue order's, and
     * the server ends with the last write.
     */
    @Test
    void syncAndUnbatchedCallsOfALeaseFollowItsQueuedAsyncWritesInIssueOrder() throws Exception {
        int rounds = 60;
        try (ZkSessionPool pool = pool(server.getConnectString(), BatchingConfig.of(64), Duration.ofSeconds(10));
                ZkLease lease = pool.lease()) {
            long session = lease.sessionId();
            lease.create("/h", bytes("v0"), CreateMode.PERSISTENT);
            List<CompletableFuture<Stat>> asyncWrites = new ArrayList<>();
            List<Integer> asyncVersions = new ArrayList<>();
            List<CompletableFuture<Stat>> probes = new ArrayList<>();
            List<Integer> probeVersions = new ArrayList<>();
            List<CompletableFuture<List<OpResult>>> multis = new ArrayList<>();
            List<Integer> multiVersions = new ArrayList<>();
            int version = 0;
            for (int r = 0; r < rounds; r++) {
                for (int k = 0; k < 3; k++) {
                    asyncWrites.add(lease.setDataAsync("/h", bytes("v" + (version + 1)), version));
                    asyncVersions.add(++version);
                }
                probes.add(lease.existsAsync("/h")); // no batched form: must see the three writes before it
                probeVersions.add(version);
                multis.add(lease.multiAsync(List.of(Op.setData("/h", bytes("v" + (version + 1)), version))));
                multiVersions.add(++version);
                lease.syncAsync("/h");
                asyncWrites.add(lease.setDataAsync("/h", bytes("v" + (version + 1)), version));
                asyncVersions.add(++version);
                // The synchronous write, issued after the queued ones: it must find their version.
                Stat stat = lease.setData("/h", bytes("v" + (version + 1)), version);
                version++;
                assertThat(stat.getVersion())
                        .as("synchronous write %d", version)
                        .isEqualTo(version);
                byte[] read = lease.getData("/h"); // a synchronous read after the synchronous write
                assertThat(new String(read, StandardCharsets.UTF_8)).isEqualTo("v" + version);
            }
            for (int i = 0; i < asyncWrites.size(); i++) {
                Stat s = asyncWrites.get(i).get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
                assertThat(s.getVersion())
                        .as("asynchronous write %d", asyncVersions.get(i))
                        .isEqualTo(asyncVersions.get(i));
            }
            for (int i = 0; i < probes.size(); i++) {
                Stat s = probes.get(i).get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
                assertThat(s.getVersion())
                        .as("exists after version %d", probeVersions.get(i))
                        .isEqualTo(probeVersions.get(i));
            }
            for (int i = 0; i < multis.size(); i++) {
                List<OpResult> res = multis.get(i).get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
                assertThat(((OpResult.SetDataResult) res.get(0)).getStat().getVersion())
                        .as("multi write %d", multiVersions.get(i))
                        .isEqualTo(multiVersions.get(i));
            }
            Stat server = new Stat();
            byte[] data = observer.zk().getData("/h", false, server);
            assertThat(server.getVersion()).isEqualTo(version);
            assertThat(new String(data, StandardCharsets.UTF_8)).isEqualTo("v" + version);
            assertThat(lease.sessionId()).isEqualTo(session);
        }
    }

    /**
     * Synchronous calls made in stages chained without an executor to the lease's asynchronous writes (they run on the
     * pool's completion threads, all of them busy with such stages): each waits for the writes before it and none waits
     * for itself, so every one succeeds, with the value its write left or a later one.
     */
    @Test
    void aSynchronousCallInAStageOfAnAsynchronousWriteDoesNotWaitForItself() throws Exception {
        try (ZkSessionPool pool = pool(server.getConnectString(), BatchingConfig.of(8), Duration.ofSeconds(10));
                ZkLease lease = pool.lease()) {
            lease.create("/d", bytes("0"), CreateMode.PERSISTENT);
            List<CompletableFuture<Integer>> reads = new ArrayList<>();
            for (int i = 1; i <= 200; i++) {
                int written = i;
                reads.add(lease.setDataAsync("/d", bytes(Integer.toString(i)), i - 1)
                        .thenApply(stat -> Integer.parseInt(new String(lease.getData("/d"), StandardCharsets.UTF_8)))
                        .thenApply(seen -> {
                            assertThat(seen).as("read after write %d", written).isGreaterThanOrEqualTo(written);
                            return seen;
                        }));
            }
            for (CompletableFuture<Integer> r : reads) {
                assertThat(r.get(WAIT.toMillis(), TimeUnit.MILLISECONDS)).isPositive();
            }
        }
    }

    /**
     * Two writes of one node by one lease, the first in a unit that fails for a neighbour (so it is sent again) and the
     * second in the next unit: the server must end with the second's value. maxOps 2 makes the units; the proxy's
     * latency keeps the first unit's answer away while the second unit fills.
     */
    @Test
    void aUnitSentAgainAfterANeighboursFailureGoesBeforeTheNextUnit() throws Exception {
        ZooKeeper zk = observer.zk();
        zk.create("/taken", new byte[0], org.apache.zookeeper.ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        proxy.latency(Duration.ofMillis(30));
        try (ZkSessionPool pool = pool(proxy.connectString(), BatchingConfig.of(2), Duration.ofSeconds(10));
                ZkLease lease = pool.lease()) {
            lease.create("/x", bytes("start"), CreateMode.PERSISTENT);
            for (int round = 0; round < 10; round++) {
                CompletableFuture<?> head = lease.setDataAsync("/x", bytes("head"), -1); // in flight
                CompletableFuture<?> failing = lease.createAsync("/taken", new byte[0], CreateMode.PERSISTENT);
                CompletableFuture<Stat> first = lease.setDataAsync("/x", bytes("first-" + round), -1);
                CompletableFuture<Stat> second = lease.setDataAsync("/x", bytes("second-" + round), -1);
                CompletableFuture<?> filler = lease.createAsync("/filler-" + round, new byte[0], CreateMode.PERSISTENT);
                head.get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
                assertThat(failing)
                        .failsWithin(WAIT)
                        .withThrowableOfType(java.util.concurrent.ExecutionException.class)
                        .withCauseInstanceOf(ZkNodeExistsException.class);
                Stat s1 = first.get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
                Stat s2 = second.get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
                filler.get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
                assertThat(s2.getMzxid())
                        .as("round %d: the second write after the first (or after it in one multi)", round)
                        .isGreaterThanOrEqualTo(s1.getMzxid());
                assertThat(new String(zk.getData("/x", false, null), StandardCharsets.UTF_8))
                        .as("round %d", round)
                        .isEqualTo("second-" + round);
            }
        }
    }

    /**
     * The server stops answering (a frozen proxy) while a lease keeps issuing asynchronous creates, most of them
     * queued: every future ends within one operation timeout of its call (plus a margin for the sweep and a loaded
     * machine), and none reported applied is missing on the server, none reported not applied is there.
     */
    @Test
    void aQueuedOperationEndsWithinTheOperationTimeoutOfItsCall() throws Exception {
        Duration timeout = Duration.ofMillis(2000);
        long marginNanos = TimeUnit.MILLISECONDS.toNanos(1500);
        try (ZkSessionPool pool = pool(proxy.connectString(), BatchingConfig.of(16), timeout);
                ZkLease lease = pool.lease()) {
            lease.create("/q", new byte[0], CreateMode.PERSISTENT);
            List<String> paths = new ArrayList<>();
            List<Long> calledAt = new ArrayList<>();
            List<CompletableFuture<Long>> endedAt = new ArrayList<>();
            List<CompletableFuture<String>> calls = new ArrayList<>();
            long frozenUntil = 0;
            long begin = System.nanoTime();
            for (int i = 0; System.nanoTime() - begin < TimeUnit.MILLISECONDS.toNanos(6000); i++) {
                long elapsed = System.nanoTime() - begin;
                if (i > 0 && !proxy.isFrozen() && frozenUntil == 0 && elapsed > TimeUnit.MILLISECONDS.toNanos(500)) {
                    proxy.freeze();
                    frozenUntil = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(4000);
                }
                if (proxy.isFrozen() && System.nanoTime() - frozenUntil > 0) {
                    proxy.unfreeze();
                }
                String p = "/q/n-" + i;
                paths.add(p);
                calledAt.add(System.nanoTime());
                CompletableFuture<String> f = lease.createAsync(p, new byte[0], CreateMode.PERSISTENT);
                calls.add(f);
                endedAt.add(f.handle((v, e) -> System.nanoTime()));
                if (i % 100 == 99) {
                    TimeUnit.MILLISECONDS.sleep(5); // pacing of the issuing loop, not a wait for a condition
                }
            }
            proxy.unfreeze();
            int ok = 0;
            int notApplied = 0;
            int unknown = 0;
            for (int i = 0; i < calls.size(); i++) {
                long ended = endedAt.get(i).get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
                assertThat(ended - calledAt.get(i))
                        .as("%s ended %d ms after its call", paths.get(i), (ended - calledAt.get(i)) / 1_000_000)
                        .isLessThanOrEqualTo(timeout.toNanos() + marginNanos);
                Stat stat = observer.zk().exists(paths.get(i), false);
                try {
                    calls.get(i).join();
                    ok++;
                    assertThat(stat).as("%s reported created", paths.get(i)).isNotNull();
                } catch (CompletionException e) {
                    Throwable t = unwrap(e);
                    if (t instanceof ZkConnectionLossException && ((ZkConnectionLossException) t).outcomeUnknown()) {
                        unknown++;
                    } else {
                        notApplied++;
                        assertThat(t).as(paths.get(i)).isInstanceOf(ZkException.class);
                        assertThat(stat)
                                .as("%s reported not applied (%s)", paths.get(i), t)
                                .isNull();
                    }
                }
            }
            System.out.printf(
                    "frozen stream: %d calls, %d ok, %d not applied, %d outcome unknown%n",
                    calls.size(), ok, notApplied, unknown);
            assertThat(ok).isPositive();
            assertThat(notApplied + unknown)
                    .as("operations caught by the freeze")
                    .isPositive();
        }
    }
}
