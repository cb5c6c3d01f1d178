package dev.zksdk.benchmarks;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.runner.options.TimeValue;

/**
 * A named plan of benchmark runs: which benchmarks, at how many threads, in which mode, for how long. {@code short}
 * runs everything once, briefly (under ten minutes on two cores before the scale steps, which add about four);
 * {@code full} runs longer and more rounds of the overhead pairs, whose ratios are close to 1.
 */
public record Profile(String name, List<Step> steps) {

    /**
     * One JMH run: the benchmarks matching {@code include}, at {@code threads} threads. A <em>paired</em> step
     * ({@code rounds > 0}) runs instead {@code rounds} rounds of one fork of each benchmark of {@code rotation}, each
     * round in the order of the previous one rotated by one (so a raw-against-SDK pair alternates which goes first), all
     * against one server that lives for the whole step, so that each round's ratio compares forks run back to back on
     * the same server. {@code params} fixes JMH parameters of the step's benchmarks (the others run every value).
     */
    public record Step(
            String include,
            int threads,
            Mode mode,
            TimeUnit unit,
            int warmupIterations,
            TimeValue warmupTime,
            int measurementIterations,
            TimeValue measurementTime,
            int forks,
            List<String> rotation,
            int rounds,
            Map<String, String> params) {

        public Step {
            rotation = List.copyOf(rotation);
            params = Map.copyOf(params);
            if (rounds > 0 && (rotation.size() < 2 || forks != 1)) {
                throw new IllegalArgumentException("a paired step rotates two benchmarks or more, one fork each");
            }
        }

        /** A plain step: one JMH run of everything {@code include} matches. */
        public Step(
                String include,
                int threads,
                Mode mode,
                TimeUnit unit,
                int warmupIterations,
                TimeValue warmupTime,
                int measurementIterations,
                TimeValue measurementTime,
                int forks) {
            this(
                    include,
                    threads,
                    mode,
                    unit,
                    warmupIterations,
                    warmupTime,
                    measurementIterations,
                    measurementTime,
                    forks,
                    List.of(),
                    0,
                    Map.of());
        }

        public boolean paired() {
            return rounds > 0;
        }

        /** How many forks the step runs, of every benchmark together; plain steps: per benchmark. */
        public int forkCount() {
            return paired() ? rounds * rotation.size() : forks;
        }

        public String describe() {
            String timing = warmupIterations + "x" + warmupTime + " warm-up, " + measurementIterations + "x"
                    + measurementTime + (params.isEmpty() ? "" : ", " + new TreeMap<>(params));
            if (paired()) {
                return include + " t=" + threads + " " + mode.shortLabel() + " (" + timing + ", " + rounds
                        + " paired rounds of one fork each, one server)";
            }
            return include + " t=" + threads + " " + mode.shortLabel() + " (" + timing + ", " + forks + " fork"
                    + (forks == 1 ? "" : "s") + ")";
        }
    }

    static final String CHURN =
            ChurnBenchmark.class.getName() + "\\.(perRequestZooKeeper|perRequestCurator|perRequestLean|pooledLease)$";
    static final String SYNC_READS =
            OverheadBenchmark.class.getName() + "\\.(rawGetData|rawGetDataViaCallback|sdkGetData)$";
    /** Above one thread, the diagnostic pair is left out: it explains the one-thread figure. */
    static final String SYNC_READS_PAIR = OverheadBenchmark.class.getName() + "\\.(rawGetData|sdkGetData)$";

    static final String ASYNC_READS = OverheadBenchmark.class.getName() + "\\.(raw|sdk)GetDataAsync$";
    static final String WRITES = OverheadBenchmark.class.getName() + "\\.(raw|sdk)SetData$";
    static final String RECOVERY = RecoveryBenchmark.class.getName() + "\\.";
    static final String CACHED_READS = CachedReadBenchmark.class.getName() + "\\.";
    /** At more threads only the cached reads: the uncached ones at several thread counts are the overhead pairs'. */
    static final String CACHED_READS_ONLY = CachedReadBenchmark.class.getName() + "\\.(cachedRead|treeCacheRead)$";

    static final String CONNECT = ConnectBenchmark.class.getName() + "\\.";
    /** Batched asynchronous writes against unbatched and raw ones, each at 1, 64 and 1,000 in flight (its param). */
    static final String BATCHING = BatchingBenchmark.class.getName() + "\\.";

    static final String STORM = StormBenchmark.class.getName() + "\\.";
    /** A storm from 4 simulated hosts (client JVMs on loopback addresses of their own), 250 workers each. */
    static final String FLEET_STORM = FleetStormBenchmark.class.getName() + "\\.";

    static final String REBALANCE = RebalanceBenchmark.class.getName() + "\\.";
    static final String MOVED = MovedServerBenchmark.class.getName() + "\\.";
    /**
     * Sync getData through a pool routing to 1, 10 and 100 ensembles, with 0 and 10,000 leases held (its params), and
     * the control: as many prefixes all routed to one ensemble.
     */
    static final String SCALE = ScaleBenchmark.class.getName() + "\\.";
    /** Heap retained per idle ensemble and per held lease; one pool built per invocation. */
    static final String SCALE_MEMORY = ScaleMemoryBenchmark.class.getName() + "\\.";

