package dev.zksdk.benchmarks.report;

import dev.zksdk.benchmarks.report.JmhResults.Entry;
import dev.zksdk.benchmarks.report.JmhResults.Metric;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;

/**
 * The figures of one profile run, taken from its JMH results: connection churn per client and thread count, the SDK
 * against the raw handle, recovery times, cached reads, and the issues' goals checked against them. Nothing here is
 * typed in: a figure the run did not produce is absent, and a goal it cannot be checked against says so.
 */
public final class Summary {

    /** The three ways of making one request in the churn benchmark. */
    public enum Client {
        PER_REQUEST_ZOOKEEPER("perRequestZooKeeper", "new ZooKeeper per request"),
        PER_REQUEST_CURATOR("perRequestCurator", "new CuratorFramework per request"),
        PER_REQUEST_LEAN("perRequestLean", "raw connect → getData → close per request, no pause"),
        POOLED("pooledLease", "pool.lease() per request");

        public final String method;
        public final String label;

        Client(String method, String label) {
            this.method = method;
            this.label = label;
        }
    }

    /**
     * One client at one thread count. The counters add the throughput and the latency run's measured iterations
     * (same workload, so more requests behind each ratio). {@code connects} is NaN when a run did not report its TCP
     * connections: not measured, which is not zero.
     */
    public record ChurnRow(
            Client client,
            int threads,
            Optional<Metric> throughput,
            Optional<Metric> latency,
            double requests,
            double failed,
            double connects,
            double sessions,
            double rejected,
            double overflows,
            double drops,
            double probesRefused) {

        public double connectsPerRequest() {
            return requests == 0 ? Double.NaN : connects / requests;
        }

        public boolean connectsMeasured() {
            return !Double.isNaN(connects);
        }

        public double sessionsPerRequest() {
            return requests == 0 ? Double.NaN : sessions / requests;
        }
    }

    /**
     * One raw-against-SDK pair. Run as paired rounds (a fork of each side per round), {@code roundRatios} holds each
     * round's SDK-over-raw throughput ratio and {@code raw}/{@code sdk} the mean of the rounds' scores with the 95%
     * confidence half-width over rounds as error; run once, it has one ratio. The CPU figures are microseconds per
     * operation: the client JVM's whole CPU time, and the calling threads' own; NaN when the run did not record them.
     */
    public record OverheadRow(
            String label,
            String rawMethod,
            String sdkMethod,
            int threads,
            Metric raw,
            Metric sdk,
            List<Double> roundRatios,
            double rawCpuMicrosPerOp,
            double sdkCpuMicrosPerOp,
            double rawCallerMicrosPerOp,
            double sdkCallerMicrosPerOp,
            boolean diagnostic) {

        public OverheadRow {
            roundRatios = List.copyOf(roundRatios);
            if (roundRatios.isEmpty()) {
                throw new IllegalArgumentException("an overhead row needs at least one round");
            }
        }

        /** SDK throughput over raw throughput: the mean of the rounds' ratios. */
        public double ratio() {
            return Stats.mean(roundRatios);
        }

        /** Half-width of the 95% confidence interval of {@link #ratio()} over the rounds; NaN for a single round. */
        public double ratioHalfWidth() {
            return Stats.halfWidth95(roundRatios);
        }

        public int rounds() {
            return roundRatios.size();
        }
    }

    /** Recovery with {@code owned} ephemerals and as many watches. */
    public record RecoveryRow(
            int owned, Metric expiryToRecovered, Optional<Metric> newSessionToRecovered, Optional<Metric> reported) {}

    /**
     * One way of reading the benchmark node at one thread count ({@code CachedReadBenchmark}), with the uncached lease
     * read and the raw handle read of the same thread count when the run measured them.
     */
    public record CachedReadRow(
            String label, String method, int threads, Metric read, Optional<Metric> uncached, Optional<Metric> raw) {

        /** Reads per second, all threads together. */
        public double perSecond() {
            return Units.toPerSecond(read.score(), read.unit());
        }

        /** How long one read takes its thread: threads over the throughput. */
        public double nanosPerRead() {
            return threads * 1e9 / perSecond();
        }

        /** Throughput over the uncached lease read's at the same thread count. */
        public Optional<Double> overUncached() {
            return uncached.map(u -> perSecond() / Units.toPerSecond(u.score(), u.unit()));
        }

        /** Throughput over the raw handle read's at the same thread count. */
        public Optional<Double> overRaw() {
            return raw.map(r -> perSecond() / Units.toPerSecond(r.score(), r.unit()));
        }
    }

    /** One goal of the issue, what the run measured for it, and whether it holds. */
    /**
     * A goal and what the run showed. {@code met} is the point estimate's verdict (null: not measured);
     * {@code intervalMet} is the lower bound of the 95% interval's, null where the figure has no interval. A goal is
     * met only when the lower bound meets it: "not shown" when only the point estimate does.
     */
    /**
     * One row of the batching benchmark: an asynchronous write at {@code inFlight} requests in flight on one thread,
     * through the raw handle, a lease without batching and one with.
     */
    public record BatchingRow(String operation, int inFlight, Metric raw, Metric unbatched, Metric batched) {
        /** Batched over unbatched throughput. */
        public double ratio() {
            return batched.score() / unbatched.score();
        }

