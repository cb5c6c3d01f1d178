package dev.zksdk.benchmarks;

import com.sun.management.OperatingSystemMXBean;
import dev.zksdk.ZkLease;
import dev.zksdk.ZkSessionPool;
import dev.zksdk.metrics.micrometer.MicrometerMetricsTrackerFactory;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.observation.DefaultMeterObservationHandler;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.micrometer.observation.ObservationRegistry;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BiConsumer;
import org.apache.zookeeper.AsyncCallback.DataCallback;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.data.Stat;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.ThreadParams;

/**
 * What the SDK costs on top of the client it wraps: the same operation on one raw ZooKeeper handle shared by every
 * thread, and through a {@link ZkLease} on a one-session pool (validation, bulkhead, circuit breaker, retry and the
 * hand-off of the result from ZooKeeper's event thread). Pairs, each raw against SDK: synchronous {@code getData} at 1,
 * 4 and 16 threads ({@code -t}), asynchronous {@code getData} with {@value InFlight#WINDOW} requests in flight on one
 * thread, and synchronous {@code setData} at 4 threads; and, as a diagnostic pair, synchronous {@code getData} on a pool
 * publishing Micrometer meters against one whose every operation is also a Micrometer {@code Observation}. {@link ClientCpu} adds the client JVM's CPU time per
 * operation, and {@link #rawGetDataViaCallback} isolates the cost of the event-thread hand-off the SDK builds on.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 3)
@Measurement(iterations = 3, time = 3)
@Fork(1)
public class OverheadBenchmark {

    /** One raw handle for every thread, connected before the first iteration. */
    @State(Scope.Benchmark)
    public static class RawHandle {
        ZooKeeper zk;

        @Setup(Level.Trial)
        public void open(ServerFixture fixture) {
            zk = Workload.connect(fixture.connectString());
        }

        @TearDown(Level.Trial)
        public void close() throws InterruptedException {
            zk.close();
        }
    }

    /** A pool with one session, connected before the first iteration. */
    @State(Scope.Benchmark)
    public static class SdkPool {
        ZkSessionPool pool;

        @Setup(Level.Trial)
        public void open(ServerFixture fixture) {
            pool = ZkSessionPool.builder()
                    .connectString(fixture.connectString())
                    .sessionTimeout(Workload.SESSION_TIMEOUT)
                    .connectionTimeout(Workload.CONNECT_TIMEOUT)
                    .name("overhead")
                    .build();
            try (ZkLease lease = pool.lease()) {
                lease.getData(Workload.DATA);
            }
        }

        @TearDown(Level.Trial)
        public void close() {
            pool.close();
        }
    }

    /**
     * A one-session pool publishing to a Micrometer registry, as Spring's auto-configuration builds it with
     * {@code zksdk.observation.enabled=false}: the binding records the {@code zksdk.operations} timer itself.
     */
    @State(Scope.Benchmark)
    public static class MeteredPool {
        final MeterRegistry meters = new SimpleMeterRegistry();
        ZkSessionPool pool;
        ZkLease lease;

        @Setup(Level.Trial)
        public void open(ServerFixture fixture) {
            pool = pooled(fixture, "metered", new MicrometerMetricsTrackerFactory(meters));
            lease = pool.lease();
        }

        @TearDown(Level.Trial)
        public void close() {
            lease.close();
            pool.close();
            meters.close();
        }
    }

    /**
     * The same with every operation a Micrometer {@code Observation} of a registry with a
     * {@link DefaultMeterObservationHandler}, as with {@code zksdk.observation.enabled=true} in a Spring Boot app: the
     * handler records the timer (and a long task timer) from the observation.
     */
    @State(Scope.Benchmark)
    public static class ObservedPool {
        final MeterRegistry meters = new SimpleMeterRegistry();
        final ObservationRegistry observations = ObservationRegistry.create();
        ZkSessionPool pool;
        ZkLease lease;

        @Setup(Level.Trial)
        public void open(ServerFixture fixture) {
            observations.observationConfig().observationHandler(new DefaultMeterObservationHandler(meters));
            pool = pooled(fixture, "observed", new MicrometerMetricsTrackerFactory(meters, observations));
            lease = pool.lease();
        }

        @TearDown(Level.Trial)
        public void close() {
            lease.close();
            pool.close();
            meters.close();
        }
    }

    private static ZkSessionPool pooled(ServerFixture fixture, String name, MicrometerMetricsTrackerFactory metrics) {
        ZkSessionPool pool = ZkSessionPool.builder()
                .connectString(fixture.connectString())
                .sessionTimeout(Workload.SESSION_TIMEOUT)
                .connectionTimeout(Workload.CONNECT_TIMEOUT)
                .name(name)
                .metricsTrackerFactory(metrics)
                .build();
        try (ZkLease lease = pool.lease()) {
            lease.getData(Workload.DATA);
        }
        return pool;
    }

    /** Each thread's lease, held for the whole run, as a service would hold one per component. */
    @State(Scope.Thread)
    public static class SdkLease {
        ZkLease lease;

        @Setup(Level.Trial)
        public void open(SdkPool pool) {
            lease = pool.pool.lease();
        }

        @TearDown(Level.Trial)
        public void close() {
            lease.close();
        }
    }

    /** The payload written by the setData pair. */
    @State(Scope.Thread)
    public static class Payload {
        final byte[] data = Workload.payload();
    }

    /**
     * A window of asynchronous requests: each invocation waits for a free slot, then sends one request whose
     * completion frees its slot. Slots still taken at the end of an iteration are waited for, so iterations do not
     * overlap; any failed request fails the run.
     */
    @State(Scope.Thread)
    public static class InFlight {
        public static final int WINDOW = 1000;

        final Semaphore slots = new Semaphore(WINDOW);
        final AtomicLong failures = new AtomicLong();
        final AtomicReference<String> firstFailure = new AtomicReference<>();

        final DataCallback rawDone = (rc, path, ctx, data, stat) -> {
            if (rc != KeeperException.Code.OK.intValue()) {
                failed("rc " + KeeperException.Code.get(rc) + " for " + path);
            }
            slots.release();
        };

        final BiConsumer<byte[], Throwable> sdkDone = (data, error) -> {
            if (error != null) {
                failed(error.toString());
            }
            slots.release();
        };

        void take() throws InterruptedException {
            slots.acquire();
        }

        private void failed(String what) {
            failures.incrementAndGet();
            firstFailure.compareAndSet(null, what);
        }

        @TearDown(Level.Iteration)
        public void drain() throws InterruptedException {
            if (!slots.tryAcquire(WINDOW, 60, TimeUnit.SECONDS)) {
                throw new IllegalStateException((WINDOW - slots.availablePermits())
                        + " requests still in flight 60 s after " + "the iteration ended");
            }
            slots.release(WINDOW);
            if (failures.get() > 0) {
                throw new IllegalStateException(
                        failures.get() + " asynchronous requests failed, the first: " + firstFailure.get());
            }
        }
    }

    /**
     * What the client side of an operation costs in CPU: the benchmark JVM's whole CPU time (every thread: callers,
     * ZooKeeper's send and event threads, the SDK's) over an iteration, and the operations started in it. Their ratio
     * hardly depends on what else runs on the machine, unlike throughput. Apart from it, the CPU time of the calling
     * threads alone: the SDK's synchronous forms do all their own work on the caller's thread (ZooKeeper's send and
     * event threads do the same work for raw and SDK calls), so the difference between the two sides there is what the
     * SDK's own code costs.
     */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.EVENTS)
    public static class ClientCpu {
        /** Operations this thread started in the iteration, including the few JMH runs outside its timed window. */
        public long operations;
        /** First thread only: CPU time of the whole benchmark JVM during the iteration, in milliseconds. */
        public double cpuMillis;
        /** This thread's own CPU time during the iteration, in milliseconds; JMH adds up every thread's. */
        public double callerCpuMillis;

        private static final OperatingSystemMXBean OS =
                (OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();
        private boolean reporter;
        private long cpuAtStart;
        private long callerCpuAtStart;

        @Setup(Level.Trial)
        public void start(ThreadParams thread) {
            reporter = thread.getThreadIndex() == 0;
        }

        /** Runs on the benchmark thread itself, as JMH runs a thread-scoped state's iteration fixtures. */
        @Setup(Level.Iteration)
        public void iterationStart() {
            callerCpuAtStart = THREADS.getCurrentThreadCpuTime();
            if (reporter) {
                cpuAtStart = OS.getProcessCpuTime();
            }
        }

        @TearDown(Level.Iteration)
        public void iterationEnd() {
            callerCpuMillis = (THREADS.getCurrentThreadCpuTime() - callerCpuAtStart) / 1e6;
            if (reporter) {
                cpuMillis = (OS.getProcessCpuTime() - cpuAtStart) / 1e6;
            }
        }
    }

    @Benchmark
    public byte[] rawGetData(RawHandle raw, ClientCpu cpu) throws KeeperException, InterruptedException {
        cpu.operations++;
        return raw.zk.getData(Workload.DATA, false, null);
    }

    @Benchmark
    public byte[] sdkGetData(SdkLease sdk, ClientCpu cpu) {
        cpu.operations++;
        return sdk.lease.getData(Workload.DATA);
    }

    /**
     * Not an SDK figure: the raw handle used the way the SDK uses it underneath (ZooKeeper's asynchronous call, whose
     * result ZooKeeper's event thread hands to a {@link CompletableFuture} the caller waits on), so that the cost of
     * that hand-off can be told apart from the cost of the SDK's own work.
     */
    @Benchmark
    public byte[] rawGetDataViaCallback(RawHandle raw, ClientCpu cpu) throws InterruptedException, ExecutionException {
        cpu.operations++;
        CompletableFuture<byte[]> result = new CompletableFuture<>();
        raw.zk.getData(
                Workload.DATA,
                false,
                (rc, path, ctx, data, stat) -> {
                    if (rc == KeeperException.Code.OK.intValue()) {
                        result.complete(data);
                    } else {
                        result.completeExceptionally(KeeperException.create(KeeperException.Code.get(rc), path));
                    }
                },
                null);
        return result.get();
    }

    /** Synchronous getData on a pool publishing meters (the observation pair's reference side). */
    @Benchmark
    public byte[] sdkGetDataMetered(MeteredPool metered, ClientCpu cpu) {
        cpu.operations++;
        return metered.lease.getData(Workload.DATA);
    }

    /** Synchronous getData on a pool whose every operation is an observation with a default meter handler. */
    @Benchmark
    public byte[] sdkGetDataObserved(ObservedPool observed, ClientCpu cpu) {
        cpu.operations++;
        return observed.lease.getData(Workload.DATA);
    }

    @Benchmark
    public void rawGetDataAsync(RawHandle raw, InFlight window, ClientCpu cpu) throws InterruptedException {
        cpu.operations++;
        window.take();
        raw.zk.getData(Workload.DATA, false, window.rawDone, null);
    }

    @Benchmark
    public void sdkGetDataAsync(SdkLease sdk, InFlight window, ClientCpu cpu) throws InterruptedException {
        cpu.operations++;
        window.take();
        sdk.lease.getDataAsync(Workload.DATA).whenComplete(window.sdkDone);
    }

    @Benchmark
    public Stat rawSetData(RawHandle raw, Payload payload, ClientCpu cpu) throws KeeperException, InterruptedException {
        cpu.operations++;
        return raw.zk.setData(Workload.WRITE, payload.data, -1);
    }

    @Benchmark
    public Stat sdkSetData(SdkLease sdk, Payload payload, ClientCpu cpu) {
        cpu.operations++;
        return sdk.lease.setData(Workload.WRITE, payload.data, -1);
    }
}
