package dev.zksdk.benchmarks.report;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.zksdk.benchmarks.report.Summary.Goal;
import dev.zksdk.benchmarks.report.Summary.OverheadRow;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An overhead pair run as paired rounds (paired.json, in the order a paired step runs them: raw then SDK, SDK then
 * raw, raw then SDK): raw 5,000 / 5,200 / 4,800 ops/s against SDK 4,900 / 5,148 / 4,896, so the rounds' ratios are
 * 0.98, 0.99 and 1.02, although the SDK's mean score is below the raw handle's.
 */
class PairedOverheadReportTest {

    private static String resource(String name) throws IOException {
        try (InputStream in = PairedOverheadReportTest.class.getResourceAsStream(name)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    @Test
    void ratioIsTheMeanOfEachRoundsRatioWithItsConfidenceInterval() throws IOException {
        Summary summary = new Summary(JmhResults.parse(resource("paired.json")));

        OverheadRow row = summary.overhead().get(0);
        assertThat(summary.overhead()).hasSize(1);
        assertThat(row.roundRatios()).containsExactly(0.98, 0.99, 1.02);
        assertThat(row.ratio()).isCloseTo((0.98 + 0.99 + 1.02) / 3, within(1e-12));
        // Student's t for 2 degrees of freedom (4.303) times the standard deviation of the ratios over the root of 3.
        assertThat(row.ratioHalfWidth()).isCloseTo(4.303 * Math.sqrt(0.00086667 / 2) / Math.sqrt(3), within(1e-5));
        assertThat(row.raw().score()).isEqualTo(5000.0);
        assertThat(row.sdk().score()).isCloseTo(4981.333, within(1e-3));
        assertThat(row.rawCpuMicrosPerOp()).isEqualTo(20.0);
        assertThat(row.sdkCpuMicrosPerOp()).isEqualTo(22.0);
        assertThat(row.rawCallerMicrosPerOp()).isEqualTo(3.0);
        assertThat(row.sdkCallerMicrosPerOp()).isEqualTo(4.5);

        Goal overhead = summary.goals().stream()
                .filter(g -> g.goal().contains("every overhead pair"))
                .findFirst()
                .orElseThrow();
        assertThat(overhead.met()).isTrue();
        assertThat(overhead.measured()).isEqualTo("lowest: 0.997 ± 0.052 (3 rounds) (sync getData, 1 thread)");
    }

    @Test
    void markdownGivesTheIntervalAndEveryRound() throws IOException {
        Summary summary = new Summary(JmhResults.parse(resource("paired.json")));

        String md = new MarkdownReport(summary, Map.of()).results("paired");

        assertThat(md)
                .contains("| sync getData | 1 | 5,000 ± 497 | 4,981 ± 359 | 0.997 ± 0.052 (3 rounds) | 20.0 → 22.0 |"
                        + " 3.000 → 4.500 |")
                .contains("- sync getData, 1 thread: 0.980, 0.990, 1.020");
    }

    /** paired.json's rounds as batched (the SDK side) against unbatched (the raw side) creates at 1 in flight. */
    @SuppressWarnings("unchecked")
    private static String asBatchedAlone(String json) {
        List<Object> entries = new ArrayList<>();
        for (Object o : (List<?>) JsonFiles.read(json)) {
            Map<String, Object> e = new java.util.LinkedHashMap<>((Map<String, Object>) o);
            String method = e.get("benchmark").toString().replaceAll(".*\\.", "");
            e.put(
                    "benchmark",
                    "dev.zksdk.benchmarks.BatchingAloneBenchmark."
                            + (method.equals("rawGetData") ? "sdkCreateAsync" : "sdkCreateAsyncBatched"));
            e.put("params", Map.of("server", "process", "inFlight", "1"));
            entries.add(e);
        }
        return JsonFiles.write(entries);
    }

    @Test
    void batchedCreatesAloneAreJudgedOnTheirPairedRoundsLowerBound() throws IOException {
        Summary summary = new Summary(JmhResults.parse(asBatchedAlone(resource("paired.json"))));

        assertThat(Summary.batchedAloneRounds(JmhResults.parse(asBatchedAlone(resource("paired.json")))))
                .containsExactly(0.98, 0.99, 1.02);
        assertThat(summary.overhead()).as("not an overhead pair").isEmpty();
        Goal lone = summary.goals().stream()
                .filter(g -> g.goal().contains("no worse than unbatched at 1 in flight"))
                .findFirst()
                .orElseThrow();
        assertThat(lone.measured()).isEqualTo("0.997× ± 0.052 (3 paired rounds; lower bound 0.945×)");
        assertThat(lone.verdict()).isEqualTo("not shown");
        assertThat(new MarkdownReport(summary, Map.of()).results("alone"))
                .contains("round by round: 0.980, 0.990, 1.020. The goal is judged on these.");
    }

    @Test
    void aRunOfBatchedAloneRoundsOnlyIsReportedWithoutAChart(@TempDir Path dir) throws IOException {
        Files.writeString(dir.resolve("alone.json"), asBatchedAlone(resource("paired.json")));

        Path md = ReportMain.write(dir, "alone");

        assertThat(Files.readString(md))
                .contains("round by round: 0.980, 0.990, 1.020")
                .doesNotContain(".png");
        assertThat(dir.resolve("alone.png")).doesNotExist();
    }

    @Test
    void batchedAloneRoundsWithoutTheirOtherSideAreRefused() throws IOException {
        List<Object> entries = new ArrayList<>((List<?>) JsonFiles.read(asBatchedAlone(resource("paired.json"))));
        entries.remove(5);

        assertThatThrownBy(() -> new Summary(JmhResults.parse(JsonFiles.write(entries))))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("3 rounds of unbatched creates at 1 in flight but 2 of batched ones");
    }

    @Test
    void roundsWithoutTheirOtherSideAreRefused() throws IOException {
        List<Object> entries = new ArrayList<>((List<?>) JsonFiles.read(resource("paired.json")));
        entries.remove(5);

        assertThatThrownBy(() -> new Summary(JmhResults.parse(JsonFiles.write(entries))))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("3 results of rawGetData but 2 of sdkGetData at 1 threads");
    }
}