        /**
         * The ratio's lower bound: batched at the low end of its interval over unbatched at the high end of its own
         * (JMH's 99.9% intervals); NaN when either has no interval.
         */
        public double ratioLowerBound() {
            return (batched.score() - batched.scoreError()) / (unbatched.score() + unbatched.scoreError());
        }

        /** The slowest batched iteration over the fastest unbatched one: what no iteration of the run contradicts. */
        public double worstIterationRatio() {
            double slowest = batched.iterations().stream()
                    .mapToDouble(Double::doubleValue)
                    .min()
                    .orElse(Double.NaN);
            double fastest = unbatched.iterations().stream()
                    .mapToDouble(Double::doubleValue)
                    .max()
                    .orElse(Double.NaN);
            return slowest / fastest;
        }
    }

    public record Goal(String goal, String measured, Boolean met, Boolean intervalMet) {
        public Goal(String goal, String measured, Boolean met) {
            this(goal, measured, met, null);
        }

        /** "yes", "not shown", "**no**" or "not measured". */
        public String verdict() {
            if (met == null) {
                return "not measured";
            }
            if (!met) {
                return "**no**";
            }
            return Boolean.FALSE.equals(intervalMet) ? "not shown" : "yes";
        }
    }

    public static final double GOAL_RATIO_ONE_THREAD = 400;
    public static final double GOAL_RATIO_64_THREADS = 25;
    public static final double GOAL_POOLED_OVER_LEAN = 4;
    public static final double GOAL_SDK_OVER_RAW = 0.97;
    public static final double GOAL_CACHED_READS_PER_SECOND = 1_000_000;
    public static final double GOAL_CACHED_OVER_UNCACHED = 200;
    /** Issue 17: first usable session with a blackholed address, zk-sdk p90 at most this × plain ZooKeeper's. */
    public static final double GOAL_CONNECT_BLACKHOLED = 0.25;
    /** Issue 17: the fleet storm's all-back, zk-sdk at most this × plain ZooKeeper's. */
    public static final double GOAL_FLEET_ALL_BACK = 2;

    /** Batched async creates over unbatched ones at 64 and 1,000 in flight. */
    public static final double GOAL_BATCHED_CREATES = 3;
    /**
     * Batched async creates over unbatched ones at 1 in flight, where nothing is batched: "no worse" as far as an
     * interval can show it. Two equal code paths never give a lower bound of 1 or more, so the tolerance is the one
     * the overhead pairs allow ({@link #GOAL_SDK_OVER_RAW}); a window's delay, the thing to rule out, would cost far
     * more (a create takes a fraction of a millisecond).
     */
    public static final double GOAL_BATCHED_ALONE = GOAL_SDK_OVER_RAW;

    static final String BATCHING_BENCHMARK = "BatchingBenchmark";
    /** The paired rounds of batched against unbatched creates at 1 in flight. */
    static final String BATCHING_ALONE_BENCHMARK = "BatchingAloneBenchmark";

    static final String CACHED_READ = "cachedRead";
    static final String UNCACHED_READ = "uncachedRead";
    static final String RAW_READ = "rawHandleRead";
    private static final String ASYNC_READS_LABEL = "async getData, 1,000 in flight";

    /** A read of the cached-read benchmark: its method and how the report names it. */
    private record Read(String method, String label) {}

    /** In the order the report lists them. */
    private static final List<Read> READS = List.of(
            new Read(CACHED_READ, "ZkCache: `cache.get().data()`"),
            new Read("treeCacheRead", "ZkTreeCache: `tree.get(child).data()`"),
            new Read(UNCACHED_READ, "uncached: `lease.getData(path)`"),
            new Read(RAW_READ, "raw handle: `zk.getData(path, false, null)`"));

    /** A raw method and the one it is compared with; a diagnostic pair explains a gap and is no goal of its own. */
    private record Pair(String label, String raw, String other, boolean diagnostic) {}

    private static final List<Pair> PAIRS = List.of(
            new Pair("sync getData", "rawGetData", "sdkGetData", false),
            new Pair(
                    "sync getData: raw async call + future only (diagnostic)",
                    "rawGetData",
                    "rawGetDataViaCallback",
                    true),
            new Pair(ASYNC_READS_LABEL, "rawGetDataAsync", "sdkGetDataAsync", false),
            new Pair("sync setData", "rawSetData", "sdkSetData", false),
            new Pair(
                    "sync getData: meters → meters + observation (diagnostic)",
                    "sdkGetDataMetered",
                    "sdkGetDataObserved",
                    true));

    private final List<ChurnRow> churn = new ArrayList<>();
    private final List<OverheadRow> overhead = new ArrayList<>();
    private final List<RecoveryRow> recovery = new ArrayList<>();
    private final List<CachedReadRow> cachedReads = new ArrayList<>();
    private final List<Goal> goals = new ArrayList<>();
    private final List<BatchingRow> batching = new ArrayList<>();
    private List<Double> batchedAlone = List.of();
    private final HostSelection hostSelection;
    private final ScaleSummary scale;

