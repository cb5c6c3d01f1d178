package dev.zksdk.benchmarks.report;

import dev.zksdk.benchmarks.report.JmhResults.Entry;
import dev.zksdk.benchmarks.report.JmhResults.Metric;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * The figures of the pool's scale benchmarks: {@code ScaleBenchmark.getData} throughput at each number of ensembles
 * and of held leases, each against one ensemble with as many leases held, and {@code ScaleMemoryBenchmark}'s heap per
 * idle ensemble and per held lease.
 */
public final class ScaleSummary {

    /** The goal: at most 5% throughput lost from 1 ensemble to the most measured. */
    public static final double GOAL_RATIO = 0.95;

    /**
     * One case: {@code ensembles} ensembles with {@code heldLeases} leases held, and the one-ensemble case with as many
     * held (itself for one ensemble).
     */
    public record Row(boolean control, int ensembles, int heldLeases, Metric throughput, Metric oneEnsemble) {
        /** This case's throughput over one ensemble's. */
        public double ratio() {
            return throughput.score() / oneEnsemble.score();
        }

        /** This case at the low end of its 99.9% interval over one ensemble at the high end of its own. */
        public double ratioLowerBound() {
            return (throughput.score() - throughput.scoreError()) / (oneEnsemble.score() + oneEnsemble.scoreError());
        }

        /** This case at the high end of its interval over one ensemble at the low end of its own. */
        public double ratioUpperBound() {
            return (throughput.score() + throughput.scoreError()) / (oneEnsemble.score() - oneEnsemble.scoreError());
        }

        /** Met when the interval's lower bound is at least the goal; NaN bounds are not met. */
        public boolean goalMet() {
            return ratioLowerBound() >= GOAL_RATIO;
        }
    }

    /** A heap figure's readings, one per measured invocation (bytes). */
    public record Memory(String what, List<Double> readings) {
        public double mean() {
            return Stats.mean(readings);
        }

        public double min() {
            return Stats.min(readings);
        }

        public double max() {
            return Stats.max(readings);
        }

        public double halfWidth95() {
            return Stats.halfWidth95(readings);
        }
    }

    static final String GET_DATA = "ScaleBenchmark.getData";
    static final String CONTROL = "ScaleBenchmark.getDataAllRoutesToOneEnsemble";

    private final List<Row> rows = new ArrayList<>();
    private final List<Memory> memory = new ArrayList<>();
    private int memoryEnsembles;
    private int memoryLeases;

    public ScaleSummary(JmhResults results) {
        for (String method : List.of(GET_DATA, CONTROL)) {
            List<Entry> scale = results.entries().stream()
                    .filter(e -> e.benchmark().endsWith(method))
                    .toList();
            for (Entry e : scale) {
                int ensembles = intParam(e, "ensembles");
                int held = e.params().containsKey("heldLeases") ? intParam(e, "heldLeases") : 0;
                Optional<Entry> one = scale.stream()
                        .filter(o -> intParam(o, "ensembles") == 1
                                && (!o.params().containsKey("heldLeases") || intParam(o, "heldLeases") == held))
                        .findFirst();
                one.ifPresent(
                        o -> rows.add(new Row(method.equals(CONTROL), ensembles, held, e.primary(), o.primary())));
            }
        }
        rows.sort(Comparator.comparing(Row::control)
                .thenComparingInt(Row::heldLeases)
                .thenComparingInt(Row::ensembles));
        results.entries().stream()
                .filter(e -> e.benchmark().endsWith("ScaleMemoryBenchmark.measure"))
                .findFirst()
                .ifPresent(e -> {
                    memoryEnsembles = intParam(e, "ensembles");
                    memoryLeases = intParam(e, "leases");
                    e.counter("bytesPerIdleEnsemble")
                            .ifPresent(m -> memory.add(new Memory("idle ensemble", m.iterations())));
                    e.counter("bytesPerHeldLease").ifPresent(m -> memory.add(new Memory("held lease", m.iterations())));
                });
    }

