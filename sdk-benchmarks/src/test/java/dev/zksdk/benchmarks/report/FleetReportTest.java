package dev.zksdk.benchmarks.report;

import static org.assertj.core.api.Assertions.assertThat;

import dev.zksdk.benchmarks.report.HostSelection.FleetRow;
import dev.zksdk.benchmarks.report.Summary.Goal;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The fleet storm's section and issue 17's goals, on sample-fleet.json (JMH's format, round figures): the SDK's 10
 * storms back in 1,000 to 1,900 ms, 0 rejected and 0 overflows; plain handles' 10 storms in 3,000 to 3,900 ms, 1,500
 * rejected and 30 overflows per storm, 60 sessions displaced per storm, the last storm cut; Curator's 3 storms with one storm's
 * rejections and one storm's kernel counters unread.
 */
class FleetReportTest {

    @BeforeAll
    static void headless() {
        System.setProperty("java.awt.headless", "true");
    }

    private static String resource(String name) throws IOException {
        try (InputStream in = FleetReportTest.class.getResourceAsStream(name)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    private static Summary sample() throws IOException {
        return new Summary(JmhResults.parse(resource("sample-fleet.json")));
    }

    private static Goal goal(Summary summary, String prefix) {
        return summary.goals().stream()
                .filter(g -> g.goal().startsWith(prefix))
                .findFirst()
                .orElseThrow(() -> new AssertionError("no goal starting '" + prefix + "' in " + summary.goals()));
    }

    @Test
    void fleetRowsAreReadPerClientSdkFirst() throws IOException {
        HostSelection hosts = sample().hostSelection();

        assertThat(hosts.fleet()).extracting(FleetRow::client).containsExactly("sdk", "zookeeper", "curator");
        FleetRow sdk = hosts.fleet("sdk").orElseThrow();
        assertThat(sdk.hosts()).isEqualTo(4);
        assertThat(sdk.workers()).isEqualTo(250);
        assertThat(sdk.storms()).isEqualTo(10);
        assertThat(Stats.median(sdk.allBack())).isEqualTo(1450.0);
        assertThat(sdk.rejected()).isZero();
        FleetRow raw = hosts.fleet("zookeeper").orElseThrow();
        assertThat(raw.rejected()).isEqualTo(15_000.0);
        assertThat(raw.totalOf("displaced")).isEqualTo(600.0);
        assertThat(raw.stormsCut()).isEqualTo(1);
        FleetRow curator = hosts.fleet("curator").orElseThrow();
        assertThat(curator.rejected())
                .as("one storm could not read mntr: not measured, never 0")
                .isNaN();
        assertThat(curator.kernelTotalOf("listenOverflows")).isNaN();
    }

    @Test
    void markdownShowsEveryClientWithWhatCouldNotBeReadAsNotMeasured() throws IOException {
        String md = new MarkdownReport(sample(), Map.of()).results("sample");

        assertThat(md)
                .contains("## Reconnect storm from a fleet of hosts over their connection limit")
                .contains(
                        "| zk-sdk: one pool of 50 sessions per host | 4 × 250 | 10 | 0 | 1,450 (1,000–1,900) | 300 / 800"
                                + " / 900 | 200 | 2,000 | 0 | 0 | 0 | 0 | 0 |")
                .contains(
                        "| plain ZooKeeper: a handle per worker | 4 × 250 | 10 | 1 | 3,450 (3,000–3,900) | 100 / 400 /"
                                + " 500 | 240 | 1,800 | 0 | 600 | 15,000 | 300 | 300 |")
                .contains(
                        "| Curator: a CuratorFramework per worker | 4 × 250 | 3 | 0 | 3,000 (3,000–3,000) | 100 / 400 /"
                                + " 500 | 240 | 720 | 0 | 0 | not measured | not measured | not measured |");
        assertThat(new MarkdownReport(sample(), Map.of()).readmeBlock("c.png", "r.md"))
                .contains("Reconnect storm from a fleet of hosts over their connection limit:");
    }

    @Test
    void fleetGoalsAreJudgedOnTheIntervalsAndNeedPlainHandlesToShowRejections() throws IOException {
        Summary summary = sample();

        Goal clean = goal(summary, "fleet storm (hosts over maxClientCnxns)");
        assertThat(clean.measured())
                .isEqualTo("zk-sdk 0 rejected, 0 overflows; plain 15,000 rejected, 300 overflows (10 and 10 storms)");
        assertThat(clean.verdict()).isEqualTo("yes");
        // Medians 1,450 and 3,450 ms; 95% intervals of the median with 10 storms: 2nd to 9th value.
        Goal back = goal(summary, "fleet storm: zk-sdk all-back");
        assertThat(back.measured()).contains("1,450 ms against 3,450 ms").contains("1,100–1,800 and 3,100–3,800 ms");
        assertThat(back.verdict()).isEqualTo("yes");
        assertThat(goal(summary, "reconnect storm: zk-sdk all-back").verdict()).isEqualTo("not measured");
        assertThat(goal(summary, "first usable session, one of three addresses blackholed")
                        .verdict())
                .isEqualTo("not measured");
    }

    @Test
    void stormGoalsWithTwoStormsAreMetByThePointEstimateOnlyAndSoNotShown() throws IOException {
        Summary summary = new Summary(JmhResults.parse(resource("sample-hosts.json")));

        Goal back = goal(summary, "reconnect storm: zk-sdk all-back");
        assertThat(back.measured()).contains("2,200 ms against 16,450 ms").contains("open–open");
        assertThat(back.verdict()).isEqualTo("not shown");
        assertThat(goal(summary, "reconnect storm: 0 zk-sdk sessions expired").verdict())
                .isEqualTo("yes");
        assertThat(goal(summary, "fleet storm (hosts over maxClientCnxns)").verdict())
                .isEqualTo("not measured");
    }

    @Test
    void quantileIntervalsAreTheBinomialOrderStatistics() {
        List<Double> ten =
                IntStream.rangeClosed(1, 10).mapToObj(i -> (double) i).toList();
        assertThat(Stats.quantileInterval95(ten, 0.5)).containsExactly(2.0, 9.0);
        List<Double> forty =
                IntStream.rangeClosed(1, 40).mapToObj(i -> (double) i).toList();
        assertThat(Stats.quantileInterval95(forty, 0.9)).containsExactly(32.0, 40.0);
        assertThat(Stats.quantileInterval95(List.of(1.0, 2.0, 3.0), 0.5)).containsExactly(Double.NaN, Double.NaN);
    }

    @Test
    void aBenchmarkRunOnItsOwnIsAddedToTheProfilesRunAndNamed(@TempDir Path dir) throws IOException {
        Files.writeString(dir.resolve("full.json"), resource("sample-hosts.json"));
        Files.writeString(dir.resolve("full-fleet.json"), resource("sample-fleet.json"));

        String md = Files.readString(ReportMain.write(dir, "full", List.of("full-fleet")));

        assertThat(md)
                .contains("## Reconnect storm after a server restart")
                .contains("## Reconnect storm from a fleet of hosts over their connection limit")
                .contains("The figures of [`full-fleet.json`](full-fleet.json)")
                .doesNotContain("Every figure and ratio below comes from that one run.");
        assertThat(Files.readString(ReportMain.write(dir, "full")))
                .contains("Every figure and ratio below comes from that one run.")
                .doesNotContain("fleet of hosts");
    }
}
