package dev.zksdk.benchmarks.report;

import static org.assertj.core.api.Assertions.assertThat;

import dev.zksdk.benchmarks.report.HostSelection.ConnectClient;
import dev.zksdk.benchmarks.report.HostSelection.ConnectRow;
import dev.zksdk.benchmarks.report.HostSelection.RebalanceRow;
import dev.zksdk.benchmarks.report.HostSelection.StormRow;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The server-selection sections on a small JMH result file in JMH's own format (sample-hosts.json) with round figures:
 * raw ZooKeeper connects of 10, 20, 30, 120 (dead address tried first) and 20 ms against the SDK's 30, 40, 140 (dead
 * first), 40 and 50 ms; blackholed connects of 4,000 and 3,800 ms when the dead address came first; two storms per
 * client with 100-ms buckets summing to 400 sessions each.
 */
class HostSelectionReportTest {

    @BeforeAll
    static void headless() {
        System.setProperty("java.awt.headless", "true");
    }

    private static String resource(String name) throws IOException {
        try (InputStream in = HostSelectionReportTest.class.getResourceAsStream(name)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    private static Summary sample() throws IOException {
        return new Summary(JmhResults.parse(resource("sample-hosts.json")));
    }

    @Test
    void connectRowsSplitTheConnectsThatTriedTheDeadAddressFirst() throws IOException {
        HostSelection hosts = sample().hostSelection();

        ConnectRow raw = hosts.connect(ConnectClient.ZOOKEEPER, "refused").orElseThrow();
        assertThat(raw.median()).isEqualTo(20.0);
        assertThat(raw.p90()).isEqualTo(120.0);
        assertThat(raw.max()).isEqualTo(120.0);
        assertThat(raw.deadTriedFirst()).isEqualTo(1);
        assertThat(raw.medianWhenDeadFirst()).isEqualTo(120.0);

        ConnectRow blackholed =
                hosts.connect(ConnectClient.ZOOKEEPER, "blackholed").orElseThrow();
        assertThat(blackholed.median()).isEqualTo(1910.0);
        assertThat(blackholed.deadTriedFirst()).isEqualTo(2);
        assertThat(blackholed.medianWhenDeadFirst()).isEqualTo(3900.0);
        assertThat(hosts.connect(ConnectClient.CURATOR, "blackholed")
                        .orElseThrow()
                        .medianWhenDeadFirst())
                .isNaN();

        assertThat(hosts.sdkOverRawMedian("refused")).contains(2.0);
        assertThat(hosts.sdkOverRawMedian("blackholed")).isEmpty();
        assertThat(hosts.connects())
                .extracting(r -> r.client() + " " + r.deadAddress())
                .containsExactly("ZOOKEEPER refused", "SDK refused", "ZOOKEEPER blackholed", "CURATOR blackholed");
    }

    @Test
    void stormRowsSumTheBucketsOverStormsAndKeepTheOpenEndedOne() throws IOException {
        HostSelection hosts = sample().hostSelection();

        assertThat(hosts.storms()).extracting(StormRow::client).containsExactly("sdk", "zookeeper");
        StormRow sdk = hosts.storms().get(0);
        assertThat(sdk.storms()).isEqualTo(2);
        assertThat(sdk.histogram())
                .hasSize(31)
                .containsEntry(0, 100.0)
                .containsEntry(500, 200.0)
                .containsEntry(1000, 100.0);
        assertThat(sdk.histogram().values().stream()
                        .mapToDouble(Double::doubleValue)
                        .sum())
                .isEqualTo(400.0);
        assertThat(sdk.openEndedFrom()).isEqualTo(3000);
        assertThat(sdk.medianOf("spreadP90Ms")).isEqualTo(1000.0);
        StormRow raw = hosts.storms().get(1);
        assertThat(raw.totalOf("expired")).isEqualTo(1.0);
        assertThat(raw.totalOf("listenOverflows")).isEqualTo(5.0);
        assertThat(raw.histogram()).containsEntry(3000, 1.0);
    }

    @Test
    void markdownShowsConnectTimesAndTheStormHistogram() throws IOException {
        String md = new MarkdownReport(sample(), Map.of()).results("sample");

        assertThat(md)
                .contains("## Connecting with a dead address in the connect string")
                .contains("| new ZooKeeper | refused | 20.0 | 120 | 120 | 1 of 5 | 120 | 5 |")
                .contains("| new ZkSessionPool (1 session) | refused | 40.0 | 140 | 140 | 1 of 5 | 140 | 5 |")
                .contains("| new ZooKeeper | blackholed | 1,910 | 4,000 | 4,000 | 2 of 4 | 3,900 | 4 |")
                .contains("| new CuratorFramework | blackholed | 25.0 | 25.0 | 25.0 | 0 of 4 | – | 4 |")
                .contains("zk-sdk over raw ZooKeeper, median time to a usable session: 2.000 (refused).")
                .contains("## Reconnect storm after a server restart")
                .contains(
                        "| zk-sdk pool | 200 | 2 | 2,200 (2,000–2,400) | 1,000 | 500 / 1,000 / 1,100 / 1,150 | 0 | 0 | 0 |")
                .contains(
                        "| plain ZooKeeper handles | 200 | 2 | 16,450 (1,900–31,000) | 1,000 | 500 / 1,000 / 1,100 / 1,150"
                                + " | 1 | 5 | 5 |")
                .contains("| ms | zk-sdk pool (2 storms) | plain ZooKeeper handles (2 storms) |\n|---:|---:|---:|\n"
                        + "| 0–100 | 100 | 300 |\n")
                .contains("| 500–600 | 200 | 0 |\n")
                .contains("| 900–1000 | 0 | 99 |\n| 1000–1100 | 100 | 0 |\n")
                .contains("| 3000+ | 0 | 1 |\n");
        assertThat(md.indexOf("## Recovery after a forced session expiry"))
                .isLessThan(md.indexOf("## Connecting with a dead address"));
    }

    @Test
    void runWithoutServerSelectionFiguresHasNoSuchSections() throws IOException {
        String md =
                new MarkdownReport(new Summary(JmhResults.parse(resource("sample.json"))), Map.of()).results("sample");

        assertThat(md).doesNotContain("dead address").doesNotContain("Reconnect storm");
    }

    @Test
    void stormHistogramIsDrawnWhenItIsTheOnlyFigure(@TempDir Path dir) throws IOException {
        Files.writeString(dir.resolve("hosts.json"), resource("sample-hosts.json"));

        ReportMain.write(dir, "hosts");

        BufferedImage png = ImageIO.read(dir.resolve("hosts.png").toFile());
        assertThat(png).isNotNull();
        assertThat(png.getWidth()).isEqualTo(ChartRenderer.WIDTH);
        assertThat(png.getHeight()).isEqualTo(ChartRenderer.HEIGHT);
    }

    /**
     * sample-rebalance.json: three SDK invocations (skew at the last kill 170/150/160 %, at the goal after 20 s, 30 s and
     * never) and one of plain handles at 180 % throughout; none expired.
     */
    @Test
    void rebalanceRowsTakeTheMedianOverInvocationsAndTheGoalNeedsEveryOne() throws IOException {
        HostSelection hosts = new Summary(JmhResults.parse(resource("sample-rebalance.json"))).hostSelection();

        assertThat(hosts.rebalances()).extracting(RebalanceRow::client).containsExactly("sdk", "zookeeper");
        RebalanceRow sdk = hosts.rebalances().get(0);
        assertThat(sdk.invocations()).isEqualTo(3);
        assertThat(sdk.evenWithin()).isEqualTo(2);
        assertThat(sdk.medianEvenAfterMs()).isEqualTo(25_000.0);
        assertThat(sdk.totalExpired()).isZero();
        RebalanceRow raw = hosts.rebalances().get(1);
        assertThat(raw.evenWithin()).isZero();
        assertThat(raw.medianEvenAfterMs()).isNaN();

        String md = new MarkdownReport(new Summary(JmhResults.parse(resource("sample-rebalance.json"))), Map.of())
                .results("rebalance");
        assertThat(md)
                .contains("## Rebalancing after a rolling restart")
                .contains("| sdk | 30 | 160 % (150–170) | 160 % (150–170) | 100 % (90–110) | 10 % (0–20) | 0 % (0–10)"
                        + " | 25.0 s | 2 of 3 | 0 | **no** |")
                .contains("| zookeeper | 30 | 180 % | 180 % | 180 % | 180 % | 180 % | never | 0 of 1 | 0 | **no** |");
    }

    @Test
    void rebalanceChartIsDrawnWhenItIsTheOnlyFigure(@TempDir Path dir) throws IOException {
        Files.writeString(dir.resolve("rebalance.json"), resource("sample-rebalance.json"));

        Path md = ReportMain.write(dir, "rebalance");

        assertThat(ImageIO.read(dir.resolve("rebalance.png").toFile())).isNotNull();
        assertThat(Files.readString(md)).contains("Rebalancing after a rolling restart");
    }

    @Test
    void runWithoutRebalancingFiguresHasNoSuchSection() throws IOException {
        String md = new MarkdownReport(sample(), Map.of()).results("hosts");

        assertThat(md).doesNotContain("Rebalancing after a rolling restart");
    }

    /** sample-moved.json: the SDK found the moved server after 400, 500 and 800 ms; the plain handle after 1,100, 1,600 and 2,000 ms, all with the same session. */
    @Test
    void movedServerRowsAndTheirSectionAndChart(@TempDir Path dir) throws IOException {
        HostSelection hosts = new Summary(JmhResults.parse(resource("sample-moved.json"))).hostSelection();

        assertThat(hosts.moved()).extracting(HostSelection.MovedRow::client).containsExactly("sdk", "zookeeper");
        assertThat(hosts.moved().get(0).median()).isEqualTo(500.0);
        assertThat(hosts.moved().get(0).kept()).isEqualTo(3);
        assertThat(hosts.moved().get(1).median()).isEqualTo(1_600.0);

        Files.writeString(dir.resolve("moved.json"), resource("sample-moved.json"));
        Path md = ReportMain.write(dir, "moved");
        assertThat(ImageIO.read(dir.resolve("moved.png").toFile())).isNotNull();
        assertThat(Files.readString(md))
                .contains("## Time to find a server that moved to another address")
                .contains("| sdk | 500 | 400 | 800 | 3 of 3 | 0 | 3 |")
                .contains("| zookeeper | 1,600 | 1,100 | 2,000 | 3 of 3 | 0 | 3 |");
    }
}