    public Summary(JmhResults results) {
        summarizeChurn(results);
        summarizeOverhead(results);
        summarizeRecovery(results);
        summarizeCachedReads(results);
        hostSelection = new HostSelection(results);
        checkGoals();
        checkCachedReadGoals();
        checkHostSelectionGoals();
        summarizeBatching(results);
        scale = new ScaleSummary(results);
        for (ScaleSummary.Row r : scale.goalRows()) {
            goals.add(new Goal(
                    "pool with " + r.ensembles() + " ensembles ≥ " + fmtRatio(ScaleSummary.GOAL_RATIO)
                            + " × one ensemble, sync getData at 16 threads, " + fmtCount(r.heldLeases())
                            + " leases held (lower bound)",
                    fmtRatio(r.ratio()) + "× (interval " + fmtRatio(r.ratioLowerBound()) + "–"
                            + fmtRatio(r.ratioUpperBound()) + ")",
                    r.goalMet()));
        }
    }

    /** The pool's scale: throughput over 1, 10, 100 ensembles and heap per idle ensemble and held lease. */
    public ScaleSummary scale() {
        return scale;
    }

    public List<BatchingRow> batching() {
        return batching;
    }

    /** {@link #batchedAloneRounds(JmhResults)} of this run. */
    public List<Double> batchedAlone() {
        return batchedAlone;
    }

    private void summarizeBatching(JmhResults results) {
        for (String op : List.of("Create", "SetData")) {
            for (int inFlight : List.of(1, 64, 1000)) {
                Optional<Metric> raw = batchingMetric(results, "raw" + op + "Async", inFlight);
                Optional<Metric> plain = batchingMetric(results, "sdk" + op + "Async", inFlight);
                Optional<Metric> batched = batchingMetric(results, "sdk" + op + "AsyncBatched", inFlight);
                if (plain.isPresent() && batched.isPresent()) {
                    batching.add(new BatchingRow(
                            op.equals("Create") ? "create" : "setData",
                            inFlight,
                            raw.orElse(null),
                            plain.get(),
                            batched.get()));
                }
            }
        }
        for (int inFlight : List.of(64, 1000)) {
            String text = "batched async creates ≥ " + fmtRatio(GOAL_BATCHED_CREATES) + "× unbatched, "
                    + fmtCount(inFlight) + " in flight";
            goals.add(batchingRow("create", inFlight)
                    .map(r -> new Goal(
                            text,
                            fmtRatio(r.ratio()) + "× (interval's lower bound " + fmtRatio(r.ratioLowerBound())
                                    + "×, worst iterations " + fmtRatio(r.worstIterationRatio()) + "×)",
                            r.ratio() >= GOAL_BATCHED_CREATES,
                            r.ratioLowerBound() >= GOAL_BATCHED_CREATES))
                    .orElseGet(() -> new Goal(text, "not measured", null)));
        }
        String lone = "batched async creates no worse than unbatched at 1 in flight (≥ " + fmtRatio(GOAL_BATCHED_ALONE)
                + "×)";
        List<Double> rounds = batchedAloneRounds(results);
        batchedAlone = List.copyOf(rounds);
        if (rounds.size() >= 2) {
            double ratio = Stats.mean(rounds);
            double lower = ratio - Stats.halfWidth95(rounds);
            goals.add(new Goal(
                    lone,
                    String.format(
                            Locale.ROOT,
                            "%.3f× ± %.3f (%d paired rounds; lower bound %.3f×)",
                            ratio,
                            ratio - lower,
                            rounds.size(),
                            lower),
                    ratio >= GOAL_BATCHED_ALONE,
                    lower >= GOAL_BATCHED_ALONE));
            return;
        }
        goals.add(batchingRow("create", 1)
                .map(r -> new Goal(
                        lone,
                        fmtRatio(r.ratio()) + "× (interval's lower bound " + fmtRatio(r.ratioLowerBound())
                                + "×, worst iterations " + fmtRatio(r.worstIterationRatio()) + "×)",
                        r.ratio() >= GOAL_BATCHED_ALONE,
                        r.ratioLowerBound() >= GOAL_BATCHED_ALONE))
                .orElseGet(() -> new Goal(lone, "not measured", null)));
    }

    /**
     * Each paired round's batched-over-unbatched create throughput at 1 in flight ({@link #BATCHING_ALONE_BENCHMARK}),
     * in the order the rounds ran; empty when the run had none.
     *
     * @throws IllegalArgumentException when the two sides ran a different number of rounds
     */
    static List<Double> batchedAloneRounds(JmhResults results) {
        List<Entry> plain = aloneEntries(results, "sdkCreateAsync");
        List<Entry> batched = aloneEntries(results, "sdkCreateAsyncBatched");
        if (plain.size() != batched.size()) {
            throw new IllegalArgumentException(plain.size() + " rounds of unbatched creates at 1 in flight but "
                    + batched.size() + " of batched ones: a paired step runs each side once per round");
        }
        List<Double> ratios = new ArrayList<>();
        for (int i = 0; i < plain.size(); i++) {
            ratios.add(batched.get(i).primary().score() / plain.get(i).primary().score());
        }
        return ratios;
    }

