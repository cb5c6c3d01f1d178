package dev.zksdk.benchmarks.report;

import dev.zksdk.benchmarks.report.JmhResults.Metric;
import dev.zksdk.benchmarks.report.Summary.CachedReadRow;
import dev.zksdk.benchmarks.report.Summary.ChurnRow;
import dev.zksdk.benchmarks.report.Summary.Client;
import dev.zksdk.benchmarks.report.Summary.OverheadRow;
import dev.zksdk.benchmarks.report.Summary.RecoveryRow;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import java.util.function.Function;
import javax.imageio.ImageIO;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.style.Styler.LegendPosition;

/**
 * Draws a run's figures as one PNG of four bar charts (XChart): churn throughput and p99 latency per client and
 * thread count (logarithmic, since they span three orders of magnitude), the SDK against the raw handle, and recovery
 * times. A chart with nothing to show is left out.
 */
public final class ChartRenderer {

    static final int WIDTH = 720;
    static final int HEIGHT = 460;
    private static final Color[] CLIENT_COLORS = {
        new Color(0xC0, 0x39, 0x2B),
        new Color(0xE6, 0x7E, 0x22),
        new Color(0x6C, 0x34, 0x83),
        new Color(0x27, 0xAE, 0x60)
    };
    private static final Color RAW = new Color(0x7F, 0x8C, 0x8D);
    private static final Color SDK = new Color(0x29, 0x80, 0xB9);

    private ChartRenderer() {}

    /**
     * Renders the charts into {@code png}.
     *
     * @throws IllegalArgumentException if the run has nothing to draw
     */
    public static void render(Summary summary, String title, Path png) throws IOException {
        List<CategoryChart> charts = charts(summary, title);
        if (charts.isEmpty()) {
            throw new IllegalArgumentException(
                    "the results hold no churn, overhead, recovery, batching, storm, fleet, rebalancing, moved-server or scale"
                            + " figures to draw");
        }
        int columns = charts.size() == 1 ? 1 : 2;
        int rows = (charts.size() + columns - 1) / columns;
        // Drawn into one grid here rather than by XChart's merge, which needs exactly rows x columns charts: an odd
        // number
        // leaves the last cell white.
        BufferedImage grid = new BufferedImage(columns * WIDTH, rows * HEIGHT, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = grid.createGraphics();
        try {
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, grid.getWidth(), grid.getHeight());
            for (int i = 0; i < charts.size(); i++) {
                g.drawImage(
                        BitmapEncoder.getBufferedImage(charts.get(i)),
                        (i % columns) * WIDTH,
                        (i / columns) * HEIGHT,
                        null);
            }
        } finally {
            g.dispose();
        }
        if (!ImageIO.write(grid, "png", png.toFile())) {
            throw new IOException("no PNG writer for " + png);
        }
    }

    static List<CategoryChart> charts(Summary summary, String title) {
        List<CategoryChart> charts = new ArrayList<>();
        churnChart(
                        summary,
                        "Requests/s, one getData per request (" + title + ")",
                        "requests/s (log)",
                        r -> r.throughput().map(m -> Units.toPerSecond(m.score(), m.unit())))
                .ifPresent(charts::add);
        churnChart(
                        summary,
                        "p99 latency per request",
                        "ms (log)",
                        r -> r.latency().map(m -> Units.toMillis(m.percentile("99.0"), m.unit())))
                .ifPresent(charts::add);
        overheadChart(summary).ifPresent(charts::add);
        recoveryChart(summary).ifPresent(charts::add);
        cachedReadChart(summary).ifPresent(charts::add);
        batchingChart(summary, "create").ifPresent(charts::add);
        batchingChart(summary, "setData").ifPresent(charts::add);
        HostSelectionReport.stormChart(
                        summary.hostSelection(),
                        base(
                                "Reconnect storm: sessions back per 100 ms after" + " the first (mean per storm)",
                                "ms after the first session back",
                                "sessions"))
                .ifPresent(charts::add);
        HostSelectionReport.rebalanceChart(
                        summary.hostSelection(),
                        base("Rebalancing: skew after a kill -9 rolling restart (median)", "time", "skew, percent"))
                .ifPresent(charts::add);
        HostSelectionReport.movedChart(
                        summary.hostSelection(),
                        base("Time to find a server that moved to another address (median)", "client", "ms"))
                .ifPresent(charts::add);
        HostSelectionReport.fleetChart(
                        summary.hostSelection(),
                        base("Fleet storm: restart to all hosts back (median)", "client", "ms"))
                .ifPresent(charts::add);
        scaleChart(summary.scale()).ifPresent(charts::add);
        return charts;
    }

