package dev.zksdk.benchmarks.report;

import dev.zksdk.benchmarks.report.JmhResults.Entry;
import dev.zksdk.benchmarks.report.JmhResults.Metric;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The server-selection figures of a run: connecting with a dead address in the connect string
 * ({@code ConnectBenchmark}) and the reconnect storm after a server restart ({@code StormBenchmark}). Every value comes
 * from the JMH results; what the run did not measure is absent.
 */
public final class HostSelection {

    /** The clients of the connect benchmark, in the order they are reported. */
    public enum ConnectClient {
        ZOOKEEPER("zooKeeper", "new ZooKeeper"),
        CURATOR("curator", "new CuratorFramework"),
        SDK("sdk", "new ZkSessionPool (1 session)");

        public final String method;
        public final String label;

        ConnectClient(String method, String label) {
            this.method = method;
            this.label = label;
        }
    }

    /**
     * One client against one kind of dead address: every measured connect's time (ms) and how many TCP connections it
     * opened (empty when the run did not count them).
     */
    public record ConnectRow(ConnectClient client, String deadAddress, List<Double> millis, List<Double> attempts) {

        public double median() {
            return Stats.median(millis);
        }

        public double p90() {
            return percentile(millis, 90);
        }

        public double max() {
            return Stats.max(millis);
        }

        /** Connects that opened more than one TCP connection: the dead address was tried before a live one. */
        public int deadTriedFirst() {
            return (int) attempts.stream().filter(a -> a >= 2).count();
        }

        /** The median time of the connects that tried the dead address first; NaN when none did. */
        public double medianWhenDeadFirst() {
            List<Double> slow = new ArrayList<>();
            for (int i = 0; i < millis.size() && i < attempts.size(); i++) {
                if (attempts.get(i) >= 2) {
                    slow.add(millis.get(i));
                }
            }
            return Stats.median(slow);
        }
    }

    /**
     * One client's storms: the whole time per storm (ms), the secondary counters, and the histogram of sessions back per
     * bucket (lower bound in ms, summed over the measured storms; the last bucket is open-ended when {@code openEnded}).
     */
    public record StormRow(
            String client,
            int sessions,
            List<Double> restartToAllBack,
            Map<String, Metric> counters,
            TreeMap<Integer, Double> histogram,
            int openEndedFrom) {

        public int storms() {
            return restartToAllBack.size();
        }

        /** The median over storms of one per-storm counter, NaN when absent. */
        public double medianOf(String counter) {
            return HostSelection.medianOf(counters, counter);
        }

        /** The sum over storms of one counter, NaN when absent. */
        public double totalOf(String counter) {
            return HostSelection.totalOf(counters, counter);
        }

        /** A kernel counter's total, NaN (not measured) when a storm could not read the kernel's counters. */
        public double kernelTotalOf(String counter) {
            return HostSelection.kernelTotalOf(counters, counter);
        }

        /** The label of the client: the SDK's pool or plain ZooKeeper handles. */
        public String label() {
            return client.equals("sdk")
                    ? "zk-sdk pool"
                    : client.equals("zookeeper") ? "plain ZooKeeper handles" : client;
        }
    }

    /**
     * One client of the rebalancing benchmark ({@code RebalanceBenchmark.rollingRestart}): each list holds one value per
     * invocation (one kill -9 rolling restart and the minute after it). Skews are percent; {@code evenAfterMs} is the
     * window's length where the skew never came down to the goal ({@code evenWithinWindow} 0).
     */
    public record RebalanceRow(
            String client,
            int sessions,
            List<Double> skewAtLastKill,
            List<Double> skewAtLastRestart,
            List<Double> skewAt10s,
            List<Double> skewAt30s,
            List<Double> skewAt60s,
            List<Double> evenAfterMs,
            List<Double> evenWithinWindow,
            List<Double> expired) {

        public int invocations() {
            return evenAfterMs.size();
        }

        /** Invocations in which the skew came down to the goal within the window. */
        public int evenWithin() {
            return (int) evenWithinWindow.stream().filter(v -> v >= 1).count();
        }

        /** The median time to the goal over the invocations that reached it; NaN when none did. */
        public double medianEvenAfterMs() {
            List<Double> reached = new ArrayList<>();
            for (int i = 0; i < evenAfterMs.size() && i < evenWithinWindow.size(); i++) {
                if (evenWithinWindow.get(i) >= 1) {
                    reached.add(evenAfterMs.get(i));
                }
            }
            return Stats.median(reached);
        }

        public double totalExpired() {
            return expired.stream().mapToDouble(Double::doubleValue).sum();
        }
    }

