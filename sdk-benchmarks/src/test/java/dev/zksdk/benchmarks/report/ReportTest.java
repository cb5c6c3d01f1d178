package dev.zksdk.benchmarks.report;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.zksdk.benchmarks.report.Summary.ChurnRow;
import dev.zksdk.benchmarks.report.Summary.Client;
import dev.zksdk.benchmarks.report.Summary.Goal;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The report on a small JMH result file in JMH's own format (sample.json), whose figures are round so that every
 * derived ratio can be checked by hand: per-request ZooKeeper 10 ops/s at 1 thread and 400 at 64, pooled 5,000 and
 * 12,000; one pooled connection in the measured iterations; SDK/raw 0.98 for sync reads and 0.95 for async ones.
 */
class ReportTest {

    @BeforeAll
    static void headless() {
        System.setProperty("java.awt.headless", "true");
    }

    private static String resource(String name) throws IOException {
        try (InputStream in = ReportTest.class.getResourceAsStream(name)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    private static Summary sample() throws IOException {
        return new Summary(JmhResults.parse(resource("sample.json")));
    }

    @Test
    void churnRowsDivideTheCountersOfBothRuns() throws IOException {
        Summary summary = sample();

        ChurnRow perRequest64 = summary.churn(Client.PER_REQUEST_ZOOKEEPER, 64).orElseThrow();
        assertThat(perRequest64.requests()).isEqualTo(2500);
        assertThat(perRequest64.connectsPerRequest()).isEqualTo(3100.0 / 2500);
        assertThat(perRequest64.rejected()).isEqualTo(250);
        assertThat(perRequest64.overflows()).isEqualTo(3);
        assertThat(perRequest64.latency()).isEmpty();

        ChurnRow pooled1 = summary.churn(Client.POOLED, 1).orElseThrow();
        assertThat(pooled1.requests()).isEqualTo(60000);
        assertThat(pooled1.connects()).isEqualTo(1);
        assertThat(pooled1.latency().orElseThrow().percentile("99.0")).isEqualTo(500.0);
        assertThat(summary.churn(Client.PER_REQUEST_CURATOR, 1)).isEmpty();
    }

    @Test
    void goalsAreCheckedAgainstTheRunsFigures() throws IOException {
        Summary summary = sample();

        assertThat(summary.pooledOverPerRequest(1)).contains(500.0);
        assertThat(summary.pooledOverPerRequest(64)).contains(30.0);
        assertThat(summary.pooledOverPerRequest(16)).isEmpty();
        assertThat(summary.goals())
                .extracting(Goal::met)
                .containsExactly(
                        true, true, false, true, false, null, null, false, null, null, null, null, null, null, null,
                        null, null, null, null, null, null);
        assertThat(summary.goals().get(5).goal())
                .startsWith("pooled ≥ 4× the lean per-request client's requests served at 64 threads");
        assertThat(summary.goals().get(5).verdict()).isEqualTo("not measured");
        assertThat(summary.goals().get(2).measured())
                .isEqualTo("1 connections in 132,000 measured pooled requests" + " (7.6e-06 per request)");
        assertThat(summary.goals().get(4).measured())
                .isEqualTo("lowest: 0.950 (async getData, 1,000 in flight, 1 thread)");
        assertThat(summary.overhead()).hasSize(2);
        assertThat(summary.overhead().get(0).ratio()).isEqualTo(0.98);
        assertThat(summary.overhead().get(0).rawCpuMicrosPerOp()).isEqualTo(20.0);
        assertThat(summary.overhead().get(1).sdkCpuMicrosPerOp()).isNaN();
    }

    @Test
    void theLeanClientIsJudgedOnTheRequestsItGotServedNotOnThoseTheServerTurnedAway() throws IOException {
        List<Object> entries = new ArrayList<>((List<?>) JsonFiles.read(resource("sample.json")));
        // A lean run at 64 threads: 6,000 requests/s sent, half of them turned away by the server.
        Map<String, Object> lean = new java.util.LinkedHashMap<>();
        lean.put("jmhVersion", "1.37");
        lean.put("benchmark", "dev.zksdk.benchmarks.ChurnBenchmark.perRequestLean");
        lean.put("mode", "thrpt");
        lean.put("threads", 64);
        lean.put("forks", 1);
        lean.put("params", Map.of("server", "process"));
        lean.put(
                "primaryMetric",
                Map.of("score", 6000.0, "scoreError", 0.0, "scoreUnit", "ops/s", "rawData", List.of(List.of(6000.0))));
        lean.put(
                "secondaryMetrics",
                Map.of(
                        "requests", counter(1000),
                        "failedRequests", counter(500),
                        "sessionsCreated", counter(500),
                        "tcpConnects", counter(1000)));
        entries.add(lean);
        Summary summary = new Summary(JmhResults.parse(JsonFiles.write(entries)));

        Goal goal = summary.goals().get(5);
        assertThat(goal.goal()).startsWith("pooled ≥ 4× the lean per-request client's requests served at 64 threads");
        // Pooled 12,000 ± 1,000 served against 3,000 served: 4×, at least 11,000 / 3,000 = 3.667×.
        assertThat(goal.measured())
                .startsWith("4.000× in requests served (at least 3.667×; the lean client's 3,000/s"
                        + " served of 6,000/s sent)");
        assertThat(goal.verdict()).isEqualTo("not shown");
    }

    private static Map<String, Object> counter(double value) {
        return Map.of("score", value, "scoreError", "NaN", "scoreUnit", "#", "rawData", List.of(List.of(value)));
    }

    @Test
    void connectionsARunDidNotCountAreNotMeasuredRatherThanZero() throws IOException {
        List<Object> entries = new ArrayList<>((List<?>) JsonFiles.read(resource("sample.json")));
        for (Object entry : entries) {
            Map<?, ?> e = (Map<?, ?>) entry;
            if (e.get("benchmark").toString().endsWith(".pooledLease")
                    && e.get("threads").equals(64)) {
                ((Map<?, ?>) e.get("secondaryMetrics")).remove("tcpConnects");
            }
        }
        Summary summary = new Summary(JmhResults.parse(JsonFiles.write(entries)));

        ChurnRow pooled64 = summary.churn(Client.POOLED, 64).orElseThrow();
        assertThat(pooled64.connectsMeasured()).isFalse();
        assertThat(summary.churn(Client.POOLED, 1).orElseThrow().connectsMeasured())
                .isTrue();
        assertThat(summary.goals().get(2).measured()).isEqualTo("not measured");
        assertThat(summary.goals().get(2).met()).isNull();
        assertThat(new MarkdownReport(summary, Map.of()).results("sample"))
                .contains("| pool.lease() per request | 64 | 12,000 ± 1,000 | – | – | – | – | not measured | ")
                .contains(
                        "| zero connections opened per pooled request in steady state | not measured | not measured |");
    }

    @Test
    void theCommittedFullRunWithItsFleetRunHasAVerdictForEveryGoal() throws IOException {
        JmhResults full = JmhResults.parse(Files.readString(Path.of("results/full.json")));
        Summary summary =
                new Summary(full.with(JmhResults.parse(Files.readString(Path.of("results/full-fleet.json")))));

        assertThat(summary.churn(Client.PER_REQUEST_ZOOKEEPER, 64).orElseThrow().connectsPerRequest())
                .isEqualTo(1.0);
        assertThat(summary.churn(Client.POOLED, 64).orElseThrow().connects()).isZero();
        assertThat(summary.goals()).extracting(Goal::verdict).doesNotContain("not measured");
        assertThat(summary.hostSelection().fleet()).hasSize(3);
        // Without the fleet run, its goals are not measured: they are never read as 0.
        assertThat(new Summary(full).goals())
                .filteredOn(g -> g.goal().startsWith("fleet storm"))
                .extracting(Goal::verdict)
                .containsExactly("not measured", "not measured");
    }

    @Test
    void theCommittedBatchingRunHasEveryRowAndItsGoals() throws IOException {
        Summary summary =
                new Summary(JmhResults.parse(Files.readString(Path.of("results/batching-2026-12-06/batching.json"))));
        assertThat(summary.batching()).hasSize(6);
        assertThat(summary.batchingRow("create", 1000).orElseThrow().raw()).isNotNull();
        assertThat(summary.goals())
                .filteredOn(g -> g.goal().contains("batched"))
                .hasSize(3)
                .extracting(Goal::met)
                .doesNotContainNull();
    }

    @Test
    void aGoalMetOnlyByThePointEstimateIsNotShown() {
        assertThat(new Goal("g", "m", true, false).verdict()).isEqualTo("not shown");
        assertThat(new Goal("g", "m", true, true).verdict()).isEqualTo("yes");
        assertThat(new Goal("g", "m", true).verdict()).isEqualTo("yes");
        assertThat(new Goal("g", "m", false, false).verdict()).isEqualTo("**no**");
        assertThat(new Goal("g", "m", null).verdict()).isEqualTo("not measured");
    }

    @Test
    void markdownShowsTheFiguresTheMachineAndTheCommand() throws IOException {
        Summary summary = sample();
        @SuppressWarnings("unchecked")
        java.util.Map<String, Object> machine =
                (java.util.Map<String, Object>) JsonFiles.read(resource("sample-machine.json"));

        String md = new MarkdownReport(summary, machine).results("sample");

        assertThat(md)
                .contains("java -jar sdk-benchmarks/target/zk-sdk-benchmarks.jar sample")
                .contains("2 cores, 24 GB")
                .contains("3.9.4-test")
                .contains(
                        "| new ZooKeeper per request | 1 | 10 ± 2 | 100 | 104 | 110 | 120 | 1.000 | 1.000 | 0 | 0 | 0 |")
                .contains("| pool.lease() per request | 1 | 5,000 ± 100 | 0.190 | 0.250 | 0.500 | 2.00 |")
                .contains("Pooled over per-request ZooKeeper throughput: 500× at 1 thread; 30.0× at 64 threads.")
                .contains("| sync getData | 1 | 5,000 ± 50 | 4,900 ± 50 | 0.980 | 20.0 → 22.4 |")
                .contains("| async getData, 1,000 in flight | 1 | 20,000 ± 500 | 19,000 ± 500 | 0.950 | – |")
                .contains("| 1000 | 1,000 (900–1,500) | 300 | 290 | 3 |")
                .contains("![benchmark chart](sample.png)");
    }

    @Test
    void chartIsAPngWithAPanelPerFigure(@TempDir Path dir) throws IOException {
        Files.writeString(dir.resolve("sample.json"), resource("sample.json"));
        Files.writeString(dir.resolve("sample-machine.json"), resource("sample-machine.json"));

        Path md = ReportMain.write(dir, "sample");

        BufferedImage png = ImageIO.read(dir.resolve("sample.png").toFile());
        assertThat(png).isNotNull();
        assertThat(png.getWidth()).isEqualTo(2 * ChartRenderer.WIDTH);
        assertThat(png.getHeight()).isEqualTo(2 * ChartRenderer.HEIGHT);
        assertThat(Files.readString(md)).startsWith("# zk-sdk benchmark results: `sample` profile");
    }

    @Test
    void readmeBlockIsReplacedBetweenTheMarkersOnly(@TempDir Path dir) throws IOException {
        Path results = Files.createDirectories(dir.resolve("sdk-benchmarks/results"));
        Files.writeString(results.resolve("sample.json"), resource("sample.json"));
        Path readme = dir.resolve("README.md");
        Files.writeString(
                readme,
                "# title\n\n## Benchmarks\n\nintro\n\n" + ReportMain.BEGIN + "\nold figures\n" + ReportMain.END
                        + "\n\n## After\n");

        ReportMain.updateReadme(readme, results, "sample");
        ReportMain.updateReadme(readme, results, "sample");

        String text = Files.readString(readme);
        assertThat(text)
                .startsWith("# title\n\n## Benchmarks\n\nintro\n\n" + ReportMain.BEGIN + "\n")
                .endsWith(ReportMain.END + "\n\n## After\n")
                .doesNotContain("old figures")
                .contains("![benchmark chart](sdk-benchmarks/results/sample.png)")
                .contains("[sdk-benchmarks/results/results.md](sdk-benchmarks/results/results.md)");
        assertThat(text.indexOf(ReportMain.BEGIN)).isEqualTo(text.lastIndexOf(ReportMain.BEGIN));
    }

    @Test
    void readmeWithoutMarkersIsRefused(@TempDir Path dir) throws IOException {
        Files.writeString(dir.resolve("sample.json"), resource("sample.json"));
        Path readme = dir.resolve("README.md");
        Files.writeString(readme, "# no markers\n");

        assertThatThrownBy(() -> ReportMain.updateReadme(readme, dir, "sample"))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining(ReportMain.BEGIN);
    }
}