    private static List<Entry> aloneEntries(JmhResults results, String method) {
        return results.entries().stream()
                .filter(e -> e.benchmark().contains(BATCHING_ALONE_BENCHMARK)
                        && e.method().equals(method)
                        && e.mode().equals("thrpt")
                        && "1".equals(e.params().get("inFlight")))
                .toList();
    }

    public Optional<BatchingRow> batchingRow(String operation, int inFlight) {
        return batching.stream()
                .filter(r -> r.operation().equals(operation) && r.inFlight() == inFlight)
                .findFirst();
    }

    private static Optional<Metric> batchingMetric(JmhResults results, String method, int inFlight) {
        return results.entries().stream()
                .filter(e -> e.benchmark().contains(BATCHING_BENCHMARK)
                        && e.method().equals(method)
                        && e.mode().equals("thrpt")
                        && String.valueOf(inFlight).equals(e.params().get("inFlight")))
                .map(Entry::primary)
                .findFirst();
    }

    public List<ChurnRow> churn() {
        return churn;
    }

    public List<OverheadRow> overhead() {
        return overhead;
    }

    public List<RecoveryRow> recovery() {
        return recovery;
    }

    public List<CachedReadRow> cachedReads() {
        return cachedReads;
    }

    public List<Goal> goals() {
        return goals;
    }

    /** The cached-read row of a method at a thread count, if the run had one. */
    public Optional<CachedReadRow> cachedRead(String method, int threads) {
        return cachedReads.stream()
                .filter(r -> r.method().equals(method) && r.threads() == threads)
                .findFirst();
    }

    /** Connecting with a dead address, and the reconnect storm after a server restart. */
    public HostSelection hostSelection() {
        return hostSelection;
    }

    /** The churn row of a client at a thread count, if the run had one. */
    public Optional<ChurnRow> churn(Client client, int threads) {
        return churn.stream()
                .filter(r -> r.client() == client && r.threads() == threads)
                .findFirst();
    }

    private void summarizeChurn(JmhResults results) {
        for (Client client : Client.values()) {
            TreeSet<Integer> threads = new TreeSet<>();
            results.entries().stream()
                    .filter(e -> e.method().equals(client.method))
                    .forEach(e -> threads.add(e.threads()));
            for (int t : threads) {
                Optional<Entry> thrpt = results.one(client.method, "thrpt", t);
                Optional<Entry> sample = results.one(client.method, "sample", t);
                List<Entry> both = new ArrayList<>();
                thrpt.ifPresent(both::add);
                sample.ifPresent(both::add);
                churn.add(new ChurnRow(
                        client,
                        t,
                        thrpt.map(Entry::primary),
                        sample.map(Entry::primary),
                        total(both, "requests"),
                        total(both, "failedRequests"),
                        measuredTotal(both, "tcpConnects"),
                        total(both, "sessionsCreated"),
                        total(both, "serverRejected"),
                        kernelTotal(both, "listenOverflows"),
                        kernelTotal(both, "listenDrops"),
                        total(both, "probesRefused")));
            }
        }
    }

    private static double total(List<Entry> entries, String counter) {
        return entries.stream()
                .mapToDouble(e -> e.counter(counter).map(Metric::total).orElse(0.0))
                .sum();
    }

    /** A kernel counter's total, or NaN (not measured) when any iteration could not read the kernel's counters. */
    private static double kernelTotal(List<Entry> entries, String counter) {
        boolean unread = entries.stream()
                .anyMatch(e ->
                        e.counter("kernelCountersUnread").map(Metric::total).orElse(0.0) > 0);
        return unread ? Double.NaN : measuredTotal(entries, counter);
    }

    /** As {@link #total}, but NaN when a run lacks the counter, for a figure that must not read zero unmeasured. */
    private static double measuredTotal(List<Entry> entries, String counter) {
        return entries.stream().allMatch(e -> e.counter(counter).isPresent()) ? total(entries, counter) : Double.NaN;
    }

    private void summarizeOverhead(JmhResults results) {
        for (Pair pair : PAIRS) {
            TreeSet<Integer> threads = new TreeSet<>();
            results.find(pair.raw(), "thrpt", 0).forEach(e -> threads.add(e.threads()));
            for (int t : threads) {
                List<Entry> raw = results.find(pair.raw(), "thrpt", t);
                List<Entry> other = results.find(pair.other(), "thrpt", t);
                if (other.isEmpty()) {
                    continue;
                }
                if (raw.size() != other.size()) {
                    throw new IllegalArgumentException(
                            raw.size() + " results of " + pair.raw() + " but " + other.size() + " of " + pair.other()
                                    + " at " + t + " threads: a paired step runs each side once per round");
                }
                // A paired step's results come in the order they ran: the i-th of each side is round i.
                List<Double> ratios = new ArrayList<>();
                for (int i = 0; i < raw.size(); i++) {
                    ratios.add(other.get(i).primary().score()
                            / raw.get(i).primary().score());
                }
                overhead.add(new OverheadRow(
                        pair.label(),
                        pair.raw(),
                        pair.other(),
                        t,
                        meanOfRounds(raw),
                        meanOfRounds(other),
                        ratios,
                        microsPerOp(raw, "cpuMillis"),
                        microsPerOp(other, "cpuMillis"),
                        microsPerOp(raw, "callerCpuMillis"),
                        microsPerOp(other, "callerCpuMillis"),
                        pair.diagnostic()));
            }
        }
    }