    /**
     * One client of {@code MovedServerBenchmark.findMovedServer}: per invocation, the time from the server serving on
     * its new address until the session was connected again, whether it kept its id, and whether it was not found
     * within the benchmark's bound (its time is then the bound).
     */
    public record MovedRow(String client, List<Double> millis, List<Double> sameSession, List<Double> notFound) {

        public double median() {
            return Stats.median(millis);
        }

        public int kept() {
            return (int) sameSession.stream().filter(v -> v >= 1).count();
        }

        public int lost() {
            return (int) notFound.stream().filter(v -> v >= 1).count();
        }
    }

    /**
     * One client of the fleet storm ({@code FleetStormBenchmark.restartFleetToAllBack}): simulated hosts of
     * {@code workers} workers each, the restart → all-back time per storm (ms) and the per-storm counters.
     */
    public record FleetRow(
            String client,
            int hosts,
            int workers,
            int sdkSessions,
            List<Double> allBack,
            Map<String, Metric> counters) {

        public int storms() {
            return allBack.size();
        }

        /** The median over storms of one per-storm counter, NaN when absent. */
        public double medianOf(String counter) {
            return HostSelection.medianOf(counters, counter);
        }

        /** The sum over storms of one counter, NaN when absent. */
        public double totalOf(String counter) {
            return HostSelection.totalOf(counters, counter);
        }

        /** A kernel counter's total, NaN (not measured) when a storm could not read the kernel's counters. */
        public double kernelTotalOf(String counter) {
            return HostSelection.kernelTotalOf(counters, counter);
        }

        /** Storms cut with a host short of its sessions. */
        public int stormsCut() {
            Metric m = counters.get("hostsShort");
            return m == null
                    ? 0
                    : (int) m.iterations().stream().filter(v -> v > 0).count();
        }

        /** The server's rejections over the storms, NaN (not measured) when a storm could not read them. */
        public double rejected() {
            return totalOf("rejectionsUnread") > 0 ? Double.NaN : totalOf("serverRejected");
        }

        public String label() {
            return switch (client) {
                case "sdk" -> "zk-sdk: one pool of " + sdkSessions + " sessions per host";
                case "zookeeper" -> "plain ZooKeeper: a handle per worker";
                case "curator" -> "Curator: a CuratorFramework per worker";
                default -> client;
            };
        }
    }

    /** Goal of issue 21: skew at most this many percent within {@value #REBALANCE_GOAL_SECONDS} s, none expired. */
    public static final double REBALANCE_GOAL_PERCENT = 20;

    public static final int REBALANCE_GOAL_SECONDS = 60;

    private static final Pattern BUCKET = Pattern.compile("backAt(\\d+)ms(OrLater)?");

    private final List<ConnectRow> connects = new ArrayList<>();
    private final List<StormRow> storms = new ArrayList<>();
    private final List<RebalanceRow> rebalances = new ArrayList<>();
    private final List<MovedRow> moved = new ArrayList<>();
    private final List<FleetRow> fleet = new ArrayList<>();

