package dev.zksdk.benchmarks.report;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.zksdk.benchmarks.report.ScaleSummary.Row;
import dev.zksdk.benchmarks.report.Summary.Goal;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The scale section on a JMH result list made here, with round figures: one ensemble 1,000 ± 10 ops/s, ten 990 ± 10,
 * a hundred 960 ± 20 (with no lease held), and with 10,000 held one ensemble 1,000 ± 10 and a hundred 980 ± 5.
 */
class ScaleSummaryTest {

    private static Map<String, Object> metric(double score, double error, List<Double> iterations) {
        return Map.of("score", score, "scoreError", error, "scoreUnit", "ops/s", "rawData", List.of(iterations));
    }

    private static Map<String, Object> scale(int ensembles, int held, double score, double error) {
        return Map.of(
                "benchmark",
                "dev.zksdk.benchmarks.ScaleBenchmark.getData",
                "mode",
                "thrpt",
                "threads",
                16,
                "params",
                Map.of("ensembles", "" + ensembles, "heldLeases", "" + held, "server", "process"),
                "primaryMetric",
                metric(score, error, List.of(score)));
    }

    private static Map<String, Object> control(int ensembles, double score, double error) {
        return Map.of(
                "benchmark",
                "dev.zksdk.benchmarks.ScaleBenchmark.getDataAllRoutesToOneEnsemble",
                "mode",
                "thrpt",
                "threads",
                16,
                "params",
                Map.of("ensembles", "" + ensembles, "server", "process"),
                "primaryMetric",
                metric(score, error, List.of(score)));
    }

    private static ScaleSummary sample() {
        List<Object> entries = new ArrayList<>();
        entries.add(control(1, 1100, 10));
        entries.add(control(100, 1089, 10));
        entries.add(scale(1, 0, 1000, 10));
        entries.add(scale(10, 0, 990, 10));
        entries.add(scale(100, 0, 960, 20));
        entries.add(scale(1, 10000, 1000, 10));
        entries.add(scale(100, 10000, 980, 5));
        entries.add(Map.of(
                "benchmark",
                "dev.zksdk.benchmarks.ScaleMemoryBenchmark.measure",
                "mode",
                "ss",
                "threads",
                1,
                "params",
                Map.of("ensembles", "100", "leases", "10000", "server", "process"),
                "primaryMetric",
                metric(3000, Double.NaN, List.of(3000.0, 3000.0, 3000.0)),
                "secondaryMetrics",
                Map.of(
                        "bytesPerIdleEnsemble", metric(129000, Double.NaN, List.of(42000.0, 43000.0, 44000.0)),
                        "bytesPerHeldLease", metric(1000, Double.NaN, List.of(330.0, 340.0, 350.0)))));
        return new Summary(JmhResults.parse(JsonFiles.write(entries))).scale();
    }

    @Test
    void eachCaseIsDividedByOneEnsembleWithAsManyLeasesHeld() {
        List<Row> rows = sample().rows();

        assertThat(rows).extracting(Row::ensembles).containsExactly(1, 10, 100, 1, 100, 1, 100);
        assertThat(rows).extracting(Row::control).containsExactly(false, false, false, false, false, true, true);
        assertThat(rows.get(6).ratio())
                .as("the control over its own one-prefix case")
                .isEqualTo(0.99);
        Row hundred = rows.get(2);
        assertThat(hundred.ratio()).isEqualTo(0.96);
        assertThat(hundred.ratioLowerBound()).isCloseTo(940.0 / 1010, within(1e-12));
        assertThat(hundred.ratioUpperBound()).isCloseTo(980.0 / 990, within(1e-12));
        assertThat(hundred.goalMet())
                .as("0.96 but its lower bound 0.931 is under 0.95")
                .isFalse();
        Row heldHundred = rows.get(4);
        assertThat(heldHundred.oneEnsemble().score()).isEqualTo(1000);
        assertThat(heldHundred.ratioLowerBound()).isCloseTo(975.0 / 1010, within(1e-12));
        assertThat(heldHundred.goalMet()).isTrue();
    }

    @Test
    void theGoalIsTheMostEnsemblesForEachNumberOfHeldLeases() {
        ScaleSummary scale = sample();
        assertThat(scale.goalRows())
                .extracting(Row::ensembles, Row::heldLeases)
                .containsExactly(
                        org.assertj.core.groups.Tuple.tuple(100, 0), org.assertj.core.groups.Tuple.tuple(100, 10000));
    }

    @Test
    void memoryIsEachReadingNotJmhsSumOfThem() {
        ScaleSummary scale = sample();

        assertThat(scale.memory()).extracting(ScaleSummary.Memory::what).containsExactly("idle ensemble", "held lease");
        ScaleSummary.Memory ensemble = scale.memory().get(0);
        assertThat(ensemble.mean()).isEqualTo(43000.0);
        assertThat(ensemble.min()).isEqualTo(42000.0);
        assertThat(ensemble.max()).isEqualTo(44000.0);
        assertThat(ensemble.halfWidth95()).isCloseTo(4.303 * 1000 / Math.sqrt(3), within(1e-9));
    }

    @Test
    void theReportShowsTheTableTheGoalsAndANotMetHonestly() {
        List<Object> entries = new ArrayList<>();
        entries.add(scale(1, 0, 1000, 10));
        entries.add(scale(100, 0, 960, 20));
        Summary summary = new Summary(JmhResults.parse(JsonFiles.write(entries)));

        assertThat(summary.goals())
                .filteredOn(g -> g.goal().startsWith("pool with 100 ensembles"))
                .extracting(Goal::met)
                .containsExactly(false);
        String md = new MarkdownReport(summary, Map.of()).results("scale");
        assertThat(md)
                .contains("## Scale of the pool: 1, 10 and 100 ensembles")
                .contains("| an ensemble each | 1 | 0 | 1,000 ± 10 | 1 | – | baseline |")
                .contains("| an ensemble each | 100 | 0 | 960 ± 20 | 0.960 | 0.931–0.990 | **not met** |");
    }

    @Test
    void theCommittedFullRunHasEveryCaseAndTenHeapReadings() throws java.io.IOException {
        ScaleSummary scale = new Summary(JmhResults.parse(java.nio.file.Files.readString(
                        java.nio.file.Path.of("results/scale-full-2026-12-07/scale-full.json"))))
                .scale();

        assertThat(scale.rows()).hasSize(9);
        assertThat(scale.goalRows()).extracting(Row::ensembles).containsExactly(100, 100);
        assertThat(scale.memory()).allSatisfy(m -> assertThat(m.readings()).hasSize(10));
    }
}