    /**
     * The rounds' scores as one metric: their mean, the 95% confidence half-width over rounds as error (JMH's own error
     * for a single round), every round's iterations.
     */
    private static Metric meanOfRounds(List<Entry> rounds) {
        if (rounds.size() == 1) {
            return rounds.get(0).primary();
        }
        List<Double> scores = rounds.stream().map(e -> e.primary().score()).toList();
        List<Double> iterations = new ArrayList<>();
        rounds.forEach(e -> iterations.addAll(e.primary().iterations()));
        return new Metric(
                Stats.mean(scores),
                Stats.halfWidth95(scores),
                rounds.get(0).primary().unit(),
                Map.of(),
                iterations);
    }

    /** A CPU counter's total over the operations' total, in microseconds per operation; NaN when not recorded. */
    private static double microsPerOp(List<Entry> entries, String counter) {
        double cpu = 0;
        double ops = 0;
        for (Entry e : entries) {
            Optional<Metric> c = e.counter(counter);
            Optional<Metric> o = e.counter("operations");
            if (c.isEmpty() || o.isEmpty()) {
                return Double.NaN;
            }
            cpu += c.get().total();
            ops += o.get().total();
        }
        return ops == 0 ? Double.NaN : cpu * 1000 / ops;
    }

    private void summarizeRecovery(JmhResults results) {
        for (Entry e : results.find("expiryToRecovered", "ss", 0)) {
            recovery.add(new RecoveryRow(
                    Integer.parseInt(e.params().getOrDefault("owned", "0")),
                    e.primary(),
                    e.counter("newSessionToRecoveredMs"),
                    e.counter("reportedRecoveryMs")));
        }
        recovery.sort((a, b) -> Integer.compare(a.owned(), b.owned()));
    }

    private void summarizeCachedReads(JmhResults results) {
        TreeSet<Integer> threads = new TreeSet<>();
        for (Read read : READS) {
            results.find(read.method(), "thrpt", 0).forEach(e -> threads.add(e.threads()));
        }
        for (int t : threads) {
            Optional<Metric> uncached = results.one(UNCACHED_READ, "thrpt", t).map(Entry::primary);
            Optional<Metric> raw = results.one(RAW_READ, "thrpt", t).map(Entry::primary);
            for (Read read : READS) {
                results.one(read.method(), "thrpt", t)
                        .ifPresent(e -> cachedReads.add(
                                new CachedReadRow(read.label(), read.method(), t, e.primary(), uncached, raw)));
            }
        }
    }

    private void checkCachedReadGoals() {
        String asyncText = "async getData, 1,000 in flight: SDK ≥ " + GOAL_SDK_OVER_RAW + " × raw async handle";
        Optional<OverheadRow> async = overhead.stream()
                .filter(r -> r.label().equals(ASYNC_READS_LABEL))
                .findFirst();
        goals.add(async.map(r -> new Goal(
                        asyncText,
                        fmtRatioWithInterval(r),
                        r.ratio() >= GOAL_SDK_OVER_RAW,
                        intervalMeets(r, GOAL_SDK_OVER_RAW)))
                .orElseGet(() -> new Goal(asyncText, "not measured", null)));

        Optional<CachedReadRow> cached = cachedRead(CACHED_READ, 1);
        String rateText = "≥ " + fmtCount(GOAL_CACHED_READS_PER_SECOND) + " cached reads/s on 1 thread";
        goals.add(cached.map(r -> new Goal(
                        rateText,
                        fmtCount(r.perSecond()) + " reads/s (" + fmtRatio(r.nanosPerRead()) + " ns/read)",
                        r.perSecond() >= GOAL_CACHED_READS_PER_SECOND))
                .orElseGet(() -> new Goal(rateText, "not measured", null)));

        String ratioText =
                "cached read ≥ " + fmtCount(GOAL_CACHED_OVER_UNCACHED) + "× uncached lease.getData on 1 thread";
        goals.add(cached.flatMap(CachedReadRow::overUncached)
                .map(r -> new Goal(ratioText, fmtRatio(r) + "×", r >= GOAL_CACHED_OVER_UNCACHED))
                .orElseGet(() -> new Goal(ratioText, "not measured", null)));
    }

