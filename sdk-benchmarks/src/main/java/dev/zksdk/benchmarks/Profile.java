package dev.zksdk.benchmarks;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.runner.options.TimeValue;

/**
 * A named plan of benchmark runs: which benchmarks, at how many threads, in which mode, for how long. {@code short}
 * runs everything once, briefly (under ten minutes on two cores); {@code full} runs longer and, for the overhead pairs
 * whose ratios are close to 1, in two forks.
 */
public record Profile(String name, List<Step> steps) {

  /** One JMH run: the benchmarks matching {@code include}, at {@code threads} threads. */
  public record Step(String include, int threads, Mode mode, TimeUnit unit, int warmupIterations,
      TimeValue warmupTime, int measurementIterations, TimeValue measurementTime, int forks) {

    public String describe() {
      return include + " t=" + threads + " " + mode.shortLabel() + " (" + warmupIterations + "x" + warmupTime
          + " warm-up, " + measurementIterations + "x" + measurementTime + ", " + forks + " fork"
          + (forks == 1 ? "" : "s") + ")";
    }
  }

  static final String CHURN =
      ChurnBenchmark.class.getName() + "\\.(perRequestZooKeeper|perRequestCurator|pooledLease)$";
  static final String SYNC_READS =
      OverheadBenchmark.class.getName() + "\\.(rawGetData|rawGetDataViaCallback|sdkGetData)$";
  static final String ASYNC_READS = OverheadBenchmark.class.getName() + "\\.(raw|sdk)GetDataAsync$";
  static final String WRITES = OverheadBenchmark.class.getName() + "\\.(raw|sdk)SetData$";
  static final String RECOVERY = RecoveryBenchmark.class.getName() + "\\.";
  static final String CACHED_READS = CachedReadBenchmark.class.getName() + "\\.";
  /** At more threads only the cached reads: the uncached ones at several thread counts are the overhead pairs'. */
  static final String CACHED_READS_ONLY = CachedReadBenchmark.class.getName() + "\\.(cachedRead|treeCacheRead)$";
  static final String CONNECT = ConnectBenchmark.class.getName() + "\\.";
  static final String STORM = StormBenchmark.class.getName() + "\\.";

  public static final List<Integer> CHURN_THREADS = List.of(1, 16, 64);
  public static final List<Integer> SYNC_READ_THREADS = List.of(1, 4, 16);
  public static final int WRITE_THREADS = 4;
  public static final int CACHED_READ_THREADS = 4;

  /**
   * The profile of that name.
   *
   * @throws IllegalArgumentException for a name other than {@code short} or {@code full}
   */
  public static Profile named(String name) {
    return switch (name == null ? "" : name.toLowerCase(Locale.ROOT)) {
      case "short" -> build("short", new Timing(1, 2, 2, 3), new Timing(1, 1, 2, 2), new Timing(3, 2, 3, 3, 1), 1, 5,
          new Timing(1, 2, 2, 2));
      case "full" -> build("full", new Timing(2, 5, 5, 5), new Timing(1, 5, 5, 5), new Timing(3, 5, 5, 5, 2), 3, 20,
          new Timing(2, 2, 5, 3));
      default -> throw new IllegalArgumentException("profile must be short or full, was '" + name + "'");
    };
  }

  private record Timing(int warmupIterations, int warmupSeconds, int iterations, int seconds, int forks) {
    Timing(int warmupIterations, int warmupSeconds, int iterations, int seconds) {
      this(warmupIterations, warmupSeconds, iterations, seconds, 1);
    }

    Step step(String include, int threads, Mode mode, TimeUnit unit) {
      return new Step(include, threads, mode, unit, warmupIterations, TimeValue.seconds(warmupSeconds), iterations,
          TimeValue.seconds(seconds), forks);
    }
  }

  private static Profile build(String name, Timing churn, Timing latency, Timing overhead, int recoveryWarmups,
      int recoveries, Timing cached) {
    List<Step> steps = new ArrayList<>();
    for (int threads : CHURN_THREADS) {
      steps.add(churn.step(CHURN, threads, Mode.Throughput, TimeUnit.SECONDS));
      steps.add(latency.step(CHURN, threads, Mode.SampleTime, TimeUnit.MICROSECONDS));
    }
    for (int threads : SYNC_READ_THREADS) {
      steps.add(overhead.step(SYNC_READS, threads, Mode.Throughput, TimeUnit.SECONDS));
    }
    steps.add(overhead.step(ASYNC_READS, 1, Mode.Throughput, TimeUnit.SECONDS));
    steps.add(overhead.step(WRITES, WRITE_THREADS, Mode.Throughput, TimeUnit.SECONDS));
    // A cached read takes nanoseconds: a couple of seconds holds millions of them.
    steps.add(cached.step(CACHED_READS, 1, Mode.Throughput, TimeUnit.SECONDS));
    steps.add(cached.step(CACHED_READS_ONLY, CACHED_READ_THREADS, Mode.Throughput, TimeUnit.SECONDS));
    // One invocation per iteration: each is a whole expiry and recovery.
    steps.add(new Step(RECOVERY, 1, Mode.SingleShotTime, TimeUnit.MILLISECONDS, recoveryWarmups, TimeValue.NONE,
        recoveries, TimeValue.NONE, 1));
    steps.addAll(hostSelectionSteps(name));
    return new Profile(name, List.copyOf(steps));
  }

  /**
   * Server selection, one single-shot invocation per iteration: a fresh client connecting with a dead address in the
   * connect string (each iteration a few milliseconds, or seconds when a blackholed address is tried first), and a
   * reconnect storm after a server restart (each iteration a server restart, several seconds).
   */
  private static List<Step> hostSelectionSteps(String name) {
    boolean full = name.equals("full");
    return List.of(
        new Step(CONNECT, 1, Mode.SingleShotTime, TimeUnit.MILLISECONDS, 1, TimeValue.NONE, full ? 40 : 6,
            TimeValue.NONE, 1),
        // No warm-up storm in short: every storm is as real as the first, and each costs a server restart.
        new Step(STORM, 1, Mode.SingleShotTime, TimeUnit.MILLISECONDS, full ? 1 : 0, TimeValue.NONE, full ? 10 : 3,
            TimeValue.NONE, 1));
  }
}
