package dev.zksdk.samples;

import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler.LegendPosition;
import org.knowm.xchart.style.lines.SeriesLines;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * Draws a soak run as one PNG of three charts over time (XChart): operations per second between audits; the faults,
 * one line per fault from its start to its end at the height of its kind; and how long everything took to converge
 * after each burst of faults, with the violations counted so far.
 */
final class SoakChart {

    static final int WIDTH = 1000;
    static final int HEIGHT = 300;

    private static final Color[] PALETTE = {
        new Color(0xC0, 0x39, 0x2B),
        new Color(0xE6, 0x7E, 0x22),
        new Color(0xF1, 0xC4, 0x0F),
        new Color(0x27, 0xAE, 0x60),
        new Color(0x16, 0xA0, 0x85),
        new Color(0x29, 0x80, 0xB9),
        new Color(0x6C, 0x34, 0x83),
        new Color(0x7F, 0x8C, 0x8D),
        new Color(0x2C, 0x3E, 0x50),
        new Color(0xD3, 0x54, 0x00)
    };

    private SoakChart() {}

    /** Renders the run into {@code png}; false when the run had no audit, so nothing to draw (nothing written). */
    static boolean render(SoakRecorder recorder, String title, Path png) throws IOException {
        List<SoakRecorder.Audit> audits = recorder.audits();
        if (audits.isEmpty()) {
            return false;
        }
        List<XYChart> charts = List.of(throughput(audits, title), faults(recorder.faults()), convergence(audits));
        BufferedImage image = new BufferedImage(WIDTH, HEIGHT * charts.size(), BufferedImage.TYPE_INT_RGB);
        Graphics2D g = image.createGraphics();
        try {
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, image.getWidth(), image.getHeight());
            for (int i = 0; i < charts.size(); i++) {
                g.drawImage(BitmapEncoder.getBufferedImage(charts.get(i)), 0, i * HEIGHT, null);
            }
        } finally {
            g.dispose();
        }
        Files.createDirectories(png.toAbsolutePath().getParent());
        if (!ImageIO.write(image, "png", png.toFile())) {
            throw new IOException("no PNG writer for " + png);
        }
        return true;
    }

    private static XYChart chart(String title, String yTitle) {
        XYChart chart = new XYChartBuilder()
                .width(WIDTH)
                .height(HEIGHT)
                .title(title)
                .xAxisTitle("seconds since the start")
                .yAxisTitle(yTitle)
                .build();
        chart.getStyler().setChartBackgroundColor(Color.WHITE);
        // Beside the plot: below it, a long legend squeezes the plot away.
        chart.getStyler().setLegendPosition(LegendPosition.OutsideE);
        return chart;
    }

    private static XYChart throughput(List<SoakRecorder.Audit> audits, String title) {
        List<Double> x = new ArrayList<>();
        List<Double> y = new ArrayList<>();
        double lastAt = 0;
        long lastOps = 0;
        for (SoakRecorder.Audit a : audits) {
            if (a.at() > lastAt) {
                x.add(a.at());
                y.add((a.operations() - lastOps) / (a.at() - lastAt));
            }
            lastAt = a.at();
            lastOps = a.operations();
        }
        XYChart chart = chart(title, "operations/s");
        chart.addSeries("operations/s since the audit before", x, y).setMarker(SeriesMarkers.NONE);
        return chart;
    }

    private static XYChart faults(List<SoakRecorder.FaultRecord> faults) {
        XYChart chart = chart("faults (one line from start to end, by kind)", "kind");
        Map<String, Integer> kinds = new LinkedHashMap<>();
        faults.forEach(f -> kinds.putIfAbsent(f.kind, kinds.size() + 1));
        for (SoakRecorder.FaultRecord f : faults) {
            // A fault without length (a cut, an expiry) is drawn half a second long, so that it shows.
            double end = Double.isNaN(f.end) ? f.start : Math.max(f.end, f.start + 0.5);
            int level = kinds.get(f.kind);
            boolean first = faults.stream()
                            .filter(o -> o.kind.equals(f.kind))
                            .findFirst()
                            .orElseThrow()
                    == f;
            XYSeries series = chart.addSeries(
                    first ? f.kind : f.kind + " #" + f.id, new double[] {f.start, end}, new double[] {level, level});
            series.setMarker(SeriesMarkers.NONE);
            series.setLineWidth(6);
            series.setLineStyle(SeriesLines.SOLID);
            series.setLineColor(PALETTE[(level - 1) % PALETTE.length]);
            series.setShowInLegend(first);
        }
        if (faults.isEmpty()) {
            chart.addSeries("no fault", new double[] {0}, new double[] {0});
        }
        return chart;
    }

    private static XYChart convergence(List<SoakRecorder.Audit> audits) {
        XYChart chart = chart("after each burst of faults", "seconds to converge");
        List<Double> x = new ArrayList<>();
        List<Double> convergedAt = new ArrayList<>();
        List<Double> converged = new ArrayList<>();
        List<Double> violations = new ArrayList<>();
        for (SoakRecorder.Audit a : audits) {
            x.add(a.at());
            violations.add((double) a.violations());
            if (!Double.isNaN(a.convergedAfter())) {
                convergedAt.add(a.at());
                converged.add(a.convergedAfter());
            }
        }
        if (converged.isEmpty()) {
            convergedAt.add(0.0);
            converged.add(0.0);
        }
        XYSeries c = chart.addSeries(
                "seconds until every check held (missing: not within the bound)", convergedAt, converged);
        c.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Scatter);
        XYSeries v = chart.addSeries("violations so far (right axis)", x, violations);
        v.setYAxisGroup(1);
        v.setMarker(SeriesMarkers.NONE);
        v.setLineColor(Color.RED);
        chart.setYAxisGroupTitle(1, "violations");
        return chart;
    }
}