    public HostSelection(JmhResults results) {
        for (ConnectClient client : ConnectClient.values()) {
            for (Entry e : results.find(client.method, "ss", 0)) {
                if (!e.benchmark().endsWith("ConnectBenchmark." + client.method)) {
                    continue;
                }
                connects.add(new ConnectRow(
                        client,
                        e.params().getOrDefault("deadAddress", "?"),
                        List.copyOf(toMillis(e.primary())),
                        e.counter("connectAttempts").map(Metric::iterations).orElse(List.of())));
            }
        }
        connects.sort(Comparator.comparing((ConnectRow r) -> r.deadAddress().equals("refused") ? 0 : 1)
                .thenComparing(ConnectRow::deadAddress)
                .thenComparing(ConnectRow::client));
        for (Entry e : results.find("restartToAllBack", "ss", 0)) {
            TreeMap<Integer, Double> histogram = new TreeMap<>();
            int openEndedFrom = -1;
            for (Map.Entry<String, Metric> c : e.secondary().entrySet()) {
                Matcher m = BUCKET.matcher(c.getKey());
                if (m.matches()) {
                    int from = Integer.parseInt(m.group(1));
                    histogram.put(from, c.getValue().total());
                    if (m.group(2) != null) {
                        openEndedFrom = from;
                    }
                }
            }
            storms.add(new StormRow(
                    e.params().getOrDefault("client", "?"),
                    Integer.parseInt(e.params().getOrDefault("sessions", "0")),
                    List.copyOf(toMillis(e.primary())),
                    e.secondary(),
                    histogram,
                    openEndedFrom));
        }
        storms.sort(Comparator.comparing((StormRow r) -> r.client().equals("sdk") ? 0 : 1)
                .thenComparing(StormRow::client));
        for (Entry e : results.find("restartFleetToAllBack", "ss", 0)) {
            fleet.add(new FleetRow(
                    e.params().getOrDefault("client", "?"),
                    Integer.parseInt(e.params().getOrDefault("hosts", "0")),
                    Integer.parseInt(e.params().getOrDefault("workers", "0")),
                    Integer.parseInt(e.params().getOrDefault("sdkSessions", "0")),
                    List.copyOf(toMillis(e.primary())),
                    e.secondary()));
        }
        fleet.sort(Comparator.comparing((FleetRow r) -> r.client().equals("sdk") ? 0 : 1)
                .thenComparing(FleetRow::client, Comparator.reverseOrder()));
        for (Entry e : results.find("rollingRestart", "ss", 0)) {
            if (!e.benchmark().endsWith("RebalanceBenchmark.rollingRestart")) {
                continue;
            }
            rebalances.add(new RebalanceRow(
                    e.params().getOrDefault("client", "?"),
                    Integer.parseInt(e.params().getOrDefault("sessions", "0")),
                    values(e, "skewAtLastKillPercent"),
                    values(e, "skewAtLastRestartPercent"),
                    values(e, "skewAt10sPercent"),
                    values(e, "skewAt30sPercent"),
                    values(e, "skewAt60sPercent"),
                    values(e, "evenAfterMs"),
                    values(e, "evenWithinWindow"),
                    values(e, "expired")));
        }
        rebalances.sort(Comparator.comparing((RebalanceRow r) -> r.client().equals("sdk") ? 0 : 1)
                .thenComparing(RebalanceRow::client));
        for (Entry e : results.find("findMovedServer", "ss", 0)) {
            moved.add(new MovedRow(
                    e.params().getOrDefault("client", "?"),
                    List.copyOf(toMillis(e.primary())),
                    values(e, "sameSession"),
                    values(e, "notFound")));
        }
        moved.sort(Comparator.comparing((MovedRow r) -> r.client().equals("sdk") ? 0 : 1)
                .thenComparing(MovedRow::client));
    }

    /** The median over storms of one per-storm counter, NaN when absent. */
    static double medianOf(Map<String, Metric> counters, String counter) {
        Metric m = counters.get(counter);
        return m == null ? Double.NaN : Stats.median(m.iterations());
    }

    /** The sum over storms of one counter, NaN when absent. */
    static double totalOf(Map<String, Metric> counters, String counter) {
        Metric m = counters.get(counter);
        return m == null ? Double.NaN : m.total();
    }

    /** A kernel counter's total, NaN (not measured) when a storm could not read the kernel's counters. */
    static double kernelTotalOf(Map<String, Metric> counters, String counter) {
        return totalOf(counters, "kernelCountersUnread") > 0 ? Double.NaN : totalOf(counters, counter);
    }

    private static List<Double> values(Entry e, String counter) {
        return e.counter(counter).map(m -> List.copyOf(m.iterations())).orElse(List.of());
    }

    public List<FleetRow> fleet() {
        return fleet;
    }

    public Optional<FleetRow> fleet(String client) {
        return fleet.stream().filter(r -> r.client().equals(client)).findFirst();
    }

    public Optional<StormRow> storm(String client) {
        return storms.stream().filter(r -> r.client().equals(client)).findFirst();
    }

    public Optional<RebalanceRow> rebalance(String client) {
        return rebalances.stream().filter(r -> r.client().equals(client)).findFirst();
    }

    public List<MovedRow> moved() {
        return moved;
    }

    public List<RebalanceRow> rebalances() {
        return rebalances;
    }

    public List<ConnectRow> connects() {
        return connects;
    }

    public List<StormRow> storms() {
        return storms;
    }

    public Optional<ConnectRow> connect(ConnectClient client, String deadAddress) {
        return connects.stream()
                .filter(r -> r.client() == client && r.deadAddress().equals(deadAddress))
                .findFirst();
    }

    /** The SDK's median connect time over the raw handle's, for one kind of dead address. */
    public Optional<Double> sdkOverRawMedian(String deadAddress) {
        Optional<ConnectRow> sdk = connect(ConnectClient.SDK, deadAddress);
        Optional<ConnectRow> raw = connect(ConnectClient.ZOOKEEPER, deadAddress);
        if (sdk.isEmpty() || raw.isEmpty()) {
            return Optional.empty();
        }
        return Optional.of(sdk.get().median() / raw.get().median());
    }

    private static List<Double> toMillis(Metric m) {
        return m.iterations().stream().map(v -> Units.toMillis(v, m.unit())).toList();
    }

    /** Nearest-rank percentile; NaN for no values. */
    static double percentile(List<Double> values, double p) {
        if (values.isEmpty()) {
            return Double.NaN;
        }
        double[] sorted =
                values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        int rank = (int) Math.ceil(p / 100 * sorted.length);
        return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
    }
}
