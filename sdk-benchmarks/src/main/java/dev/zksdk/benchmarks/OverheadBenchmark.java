package dev.zksdk.benchmarks;

import dev.zksdk.ZkLease;
import dev.zksdk.ZkSessionPool;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BiConsumer;
import org.apache.zookeeper.AsyncCallback.DataCallback;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.data.Stat;
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

/**
 * What the SDK costs on top of the client it wraps: the same operation on one raw ZooKeeper handle shared by every
 * thread, and through a {@link ZkLease} on a one-session pool (validation, bulkhead, circuit breaker, retry and the
 * hand-off of the result from ZooKeeper's event thread). Pairs, each raw against SDK: synchronous {@code getData} at 1,
 * 4 and 16 threads ({@code -t}), asynchronous {@code getData} with {@value InFlight#WINDOW} requests in flight on one
 * thread, and synchronous {@code setData} at 4 threads.
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
        throw new IllegalStateException((WINDOW - slots.availablePermits()) + " requests still in flight 60 s after "
            + "the iteration ended");
      }
      slots.release(WINDOW);
      if (failures.get() > 0) {
        throw new IllegalStateException(failures.get() + " asynchronous requests failed, the first: "
            + firstFailure.get());
      }
    }
  }

  @Benchmark
  public byte[] rawGetData(RawHandle raw) throws KeeperException, InterruptedException {
    return raw.zk.getData(Workload.DATA, false, null);
  }

  @Benchmark
  public byte[] sdkGetData(SdkLease sdk) {
    return sdk.lease.getData(Workload.DATA);
  }

  @Benchmark
  public void rawGetDataAsync(RawHandle raw, InFlight window) throws InterruptedException {
    window.take();
    raw.zk.getData(Workload.DATA, false, window.rawDone, null);
  }

  @Benchmark
  public void sdkGetDataAsync(SdkLease sdk, InFlight window) throws InterruptedException {
    window.take();
    sdk.lease.getDataAsync(Workload.DATA).whenComplete(window.sdkDone);
  }

  @Benchmark
  public Stat rawSetData(RawHandle raw, Payload payload) throws KeeperException, InterruptedException {
    return raw.zk.setData(Workload.WRITE, payload.data, -1);
  }

  @Benchmark
  public Stat sdkSetData(SdkLease sdk, Payload payload) {
    return sdk.lease.setData(Workload.WRITE, payload.data, -1);
  }
}
