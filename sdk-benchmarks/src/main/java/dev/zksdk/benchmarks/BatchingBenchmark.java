package dev.zksdk.benchmarks;

import dev.zksdk.BatchingConfig;
import dev.zksdk.ZkLease;
import dev.zksdk.ZkSessionPool;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BiConsumer;
import org.apache.zookeeper.AsyncCallback;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Op;
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
import org.openjdk.jmh.annotations.Warmup;

/**
 * Batched asynchronous writes ({@link BatchingConfig}) against the same writes unbatched and against the raw handle's
 * asynchronous calls: persistent creates of new nodes and setData, from one thread keeping {@code inFlight} requests in
 * flight (1, 64, 1,000). At 1 in flight nothing is batched (an operation goes alone when nothing is in flight), so the
 * throughput there is the inverse of the latency, and shows what batching costs a lone caller. The nodes a create run
 * made are deleted after each iteration (not measured), so every iteration of every client writes to the same tree.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 1, time = 2)
@Measurement(iterations = 3, time = 2)
@Fork(1)
public class BatchingBenchmark {

    /** The most operations per batch in the batched pool. */
    public static final int MAX_OPS = 256;

    /** Nodes the setData runs write in turn. */
    static final int SET_NODES = 1000;

    static final String ROOT = Workload.ROOT + "/batching";

    @Param({"1", "64", "1000"})
    public int inFlight;

    /** One raw handle, a pool without batching and one with, each with one session; the nodes they write. */
    @State(Scope.Benchmark)
    public static class Clients {
        ZooKeeper raw;
        ZkSessionPool plain;
        ZkSessionPool batched;
        ZkLease plainLease;
        ZkLease batchedLease;
        /** This trial's parent of new nodes: each fork creates under a parent of its own. */
        String parent;

        @Setup(Level.Trial)
        public void open(ServerFixture fixture) throws Exception {
            raw = Workload.connect(fixture.connectString());
            plain = pool(fixture, "unbatched", null);
            batched = pool(fixture, "batched", BatchingConfig.of(MAX_OPS));
            plainLease = plain.lease();
            batchedLease = batched.lease();
            parent = ROOT + "/" + UUID.randomUUID();
            ensure(ROOT);
            ensure(parent);
            for (int i = 0; i < SET_NODES; i++) {
                ensure(parent + "-set-" + i);
            }
        }

        private void ensure(String path) throws Exception {
            try {
                raw.create(path, Workload.payload(), ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            } catch (KeeperException.NodeExistsException e) {
                // made by an earlier fork
            }
        }

        private static ZkSessionPool pool(ServerFixture fixture, String name, BatchingConfig batching) {
            ZkSessionPool pool = ZkSessionPool.builder()
                    .connectString(fixture.connectString())
                    .sessionTimeout(Workload.SESSION_TIMEOUT)
                    .connectionTimeout(Workload.CONNECT_TIMEOUT)
                    .asyncBatching(batching)
                    .name(name)
                    .build();
            try (ZkLease lease = pool.lease()) {
                lease.getData(Workload.DATA);
            }
            return pool;
        }

        @TearDown(Level.Trial)
        public void close() throws InterruptedException {
            plainLease.close();
            batchedLease.close();
            plain.close();
            batched.close();
            raw.close();
        }
    }

    /**
     * A window of asynchronous requests: each invocation waits for a free slot, then sends one request whose
     * completion frees its slot. Slots still taken at the end of an iteration are waited for; any failed request fails
     * the run.
     */
    @State(Scope.Thread)
    public static class Window {
        Semaphore slots;
        int size;
        long next;
        final AtomicLong failures = new AtomicLong();
        final AtomicReference<String> firstFailure = new AtomicReference<>();

        final AsyncCallback.StringCallback rawCreated = (rc, path, ctx, name) -> done(rc, path);
        final AsyncCallback.StatCallback rawSet = (rc, path, ctx, stat) -> done(rc, path);
        final BiConsumer<Object, Throwable> sdkDone = (v, error) -> {
            if (error != null) {
                failed(error.toString());
            }
            slots.release();
        };

        @Setup(Level.Trial)
        public void open(BatchingBenchmark benchmark) {
            size = benchmark.inFlight;
            slots = new Semaphore(size);
        }

        private void done(int rc, String path) {
            if (rc != KeeperException.Code.OK.intValue()) {
                failed("rc " + KeeperException.Code.get(rc) + " for " + path);
            }
            slots.release();
        }

        private void failed(String what) {
            failures.incrementAndGet();
            firstFailure.compareAndSet(null, what);
        }

        /** The clients and the side ("r", "s", "b") of the create runs, whose nodes are deleted after each iteration. */
        Clients creates;

        String side;
        /** The nodes below this number are deleted. */
        long deletedUpTo;

        long take() throws InterruptedException {
            slots.acquire();
            return next++;
        }

        @TearDown(Level.Iteration)
        public void drain() throws Exception {
            if (!slots.tryAcquire(size, 60, TimeUnit.SECONDS)) {
                throw new IllegalStateException(
                        (size - slots.availablePermits()) + " requests still in flight 60 s after the iteration ended");
            }
            slots.release(size);
            if (failures.get() > 0) {
                throw new IllegalStateException(
                        failures.get() + " asynchronous requests failed, the first: " + firstFailure.get());
            }
            deleteCreated();
        }

        /**
         * Deletes the nodes this iteration's creates made (outside the measurement), so that every iteration of every
         * client starts from the same tree: a faster client would otherwise leave the server more nodes to hold (hundreds
         * of thousands in a run, in a server heap of 512 MB) and be measured on a heavier server than a slower one.
         */
        private void deleteCreated() throws Exception {
            if (creates == null || deletedUpTo >= next) {
                return;
            }
            List<CompletableFuture<Void>> pending = new ArrayList<>();
            for (long from = deletedUpTo; from < next; from += DELETES_PER_MULTI) {
                List<Op> ops = new ArrayList<>(DELETES_PER_MULTI);
                for (long n = from; n < Math.min(next, from + DELETES_PER_MULTI); n++) {
                    ops.add(Op.delete(newNode(creates, side, n), -1));
                }
                CompletableFuture<Void> done = new CompletableFuture<>();
                creates.raw.multi(
                        ops,
                        (rc, path, ctx, results) -> {
                            if (rc == KeeperException.Code.OK.intValue()) {
                                done.complete(null);
                            } else {
                                done.completeExceptionally(KeeperException.create(KeeperException.Code.get(rc), path));
                            }
                        },
                        null);
                pending.add(done);
            }
            CompletableFuture.allOf(pending.toArray(CompletableFuture[]::new)).get(120, TimeUnit.SECONDS);
            deletedUpTo = next;
        }
    }

    /** Deletes per request when an iteration's new nodes are deleted. */
    static final int DELETES_PER_MULTI = 1000;

    private static String newNode(Clients c, String side, long n) {
        return c.parent + "/" + side + n;
    }

    /** The name of the {@code n}th node a create run makes, remembered for deletion after the iteration. */
    private static String created(Clients c, Window w, String side, long n) {
        w.creates = c;
        w.side = side;
        return newNode(c, side, n);
    }

    private static String setNode(Clients c, long n) {
        return c.parent + "-set-" + (n % SET_NODES);
    }

    @Benchmark
    public void rawCreateAsync(Clients c, Window w) throws InterruptedException {
        long n = w.take();
        c.raw.create(
                created(c, w, "r", n),
                Workload.payload(),
                ZooDefs.Ids.OPEN_ACL_UNSAFE,
                CreateMode.PERSISTENT,
                w.rawCreated,
                null);
    }

    @Benchmark
    public CompletableFuture<?> sdkCreateAsync(Clients c, Window w) throws InterruptedException {
        long n = w.take();
        return c.plainLease
                .createAsync(created(c, w, "s", n), Workload.payload(), CreateMode.PERSISTENT)
                .whenComplete(w.sdkDone);
    }

    @Benchmark
    public CompletableFuture<?> sdkCreateAsyncBatched(Clients c, Window w) throws InterruptedException {
        long n = w.take();
        return c.batchedLease
                .createAsync(created(c, w, "b", n), Workload.payload(), CreateMode.PERSISTENT)
                .whenComplete(w.sdkDone);
    }

    @Benchmark
    public void rawSetDataAsync(Clients c, Window w) throws InterruptedException {
        long n = w.take();
        c.raw.setData(setNode(c, n), Workload.payload(), -1, w.rawSet, null);
    }

    @Benchmark
    public CompletableFuture<?> sdkSetDataAsync(Clients c, Window w) throws InterruptedException {
        long n = w.take();
        return c.plainLease.setDataAsync(setNode(c, n), Workload.payload(), -1).whenComplete(w.sdkDone);
    }

    @Benchmark
    public CompletableFuture<?> sdkSetDataAsyncBatched(Clients c, Window w) throws InterruptedException {
        long n = w.take();
        return c.batchedLease
                .setDataAsync(setNode(c, n), Workload.payload(), -1)
                .whenComplete(w.sdkDone);
    }
}