    private void checkGoals() {
        ratioGoal(1, GOAL_RATIO_ONE_THREAD);
        ratioGoal(64, GOAL_RATIO_64_THREADS);

        List<ChurnRow> pooled =
                churn.stream().filter(r -> r.client() == Client.POOLED).toList();
        if (pooled.isEmpty()) {
            goals.add(new Goal("zero connections opened per pooled request in steady state", "no pooled runs", null));
            goals.add(new Goal("zero rejections and listen overflows in the pooled runs", "no pooled runs", null));
        } else {
            double connects = pooled.stream().mapToDouble(ChurnRow::connects).sum();
            double requests = pooled.stream().mapToDouble(ChurnRow::requests).sum();
            String zeroConnects = "zero connections opened per pooled request in steady state";
            goals.add(
                    Double.isNaN(connects)
                            ? new Goal(zeroConnects, "not measured", null)
                            : new Goal(
                                    zeroConnects,
                                    fmtCount(connects) + " connections in " + fmtCount(requests)
                                            + " measured pooled requests (" + fmtRatio(connects / requests)
                                            + " per request)",
                                    connects == 0));
            double rejected = pooled.stream().mapToDouble(ChurnRow::rejected).sum();
            double overflows = pooled.stream().mapToDouble(ChurnRow::overflows).sum();
            goals.add(new Goal(
                    "zero rejections and listen overflows in the pooled runs",
                    fmtCount(rejected) + " rejected, " + fmtCount(overflows) + " listen overflows",
                    rejected == 0 && overflows == 0));
        }

        List<OverheadRow> sdkPairs =
                overhead.stream().filter(r -> !r.diagnostic()).toList();
        if (sdkPairs.isEmpty()) {
            goals.add(new Goal(
                    "SDK ≥ " + GOAL_SDK_OVER_RAW + " × raw handle throughput in every overhead pair",
                    "no overhead runs",
                    null));
        } else {
            OverheadRow worst = sdkPairs.stream()
                    .min((a, b) -> Double.compare(a.ratio(), b.ratio()))
                    .orElseThrow();
            goals.add(new Goal(
                    "SDK ≥ " + GOAL_SDK_OVER_RAW + " × raw handle throughput in every overhead pair",
                    "lowest: " + fmtRatioWithInterval(worst) + " (" + worst.label() + ", " + worst.threads() + " thread"
                            + (worst.threads() == 1 ? "" : "s") + ")",
                    worst.ratio() >= GOAL_SDK_OVER_RAW,
                    sdkPairs.stream().allMatch(r -> !Boolean.FALSE.equals(intervalMeets(r, GOAL_SDK_OVER_RAW)))));
        }
        for (int threads : List.of(64, 256)) {
            leanGoal(threads);
        }
    }

    /** Issue 17's goals: first connects with a dead address, the storms, rebalancing after a rolling restart. */
    private void checkHostSelectionGoals() {
        HostSelection hosts = hostSelection;
        for (String dead : List.of("blackholed", "refused")) {
            double factor = dead.equals("blackholed") ? GOAL_CONNECT_BLACKHOLED : 1;
            String text = "first usable session, one of three addresses " + dead + ": zk-sdk p90 ≤ "
                    + (factor == 1 ? "" : fmtRatio(factor) + " × ") + "plain ZooKeeper's";
            Optional<HostSelection.ConnectRow> sdk = hosts.connect(HostSelection.ConnectClient.SDK, dead);
            Optional<HostSelection.ConnectRow> raw = hosts.connect(HostSelection.ConnectClient.ZOOKEEPER, dead);
            if (sdk.isEmpty() || raw.isEmpty()) {
                goals.add(new Goal(text, "not measured", null));
                continue;
            }
            goals.add(quantileGoal(text, sdk.get().millis(), raw.get().millis(), 0.9, factor, "connects"));
        }
        Optional<HostSelection.StormRow> sdkStorm = hosts.storm("sdk");
        Optional<HostSelection.StormRow> rawStorm = hosts.storm("zookeeper");
        String allBack = "reconnect storm: zk-sdk all-back median ≤ plain ZooKeeper's";
        String spread = "reconnect storm: zk-sdk spread p99 ≤ plain ZooKeeper's (median over storms)";
        String expired = "reconnect storm: 0 zk-sdk sessions expired";
        if (sdkStorm.isEmpty() || rawStorm.isEmpty()) {
            goals.add(new Goal(allBack, "not measured", null));
            goals.add(new Goal(spread, "not measured", null));
        } else {
            goals.add(quantileGoal(
                    allBack, sdkStorm.get().restartToAllBack(), rawStorm.get().restartToAllBack(), 0.5, 1, "storms"));
            goals.add(quantileGoal(
                    spread,
                    counter(sdkStorm.get().counters(), "spreadP99Ms"),
                    counter(rawStorm.get().counters(), "spreadP99Ms"),
                    0.5,
                    1,
                    "storms"));
        }
        goals.add(sdkStorm.map(r -> new Goal(
                        expired,
                        fmtCount(r.totalOf("expired")) + " over " + r.storms() + " storms",
                        r.totalOf("expired") == 0))
                .orElseGet(() -> new Goal(expired, "not measured", null)));
        Optional<HostSelection.FleetRow> sdkFleet = hosts.fleet("sdk");
        Optional<HostSelection.FleetRow> rawFleet = hosts.fleet("zookeeper");
        String clean = "fleet storm (hosts over maxClientCnxns): 0 rejections and 0 listen overflows for zk-sdk, where"
                + " plain handles show them";
        String fleetBack =
                "fleet storm: zk-sdk all-back median ≤ " + fmtRatio(GOAL_FLEET_ALL_BACK) + " × plain ZooKeeper's";
        if (sdkFleet.isEmpty() || rawFleet.isEmpty()) {
            goals.add(new Goal(clean, "not measured", null));
            goals.add(new Goal(fleetBack, "not measured", null));
        } else {
            HostSelection.FleetRow sdk = sdkFleet.get();
            HostSelection.FleetRow raw = rawFleet.get();
            double sdkRejected = sdk.rejected();
            double sdkOverflows = sdk.kernelTotalOf("listenOverflows");
            double rawRejected = raw.rejected();
            double rawOverflows = raw.kernelTotalOf("listenOverflows");
            String measured = "zk-sdk " + fmtMeasured(sdkRejected) + " rejected, " + fmtMeasured(sdkOverflows)
                    + " overflows; plain " + fmtMeasured(rawRejected) + " rejected, " + fmtMeasured(rawOverflows)
                    + " overflows (" + sdk.storms() + " and " + raw.storms() + " storms)";
            boolean measuredAll = !Double.isNaN(sdkRejected)
                    && !Double.isNaN(sdkOverflows)
                    && !Double.isNaN(rawRejected)
                    && !Double.isNaN(rawOverflows);
            goals.add(new Goal(
                    clean,
                    measured,
                    measuredAll
                            ? sdkRejected == 0 && sdkOverflows == 0 && (rawRejected > 0 || rawOverflows > 0)
                            : null));
            goals.add(quantileGoal(fleetBack, sdk.allBack(), raw.allBack(), 0.5, GOAL_FLEET_ALL_BACK, "storms"));
        }
        String even = "connection skew ≤ " + fmtCount(HostSelection.REBALANCE_GOAL_PERCENT) + " % within "
                + HostSelection.REBALANCE_GOAL_SECONDS + " s after a rolling restart, 0 expired (zk-sdk, each run)";
        goals.add(hosts.rebalance("sdk")
                .map(r -> new Goal(
                        even,
                        "within the window in " + r.evenWithin() + " of " + r.invocations() + " runs, "
                                + fmtCount(r.totalExpired()) + " expired",
                        r.invocations() > 0 && r.evenWithin() == r.invocations() && r.totalExpired() == 0))
                .orElseGet(() -> new Goal(even, "not measured", null)));
    }