    public static final int SCALE_THREADS = 16;

    public static final List<Integer> CHURN_THREADS = List.of(1, 64, 256);
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
            case "short" ->
                build(
                        "short",
                        new Timing(1, 2, 2, 3),
                        new Timing(1, 1, 2, 2),
                        new Timing(1, 2, 2, 2, 2),
                        1,
                        5,
                        new Timing(1, 2, 2, 2),
                        new Timing(1, 2, 5, 2),
                        new Timing(2, 3, 4, 3),
                        3);
            case "full" ->
                build(
                        "full",
                        new Timing(2, 5, 5, 5),
                        new Timing(1, 5, 5, 5),
                        new Timing(2, 3, 4, 3, 6),
                        3,
                        20,
                        new Timing(2, 2, 5, 3),
                        new Timing(2, 3, 5, 3, 2),
                        new Timing(2, 3, 5, 5, 2),
                        10);
            default -> throw new IllegalArgumentException("profile must be short or full, was '" + name + "'");
        };
    }

    /**
     * The steps of this profile whose benchmark pattern contains a match of {@code regex}, with this profile's
     * iterations, as a profile named {@code name} (default {@code <this name>-only}).
     *
     * @throws IllegalArgumentException when {@code regex} is not a pattern or matches no step
     */
    public Profile only(String regex, String name) {
        java.util.regex.Pattern pattern;
        try {
            pattern = java.util.regex.Pattern.compile(regex);
        } catch (java.util.regex.PatternSyntaxException e) {
            throw new IllegalArgumentException("--only must be a regular expression, was '" + regex + "'", e);
        }
        List<Step> kept =
                steps.stream().filter(s -> pattern.matcher(s.include()).find()).toList();
        if (kept.isEmpty()) {
            throw new IllegalArgumentException(
                    "--only '" + regex + "' matches no step of the " + this.name + " profile");
        }
        return new Profile(name == null ? this.name + "-only" : name, kept);
    }

    /**
     * The steps of this profile at {@code threads} threads.
     *
     * @throws IllegalArgumentException when no step runs at that many threads
     */
    public Profile threads(int threads) {
        List<Step> kept = steps.stream().filter(s -> s.threads() == threads).toList();
        if (kept.isEmpty()) {
            throw new IllegalArgumentException("--threads " + threads + " matches no step of the " + name + " profile");
        }
        return new Profile(name, kept);
    }

    /**
     * This profile with {@code rounds} paired rounds in each paired step (more rounds narrow a ratio's interval on a
     * noisy machine); plain steps are unchanged.
     *
     * @throws IllegalArgumentException when {@code rounds} is below 2 (an interval needs two rounds)
     */
    public Profile rounds(int rounds) {
        if (rounds < 2) {
            throw new IllegalArgumentException("--rounds must be 2 or more, was " + rounds);
        }
        List<Step> changed = steps.stream()
                .map(s -> s.paired()
                        ? new Step(
                                s.include(),
                                s.threads(),
                                s.mode(),
                                s.unit(),
                                s.warmupIterations(),
                                s.warmupTime(),
                                s.measurementIterations(),
                                s.measurementTime(),
                                s.forks(),
                                s.rotation(),
                                rounds,
                                s.params())
                        : s)
                .toList();
        return new Profile(name, changed);
    }

    private record Timing(int warmupIterations, int warmupSeconds, int iterations, int seconds, int forks) {
        Timing(int warmupIterations, int warmupSeconds, int iterations, int seconds) {
            this(warmupIterations, warmupSeconds, iterations, seconds, 1);
        }

        Step step(String include, int threads, Mode mode, TimeUnit unit) {
            return new Step(
                    include,
                    threads,
                    mode,
                    unit,
                    warmupIterations,
                    TimeValue.seconds(warmupSeconds),
                    iterations,
                    TimeValue.seconds(seconds),
                    forks);
        }

        /** A paired step of {@code methods} of {@link OverheadBenchmark}, {@code forks} read as the number of rounds. */
        Step paired(int threads, String... methods) {
            return paired(OverheadBenchmark.class, Map.of(), threads, methods);
        }

        /** A paired step of {@code methods} of {@code benchmark} with {@code params} fixed. */
        Step paired(Class<?> benchmark, Map<String, String> params, int threads, String... methods) {
            String prefix = benchmark.getName() + "\\.";
            List<String> rotation = new ArrayList<>();
            for (String m : methods) {
                rotation.add(prefix + m + "$");
            }
            return new Step(
                    prefix + "(" + String.join("|", methods) + ")$",
                    threads,
                    Mode.Throughput,
                    TimeUnit.SECONDS,
                    warmupIterations,
                    TimeValue.seconds(warmupSeconds),
                    iterations,
                    TimeValue.seconds(seconds),
                    1,
                    rotation,
                    forks,
                    params);
        }
    }

    private static Profile build(
            String name,
            Timing churn,
            Timing latency,
            Timing overhead,
            int recoveryWarmups,
            int recoveries,
            Timing cached,
            Timing batching,
            Timing scale,
            int memoryReadings) {
        List<Step> steps = new ArrayList<>();
        for (int threads : CHURN_THREADS) {
            steps.add(churn.step(CHURN, threads, Mode.Throughput, TimeUnit.SECONDS));
            steps.add(latency.step(CHURN, threads, Mode.SampleTime, TimeUnit.MICROSECONDS));
        }
        // Pairs whose ratio is close to 1: each round a fork of each side, back to back on one server. Forks of one
        // benchmark differ by several percent from one another (where the scheduler puts the threads, what the JIT
        // made of them); pairing the forks of a round on one server takes the order and the server out of the ratio,
        // and the interval over rounds shows the variance that is left.
        for (int threads : SYNC_READ_THREADS) {
            steps.add(
                    threads == 1
                            ? overhead.paired(threads, "rawGetData", "rawGetDataViaCallback", "sdkGetData")
                            : overhead.paired(threads, "rawGetData", "sdkGetData"));
        }
        steps.add(overhead.paired(1, "rawGetDataAsync", "sdkGetDataAsync"));
        steps.add(overhead.paired(WRITE_THREADS, "rawSetData", "sdkSetData"));
        // What observing every operation costs over publishing meters alone (zksdk.observation.enabled).
        steps.add(overhead.paired(1, "sdkGetDataMetered", "sdkGetDataObserved"));
        // A cached read takes nanoseconds: a couple of seconds holds millions of them.
        steps.add(cached.step(CACHED_READS, 1, Mode.Throughput, TimeUnit.SECONDS));
        steps.add(cached.step(CACHED_READS_ONLY, CACHED_READ_THREADS, Mode.Throughput, TimeUnit.SECONDS));
        // One invocation per iteration: each is a whole expiry and recovery.
        steps.add(new Step(
                RECOVERY,
                1,
                Mode.SingleShotTime,
                TimeUnit.MILLISECONDS,
                recoveryWarmups,
                TimeValue.NONE,
                recoveries,
                TimeValue.NONE,
                1));
        steps.addAll(hostSelectionSteps(name));
        // One thread keeps 1, 64 or 1,000 writes in flight; the three clients each on a session of their own.
        steps.add(batching.step(BATCHING, 1, Mode.Throughput, TimeUnit.SECONDS));
        // At 1 in flight batched and unbatched creates take the same path, so their ratio is close to 1: paired rounds,
        // as the overhead pairs, on a subclass of their own that the report tells apart. In full only: the two rounds
        // of short give an interval too wide to judge anything by.
        if (name.equals("full")) {
            steps.add(overhead.paired(
                    BatchingAloneBenchmark.class,
                    Map.of("inFlight", "1"),
                    1,
                    "sdkCreateAsync",
                    "sdkCreateAsyncBatched"));
        }
        // The pool's own scale: ops spread over 1, 10 and 100 routed ensembles (chroots on three servers).
        steps.add(scale.step(SCALE, SCALE_THREADS, Mode.Throughput, TimeUnit.SECONDS));
        // One invocation per reading: a pool of 100 ensembles built, 10,000 leases taken, the heap read around each.
        steps.add(new Step(
                SCALE_MEMORY,
                1,
                Mode.SingleShotTime,
                TimeUnit.MILLISECONDS,
                1,
                TimeValue.NONE,
                memoryReadings,
                TimeValue.NONE,
                1));
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
                new Step(
                        CONNECT,
                        1,
                        Mode.SingleShotTime,
                        TimeUnit.MILLISECONDS,
                        1,
                        TimeValue.NONE,
                        full ? 40 : 6,
                        TimeValue.NONE,
                        1),
                // No warm-up storm in short: every storm is as real as the first, and each costs a server restart.
                new Step(
                        STORM,
                        1,
                        Mode.SingleShotTime,
                        TimeUnit.MILLISECONDS,
                        full ? 1 : 0,
                        TimeValue.NONE,
                        full ? 10 : 3,
                        TimeValue.NONE,
                        1),
                // Each invocation is a restart of the server that four client JVMs of a fleet reconnect to.
                new Step(
                        FLEET_STORM,
                        1,
                        Mode.SingleShotTime,
                        TimeUnit.MILLISECONDS,
                        full ? 1 : 0,
                        TimeValue.NONE,
                        full ? 10 : 3,
                        TimeValue.NONE,
                        1),
                // Each invocation is a whole kill -9 rolling restart of three servers and a minute of sampling.
                new Step(
                        REBALANCE,
                        1,
                        Mode.SingleShotTime,
                        TimeUnit.MILLISECONDS,
                        0,
                        TimeValue.NONE,
                        full ? 3 : 1,
                        TimeValue.NONE,
                        1),
                // Each invocation starts a server, connects, stops it and starts it on another address (seconds).
                new Step(
                        MOVED,
                        1,
                        Mode.SingleShotTime,
                        TimeUnit.MILLISECONDS,
                        full ? 1 : 0,
                        TimeValue.NONE,
                        full ? 10 : 3,
                        TimeValue.NONE,
                        1));
    }
}