    /**
     * Sync getData/s at 16 threads by prefixes routed, each to an ensemble of its own (with and without 10,000 leases
     * held) or all to one ensemble (the control), with JMH's intervals as error bars.
     */
    private static Optional<CategoryChart> scaleChart(ScaleSummary scale) {
        if (scale.rows().isEmpty()) {
            return Optional.empty();
        }
        CategoryChart chart = base("Sync getData/s, 16 threads, one pool", "prefixes routed", "ops/s");
        List<String> x = scale.rows().stream()
                .map(r -> String.valueOf(r.ensembles()))
                .distinct()
                .sorted(java.util.Comparator.comparingInt(Integer::parseInt))
                .toList();
        Map<String, List<ScaleSummary.Row>> series = new LinkedHashMap<>();
        for (ScaleSummary.Row r : scale.rows()) {
            String name = r.control()
                    ? "all to one ensemble (control)"
                    : "an ensemble each, " + Summary.fmtCount(r.heldLeases()) + " leases held";
            series.computeIfAbsent(name, k -> new ArrayList<>()).add(r);
        }
        int i = 0;
        for (Map.Entry<String, List<ScaleSummary.Row>> e : series.entrySet()) {
            List<Double> y = new ArrayList<>();
            List<Double> error = new ArrayList<>();
            for (String ensembles : x) {
                Optional<ScaleSummary.Row> row = e.getValue().stream()
                        .filter(r -> String.valueOf(r.ensembles()).equals(ensembles))
                        .findFirst();
                Metric m = row.map(ScaleSummary.Row::throughput).orElse(null);
                y.add(m == null ? 0.0 : Units.toPerSecond(m.score(), m.unit()));
                error.add(
                        m == null || Double.isNaN(m.scoreError()) ? 0.0 : Units.toPerSecond(m.scoreError(), m.unit()));
            }
            chart.addSeries(e.getKey(), x, y, error).setFillColor(CLIENT_COLORS[i++ % CLIENT_COLORS.length]);
        }
        chart.getStyler().setOverlapped(false);
        return Optional.of(chart);
    }

    /** Async {@code operation}s/s by requests in flight: raw handle, lease, lease with batching (log scale). */
    private static Optional<CategoryChart> batchingChart(Summary summary, String operation) {
        List<Summary.BatchingRow> rows = summary.batching().stream()
                .filter(r -> r.operation().equals(operation))
                .toList();
        if (rows.isEmpty()) {
            return Optional.empty();
        }
        CategoryChart chart = base("Async " + operation + "/s, one thread", "requests in flight", "ops/s");
        List<String> x = new ArrayList<>();
        List<Double> raw = new ArrayList<>();
        List<Double> plain = new ArrayList<>();
        List<Double> batched = new ArrayList<>();
        for (Summary.BatchingRow r : rows) {
            x.add(String.valueOf(r.inFlight()));
            raw.add(
                    r.raw() == null
                            ? 0.0
                            : Units.toPerSecond(r.raw().score(), r.raw().unit()));
            plain.add(Units.toPerSecond(r.unbatched().score(), r.unbatched().unit()));
            batched.add(Units.toPerSecond(r.batched().score(), r.batched().unit()));
        }
        chart.addSeries("raw handle", x, raw).setFillColor(RAW);
        chart.addSeries("SDK lease", x, plain).setFillColor(SDK);
        chart.addSeries("SDK lease, batched", x, batched).setFillColor(CLIENT_COLORS[1]);
        return Optional.of(chart);
    }

    private static Optional<CategoryChart> churnChart(
            Summary summary, String title, String yTitle, Function<ChurnRow, Optional<Double>> value) {
        TreeSet<Integer> threads = new TreeSet<>();
        summary.churn().forEach(r -> threads.add(r.threads()));
        if (threads.isEmpty()) {
            return Optional.empty();
        }
        CategoryChart chart = base(title, "threads", yTitle);
        chart.getStyler().setYAxisLogarithmic(true);
        double min = Double.MAX_VALUE;
        double max = 0;
        int added = 0;
        Client[] clients = Client.values();
        for (int i = 0; i < clients.length; i++) {
            Client client = clients[i];
            List<String> x = new ArrayList<>();
            List<Double> y = new ArrayList<>();
            for (int t : threads) {
                Optional<Double> v = summary.churn(client, t).flatMap(value);
                if (v.isPresent() && v.get() > 0) {
                    x.add(Integer.toString(t));
                    y.add(v.get());
                    min = Math.min(min, v.get());
                    max = Math.max(max, v.get());
                }
            }
            if (!x.isEmpty()) {
                chart.addSeries(client.label, x, y).setFillColor(CLIENT_COLORS[i]);
                added++;
            }
        }
        if (added == 0) {
            return Optional.empty();
        }
        // Bars grow from the axis minimum, which must be above zero on a logarithmic axis: whole decades around the
        // data,
        // and one more on top for the legend.
        chart.getStyler().setYAxisMin(Math.pow(10, Math.floor(Math.log10(min / 2))));
        chart.getStyler().setYAxisMax(Math.pow(10, Math.ceil(Math.log10(max * 1.0001)) + 1));
        return Optional.of(chart);
    }