    private static List<Double> counter(Map<String, Metric> counters, String name) {
        Metric m = counters.get(name);
        return m == null ? List.of() : m.iterations();
    }

    /**
     * A "zk-sdk's quantile at most {@code factor} × plain's" goal: met by the point estimates, shown when the upper end
     * of the SDK's 95% interval is at most {@code factor} × the lower end of plain's (distribution-free intervals of the
     * quantile; too few samples leave an end open and the goal not shown).
     */
    static Goal quantileGoal(String text, List<Double> sdk, List<Double> plain, double q, double factor, String what) {
        if (sdk.isEmpty() || plain.isEmpty()) {
            return new Goal(text, "not measured", null);
        }
        double sdkPoint = q == 0.5 ? Stats.median(sdk) : HostSelection.percentile(sdk, q * 100);
        double plainPoint = q == 0.5 ? Stats.median(plain) : HostSelection.percentile(plain, q * 100);
        double[] sdkInterval = Stats.quantileInterval95(sdk, q);
        double[] plainInterval = Stats.quantileInterval95(plain, q);
        Boolean shown = Double.isNaN(sdkInterval[1]) || Double.isNaN(plainInterval[0])
                ? Boolean.FALSE
                : sdkInterval[1] <= factor * plainInterval[0];
        String measured = fmtMs(sdkPoint) + " ms against " + fmtMs(plainPoint) + " ms ("
                + fmtRatio(sdkPoint / plainPoint)
                + "×; 95% intervals " + fmtInterval(sdkInterval) + " and " + fmtInterval(plainInterval) + " ms; "
                + sdk.size() + " and " + plain.size() + " " + what + ")";
        return new Goal(text, measured, sdkPoint <= factor * plainPoint, shown);
    }

    private static String fmtInterval(double[] interval) {
        return (Double.isNaN(interval[0]) ? "open" : fmtMs(interval[0])) + "–"
                + (Double.isNaN(interval[1]) ? "open" : fmtMs(interval[1]));
    }

    private static String fmtMs(double millis) {
        return millis < 10 ? String.format(Locale.ROOT, "%.1f", millis) : fmtCount(Math.rint(millis));
    }

    /** Whether the lower bound of the pair's 95% interval meets {@code goal}; null with fewer than two rounds. */
    private static Boolean intervalMeets(OverheadRow row, double goal) {
        return row.rounds() < 2 ? null : row.ratio() - row.ratioHalfWidth() >= goal;
    }

