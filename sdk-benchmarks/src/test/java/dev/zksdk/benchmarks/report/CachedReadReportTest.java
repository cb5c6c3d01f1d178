package dev.zksdk.benchmarks.report;

import static org.assertj.core.api.Assertions.assertThat;

import dev.zksdk.benchmarks.report.Summary.CachedReadRow;
import dev.zksdk.benchmarks.report.Summary.Goal;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The cached-read part of the report on a small JMH result file (cached-reads.json) with round figures: at 1 thread
 * the cached read does 2,000,000 reads/s, the tree-cache read 1,600,000, the uncached lease read 12,500 and the raw
 * handle 12,800; at 4 threads only the cached reads ran (5,000,000 and 4,000,000). The async overhead pair is 20,000
 * raw against 19,600 SDK.
 */
class CachedReadReportTest {

    private static Summary summary() throws IOException {
        try (InputStream in = CachedReadReportTest.class.getResourceAsStream("cached-reads.json")) {
            return new Summary(JmhResults.parse(new String(in.readAllBytes(), StandardCharsets.UTF_8)));
        }
    }

    private static Goal goal(Summary summary, String startingWith) {
        List<Goal> found = summary.goals().stream()
                .filter(g -> g.goal().startsWith(startingWith))
                .toList();
        assertThat(found).as(startingWith).hasSize(1);
        return found.get(0);
    }

    @Test
    void rowsDivideEachReadByTheUncachedAndRawReadsOfTheSameThreadCount() throws IOException {
        Summary summary = summary();

        assertThat(summary.cachedReads())
                .extracting(r -> r.threads() + " " + r.method())
                .containsExactly(
                        "1 cachedRead",
                        "1 treeCacheRead",
                        "1 uncachedRead",
                        "1 rawHandleRead",
                        "4 cachedRead",
                        "4 treeCacheRead");
        CachedReadRow cached = summary.cachedRead("cachedRead", 1).orElseThrow();
        assertThat(cached.perSecond()).isEqualTo(2_000_000);
        assertThat(cached.nanosPerRead()).isEqualTo(500);
        assertThat(cached.overUncached()).contains(160.0);
        assertThat(cached.overRaw()).contains(2_000_000 / 12_800.0);
        assertThat(summary.cachedRead("rawHandleRead", 1).orElseThrow().overRaw())
                .contains(1.0);

        CachedReadRow fourThreads = summary.cachedRead("cachedRead", 4).orElseThrow();
        assertThat(fourThreads.nanosPerRead())
                .as("each of 4 threads: 4 / 5,000,000 s")
                .isEqualTo(800);
        assertThat(fourThreads.overUncached()).isEmpty();
        assertThat(fourThreads.overRaw()).isEmpty();
    }

    @Test
    void goalsOfTheFastReadsIssueAreCheckedAgainstTheRun() throws IOException {
        Summary summary = summary();

        Goal rate = goal(summary, "≥ 1,000,000 cached reads/s on 1 thread");
        assertThat(rate.measured()).isEqualTo("2,000,000 reads/s (500 ns/read)");
        assertThat(rate.met()).isTrue();

        Goal ratio = goal(summary, "cached read ≥ 200× uncached lease.getData on 1 thread");
        assertThat(ratio.measured()).isEqualTo("160×");
        assertThat(ratio.met()).isFalse();

        Goal async = goal(summary, "async getData, 1,000 in flight: SDK ≥ 0.97 × raw async handle");
        assertThat(async.measured()).isEqualTo("0.980");
        assertThat(async.met()).isTrue();
    }

    @Test
    void goalsThatTheRunDidNotMeasureSayNotMeasured() {
        Summary empty = new Summary(JmhResults.parse("[]"));

        assertThat(empty.cachedReads()).isEmpty();
        for (String goal :
                List.of("≥ 1,000,000 cached reads/s", "cached read ≥ 200×", "async getData, 1,000 in flight")) {
            assertThat(goal(empty, goal).measured()).isEqualTo("not measured");
            assertThat(goal(empty, goal).met()).isNull();
        }
        assertThat(new MarkdownReport(empty, Map.of()).results("empty"))
                .contains("## Cached reads\n\nNot measured in this run.\n");
    }

    @Test
    void markdownHasACachedReadsSectionAndTheGoals() throws IOException {
        MarkdownReport report = new MarkdownReport(summary(), Map.of());

        String md = report.results("cached");

        assertThat(md)
                .contains("| ≥ 1,000,000 cached reads/s on 1 thread | 2,000,000 reads/s (500 ns/read) | yes |")
                .contains("| cached read ≥ 200× uncached lease.getData on 1 thread | 160× | **no** |")
                .contains("| async getData, 1,000 in flight: SDK ≥ 0.97 × raw async handle | 0.980 | yes |")
                .contains("## Cached reads\n\n| read of the 128-byte node | threads | reads/s | ns/read |"
                        + " × uncached lease.getData | × raw handle getData |")
                .contains("| ZkCache: `cache.get().data()` | 1 | 2,000,000 ± 100,000 | 500 | 160 | 156 |")
                .contains("| ZkTreeCache: `tree.get(child).data()` | 1 | 1,600,000 ± 80,000 | 625 | 128 | 125 |")
                .contains("| uncached: `lease.getData(path)` | 1 | 12,500 ± 250 | 80,000 | 1.000 | 0.977 |")
                .contains("| raw handle: `zk.getData(path, false, null)` | 1 | 12,800 ± 200 | 78,125 | 1.024 | 1.000 |")
                .contains("| ZkCache: `cache.get().data()` | 4 | 5,000,000 ± 300,000 | 800 | – | – |");
        assertThat(md.indexOf("## Cached reads"))
                .isGreaterThan(md.indexOf("## SDK overhead"))
                .isLessThan(md.indexOf("## Recovery"));
        assertThat(report.readmeBlock("chart.png", "results.md"))
                .contains("| ZkCache: `cache.get().data()` | 1 | 2,000,000 ± 100,000 | 500 | 160 | 156 |");
    }

    @Test
    void anOddNumberOfChartsIsDrawnWithTheLastCellLeftWhite(@TempDir Path dir) throws IOException {
        // The sample run (churn, overhead, recovery) and the host-selection sample (a storm) together: five charts.
        String sample = resource("sample.json").strip();
        String hosts = resource("sample-hosts.json").strip();
        Summary summary =
                new Summary(JmhResults.parse(sample.substring(0, sample.length() - 1) + "," + hosts.substring(1)));
        int charts = ChartRenderer.charts(summary, "t").size();
        Path png = dir.resolve("odd.png");

        ChartRenderer.render(summary, "t", png);

        BufferedImage image = ImageIO.read(png.toFile());
        assertThat(charts).isEqualTo(5);
        assertThat(image.getWidth()).isEqualTo(2 * ChartRenderer.WIDTH);
        assertThat(image.getHeight()).isEqualTo(3 * ChartRenderer.HEIGHT);
        assertThat(image.getRGB(2 * ChartRenderer.WIDTH - 1, image.getHeight() - 1))
                .isEqualTo(0xFFFFFFFF);
    }

    private static String resource(String name) throws IOException {
        try (InputStream in = CachedReadReportTest.class.getResourceAsStream(name)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }
}