    private static Optional<CategoryChart> overheadChart(Summary summary) {
        List<OverheadRow> rows =
                summary.overhead().stream().filter(r -> !r.diagnostic()).toList();
        boolean diagnosticOnly = rows.isEmpty();
        if (diagnosticOnly) {
            rows = summary.overhead(); // a run of diagnostic pairs alone: draw those
        }
        if (rows.isEmpty()) {
            return Optional.empty();
        }
        CategoryChart chart = diagnosticOnly
                ? base("Diagnostic pairs (label: second/first)", "operation, threads", "ops/s")
                : base("Raw ZooKeeper handle vs ZkLease (label: SDK/raw)", "operation, threads", "ops/s");
        List<String> x = new ArrayList<>();
        List<Double> raw = new ArrayList<>();
        List<Double> sdk = new ArrayList<>();
        for (OverheadRow row : rows) {
            x.add((diagnosticOnly ? row.label() : shortLabel(row)) + " ×" + Summary.fmtRatio(row.ratio()));
            raw.add(Units.toPerSecond(row.raw().score(), row.raw().unit()));
            sdk.add(Units.toPerSecond(row.sdk().score(), row.sdk().unit()));
        }
        chart.addSeries(diagnosticOnly ? "first" : "raw handle", x, raw).setFillColor(RAW);
        chart.addSeries(diagnosticOnly ? "second" : "SDK lease", x, sdk).setFillColor(SDK);
        chart.getStyler().setXAxisLabelRotation(20);
        return Optional.of(chart);
    }

    private static String shortLabel(OverheadRow row) {
        String op = row.rawMethod().replace("raw", "");
        op = Character.toLowerCase(op.charAt(0)) + op.substring(1);
        return op + " t" + row.threads();
    }

    private static Optional<CategoryChart> recoveryChart(Summary summary) {
        if (summary.recovery().isEmpty()) {
            return Optional.empty();
        }
        CategoryChart chart = base("Recovery after a forced expiry (median)", "owned ephemerals + watches", "ms");
        List<String> x = new ArrayList<>();
        List<Double> whole = new ArrayList<>();
        List<Double> sdkPart = new ArrayList<>();
        for (RecoveryRow row : summary.recovery()) {
            x.add(Integer.toString(row.owned()));
            whole.add(Units.toMillis(
                    Stats.median(row.expiryToRecovered().iterations()),
                    row.expiryToRecovered().unit()));
            sdkPart.add(row.newSessionToRecovered()
                    .map(Metric::iterations)
                    .map(Stats::median)
                    .orElse(0.0));
        }
        chart.addSeries("expiry → recovered", x, whole).setFillColor(RAW);
        chart.addSeries("new session → recovered", x, sdkPart).setFillColor(SDK);
        return Optional.of(chart);
    }

    private static Optional<CategoryChart> cachedReadChart(Summary summary) {
        if (summary.cachedReads().isEmpty()) {
            return Optional.empty();
        }
        // Every read measured has a row, the uncached and raw-handle baselines (1 thread) included.
        CategoryChart chart = base("Reads of one node: cached, uncached, raw handle", "threads", "reads/s (log)");
        chart.getStyler().setYAxisLogarithmic(true);
        TreeSet<Integer> threads = new TreeSet<>();
        summary.cachedReads().forEach(r -> threads.add(r.threads()));
        Map<String, List<Double>> series = new LinkedHashMap<>();
        Map<String, List<String>> xs = new LinkedHashMap<>();
        double min = Double.MAX_VALUE;
        double max = 0;
        for (int t : threads) {
            for (CachedReadRow row : summary.cachedReads()) {
                if (row.threads() != t) {
                    continue;
                }
                min = Math.min(min, row.perSecond());
                max = Math.max(max, row.perSecond());
                xs.computeIfAbsent(row.label(), k -> new ArrayList<>()).add(Integer.toString(t));
                series.computeIfAbsent(row.label(), k -> new ArrayList<>()).add(row.perSecond());
            }
        }
        Color[] colors = {SDK, new Color(0x8E, 0x44, 0xAD), CLIENT_COLORS[1], RAW};
        int i = 0;
        for (String name : series.keySet()) {
            chart.addSeries(name, xs.get(name), series.get(name)).setFillColor(colors[i++ % colors.length]);
        }
        chart.getStyler().setYAxisMin(Math.pow(10, Math.floor(Math.log10(min / 2))));
        chart.getStyler().setYAxisMax(Math.pow(10, Math.ceil(Math.log10(max * 1.0001)) + 1));
        return Optional.of(chart);
    }

    private static CategoryChart base(String title, String xTitle, String yTitle) {
        CategoryChart chart = new CategoryChartBuilder()
                .width(WIDTH)
                .height(HEIGHT)
                .title(title)
                .xAxisTitle(xTitle)
                .yAxisTitle(yTitle)
                .build();
        chart.getStyler().setLegendPosition(LegendPosition.InsideNW);
        chart.getStyler().setChartBackgroundColor(Color.WHITE);
        chart.getStyler().setPlotGridVerticalLinesVisible(false);
        chart.getStyler().setChartTitleFont(new Font(Font.SANS_SERIF, Font.BOLD, 14));
        chart.getStyler().setLabelsVisible(false);
        return chart;
    }
}