    private static int intParam(Entry e, String name) {
        String v = e.params().get(name);
        if (v == null) {
            throw new IllegalArgumentException(e.benchmark() + " has no parameter " + name + ": " + e.params());
        }
        return Integer.parseInt(v);
    }

    public boolean isEmpty() {
        return rows.isEmpty() && memory.isEmpty();
    }

    public List<Row> rows() {
        return rows;
    }

    public List<Memory> memory() {
        return memory;
    }

    /** The goal's row for each number of held leases: the most ensembles measured against one. */
    public List<Row> goalRows() {
        List<Row> out = new ArrayList<>();
        rows.stream()
                .map(Row::heldLeases)
                .distinct()
                .forEach(held -> rows.stream()
                        .filter(r -> r.heldLeases() == held && r.ensembles() > 1)
                        .max(Comparator.comparingInt(Row::ensembles))
                        .ifPresent(out::add));
        return out;
    }

    /** The section's Markdown: the throughput table, then the heap table. */
    public void markdown(StringBuilder md) {
        if (!rows.isEmpty()) {
            md.append("Sync getData at 16 threads through one pool routing that many prefixes to as many ensembles"
                    + " (chroots over three server processes, one session each), each operation on the next prefix in"
                    + " turn, taking and closing a lease around it; with 10,000 more leases held open throughout or"
                    + " none. The control routes as many prefixes all to the first ensemble (one session, one server):"
                    + " the same routing, without more sessions. ± is JMH's 99.9% interval; the ratio's bounds divide"
                    + " one end of this case's interval by the other end of the one-ensemble (one-prefix) case's. Goal:"
                    + " ≤ 5% loss (lower bound ≥ " + fmtRatio(GOAL_RATIO) + ").\n\n");
            md.append("| prefixes routed to | prefixes | leases held | ops/s | × one | interval | goal |\n"
                    + "|---|---:|---:|---:|---:|---:|---|\n");
            for (Row r : rows) {
                md.append("| ")
                        .append(r.control() ? "one ensemble (control)" : "an ensemble each")
                        .append(" | ")
                        .append(r.ensembles())
                        .append(" | ")
                        .append(Summary.fmtCount(r.heldLeases()))
                        .append(" | ")
                        .append(Summary.fmtCount(r.throughput().score()))
                        .append(" ± ")
                        .append(Summary.fmtCount(r.throughput().scoreError()))
                        .append(" | ")
                        .append(r.ensembles() == 1 ? "1" : fmtRatio(r.ratio()))
                        .append(" | ")
                        .append(
                                r.ensembles() == 1
                                        ? "–"
                                        : fmtRatio(r.ratioLowerBound()) + "–" + fmtRatio(r.ratioUpperBound()))
                        .append(" | ")
                        .append(
                                r.ensembles() == 1
                                        ? "baseline"
                                        : r.control() ? "–" : r.goalMet() ? "met" : "**not met**")
                        .append(" |\n");
            }
        }
        if (!memory.isEmpty()) {
            md.append("\nHeap retained (after full collections; thread stacks are not heap), over ")
                    .append(memory.get(0).readings().size())
                    .append(" readings, each a new pool of ")
                    .append(memoryEnsembles)
                    .append(" ensembles and ")
                    .append(Summary.fmtCount(memoryLeases))
                    .append(" held leases:\n\n");
            md.append("| per | mean bytes | ± (95%) | min–max |\n|---|---:|---:|---:|\n");
            for (Memory m : memory) {
                md.append("| ")
                        .append(m.what())
                        .append(" | ")
                        .append(Summary.fmtCount(m.mean()))
                        .append(" | ")
                        .append(Summary.fmtCount(m.halfWidth95()))
                        .append(" | ")
                        .append(Summary.fmtCount(m.min()))
                        .append("–")
                        .append(Summary.fmtCount(m.max()))
                        .append(" |\n");
            }
        }
    }

    private static String fmtRatio(double v) {
        return Double.isNaN(v) ? "n/a" : String.format(Locale.ROOT, "%.3f", v);
    }
}