    /**
     * Pooled throughput at least {@value #GOAL_POOLED_OVER_LEAN} times the lean per-request client's, judged on the
     * conservative ends of both runs' 99.9% intervals (JMH's error), with no rejection or overflow in the pooled run.
     */
    private void leanGoal(int threads) {
        String text = "pooled ≥ " + fmtCount(GOAL_POOLED_OVER_LEAN) + "× the lean per-request client's requests served"
                + " at " + threads + " threads, 0 rejections and 0 listen overflows pooled";
        Optional<ChurnRow> pooledRow = churn(Client.POOLED, threads);
        Optional<Metric> pooled = pooledRow.flatMap(ChurnRow::throughput);
        Optional<Metric> lean = churn(Client.PER_REQUEST_LEAN, threads).flatMap(ChurnRow::throughput);
        if (pooled.isEmpty() || lean.isEmpty()) {
            goals.add(new Goal(text, "not measured", null));
            return;
        }
        // Requests the server turned away count in JMH's throughput (the call returns): compare requests served.
        ChurnRow leanRow = churn(Client.PER_REQUEST_LEAN, threads).orElseThrow();
        double served = served(leanRow);
        double pooledServed = served(pooledRow.get());
        if (Double.isNaN(served) || Double.isNaN(pooledServed)) {
            goals.add(new Goal(text, "not measured", null));
            return;
        }
        double ratio = pooled.get().score() * pooledServed / (lean.get().score() * served);
        double low = error(pooled.get()) >= 0 && error(lean.get()) >= 0
                ? (pooled.get().score() - error(pooled.get()))
                        * pooledServed
                        / ((lean.get().score() + error(lean.get())) * served)
                : Double.NaN;
        ChurnRow p = pooledRow.get();
        boolean clean = p.rejected() == 0 && p.overflows() == 0;
        String measured =
                fmtRatio(ratio) + "× in requests served (at least " + (Double.isNaN(low) ? "n/a" : fmtRatio(low))
                        + "×; the lean client's " + fmtCount(lean.get().score() * served) + "/s served of "
                        + fmtCount(lean.get().score()) + "/s sent); pooled " + fmtCount(p.rejected()) + " rejected, "
                        + fmtMeasured(p.overflows()) + " overflows";
        goals.add(new Goal(
                text,
                measured,
                Double.isNaN(p.overflows()) ? null : ratio >= GOAL_POOLED_OVER_LEAN && clean,
                Double.isNaN(low) ? null : low >= GOAL_POOLED_OVER_LEAN));
    }

    /** The share of a churn run's requests that were served (not failed); NaN when the run counted none. */
    static double served(ChurnRow row) {
        return row.requests() > 0 && !Double.isNaN(row.failed()) ? 1 - row.failed() / row.requests() : Double.NaN;
    }

    private static double error(Metric m) {
        return Double.isNaN(m.scoreError()) ? -1 : m.scoreError();
    }

    private void ratioGoal(int threads, double goal) {
        String text = "pooled ≥ " + fmtCount(goal) + "× per-request ZooKeeper client at " + threads + " thread"
                + (threads == 1 ? "" : "s");
        Optional<Double> ratio = pooledOverPerRequest(threads);
        goals.add(ratio.map(r -> new Goal(text, fmtRatio(r) + "×", r >= goal))
                .orElseGet(() -> new Goal(text, "not measured", null)));
    }

    /** Pooled throughput over per-request ZooKeeper throughput at a thread count. */
    public Optional<Double> pooledOverPerRequest(int threads) {
        Optional<Metric> pooled = churn(Client.POOLED, threads).flatMap(ChurnRow::throughput);
        Optional<Metric> perRequest =
                churn(Client.PER_REQUEST_ZOOKEEPER, threads).flatMap(ChurnRow::throughput);
        if (pooled.isEmpty() || perRequest.isEmpty()) {
            return Optional.empty();
        }
        return Optional.of(pooled.get().score() / perRequest.get().score());
    }

    /** A counter's value, or "not measured" when it could not be read (NaN): never 0 for a missing reading. */
    public static String fmtMeasured(double v) {
        return Double.isNaN(v) ? "not measured" : fmtCount(v);
    }

    /** A count or a rate with thousands separators; one decimal below 100. */
    public static String fmtCount(double v) {
        if (Double.isNaN(v)) {
            return "n/a";
        }
        if (Math.abs(v) < 100 && v != Math.rint(v)) {
            return String.format(Locale.ROOT, "%.1f", v);
        }
        return String.format(Locale.ROOT, "%,.0f", v);
    }

    /** A pair's ratio, with its 95% confidence half-width and the number of rounds when it had more than one. */
    public static String fmtRatioWithInterval(OverheadRow row) {
        if (row.rounds() < 2) {
            return fmtRatio(row.ratio());
        }
        return String.format(Locale.ROOT, "%.3f ± %.3f", row.ratio(), row.ratioHalfWidth()) + " (" + row.rounds()
                + " rounds)";
    }

    /** A ratio with three significant digits. */
    public static String fmtRatio(double v) {
        if (Double.isNaN(v)) {
            return "n/a";
        }
        if (v == 0) {
            return "0";
        }
        double abs = Math.abs(v);
        if (abs >= 100) {
            return String.format(Locale.ROOT, "%,.0f", v);
        }
        if (abs >= 10) {
            return String.format(Locale.ROOT, "%.1f", v);
        }
        if (abs >= 0.01) {
            return String.format(Locale.ROOT, "%.3f", v);
        }
        return String.format(Locale.ROOT, "%.2g", v);
    }

    /** Microseconds as milliseconds, with precision that fits the size. */
    public static String fmtMicrosAsMillis(double micros) {
        double ms = micros / 1000;
        if (ms < 1) {
            return String.format(Locale.ROOT, "%.3f", ms);
        }
        if (ms < 10) {
            return String.format(Locale.ROOT, "%.2f", ms);
        }
        if (ms < 100) {
            return String.format(Locale.ROOT, "%.1f", ms);
        }
        return String.format(Locale.ROOT, "%,.0f", ms);
    }
}
