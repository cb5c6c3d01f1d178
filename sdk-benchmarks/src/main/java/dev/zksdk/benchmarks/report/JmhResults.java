package dev.zksdk.benchmarks.report;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** The entries of a JMH JSON result file, with what the report needs of each. */
public final class JmhResults {

    /** One metric: its score as JMH aggregated it, its unit, and every iteration's value of every fork. */
    public record Metric(
            double score, double scoreError, String unit, Map<String, Double> percentiles, List<Double> iterations) {

        /** The sum of every iteration's value (for counters: the total over the measured iterations). */
        public double total() {
            return iterations.stream().mapToDouble(Double::doubleValue).sum();
        }

        public double percentile(String key) {
            Double value = percentiles.get(key);
            if (value == null) {
                throw new IllegalArgumentException(
                        "percentile must be one of " + percentiles.keySet() + ", was " + key);
            }
            return value;
        }
    }

    /** One benchmark run: method, mode ({@code thrpt}, {@code sample}, {@code ss}, ...), threads, parameters. */
    public record Entry(
            String benchmark,
            String method,
            String mode,
            int threads,
            Map<String, String> params,
            Metric primary,
            Map<String, Metric> secondary) {

        public Optional<Metric> counter(String name) {
            return Optional.ofNullable(secondary.get(name));
        }
    }

    private final List<Entry> entries;

    private JmhResults(List<Entry> entries) {
        this.entries = List.copyOf(entries);
    }

    /**
     * Reads JMH's JSON output.
     *
     * @throws IllegalArgumentException if the text is not a JMH result array
     */
    public static JmhResults parse(String json) {
        Object root = JsonFiles.read(json);
        if (!(root instanceof List<?> list)) {
            throw new IllegalArgumentException("a JMH result file must hold a JSON array, found " + kind(root));
        }
        List<Entry> entries = new ArrayList<>();
        for (Object o : list) {
            Map<?, ?> e = map(o, "result entry");
            String benchmark = string(e, "benchmark");
            Map<String, String> params = new LinkedHashMap<>();
            Object p = e.get("params");
            if (p != null) {
                map(p, "params").forEach((k, v) -> params.put(String.valueOf(k), String.valueOf(v)));
            }
            Map<String, Metric> secondary = new LinkedHashMap<>();
            Object s = e.get("secondaryMetrics");
            if (s != null) {
                map(s, "secondaryMetrics")
                        .forEach((k, v) -> secondary.put(String.valueOf(k), metric(map(v, "metric"))));
            }
            entries.add(new Entry(
                    benchmark,
                    benchmark.substring(benchmark.lastIndexOf('.') + 1),
                    string(e, "mode"),
                    (int) number(e.get("threads")),
                    params,
                    metric(map(e.get("primaryMetric"), "primaryMetric")),
                    secondary));
        }
        return new JmhResults(entries);
    }

    /** These results and {@code other}'s, as one set (a benchmark run on its own after a profile's run). */
    public JmhResults with(JmhResults other) {
        List<Entry> all = new ArrayList<>(entries);
        all.addAll(other.entries);
        return new JmhResults(all);
    }

    public List<Entry> entries() {
        return entries;
    }

    /** The entries of one method in one mode, at one thread count (0: any). */
    public List<Entry> find(String method, String mode, int threads) {
        return entries.stream()
                .filter(e ->
                        e.method().equals(method) && e.mode().equals(mode) && (threads == 0 || e.threads() == threads))
                .toList();
    }

    /** The single entry of one method, mode and thread count, if the run had it. */
    public Optional<Entry> one(String method, String mode, int threads) {
        List<Entry> found = find(method, mode, threads);
        if (found.size() > 1) {
            throw new IllegalArgumentException(
                    found.size() + " results for " + method + " " + mode + " t=" + threads + "; expected one");
        }
        return found.stream().findFirst();
    }

    private static Metric metric(Map<?, ?> m) {
        Map<String, Double> percentiles = new LinkedHashMap<>();
        Object p = m.get("scorePercentiles");
        if (p != null) {
            map(p, "scorePercentiles").forEach((k, v) -> percentiles.put(String.valueOf(k), number(v)));
        }
        List<Double> iterations = new ArrayList<>();
        Object raw = m.get("rawData");
        if (raw instanceof List<?> forks) {
            for (Object fork : forks) {
                if (fork instanceof List<?> values) {
                    values.forEach(v -> iterations.add(number(v)));
                }
            }
        }
        Object unit = m.get("scoreUnit");
        return new Metric(
                number(m.get("score")),
                number(m.get("scoreError")),
                unit == null ? "" : unit.toString(),
                percentiles,
                iterations);
    }

    private static Map<?, ?> map(Object o, String what) {
        if (!(o instanceof Map<?, ?> m)) {
            throw new IllegalArgumentException(what + " must be a JSON object, found " + kind(o));
        }
        return m;
    }

    private static String string(Map<?, ?> m, String key) {
        Object v = m.get(key);
        if (!(v instanceof String s)) {
            throw new IllegalArgumentException(key + " must be a string, found " + kind(v));
        }
        return s;
    }

    /** JMH writes numbers, and "NaN" (a string) where there is none. */
    private static double number(Object v) {
        if (v instanceof Number n) {
            return n.doubleValue();
        }
        if (v instanceof String s) {
            try {
                return Double.parseDouble(s);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("expected a number, found '" + s + "'", e);
            }
        }
        throw new IllegalArgumentException("expected a number, found " + kind(v));
    }

    private static String kind(Object o) {
        return o == null ? "null" : o.getClass().getSimpleName();
    }
}
