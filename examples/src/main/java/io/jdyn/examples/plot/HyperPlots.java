package io.jdyn.examples.plot;

import java.awt.BasicStroke;
import java.awt.Color;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.internal.chartpart.Chart;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * Flows of one model under several solvers, side by side (the hypersolver demo's figure): one
 * state-space panel per solver, each point's path coloured by class, the end points marked.
 */
public final class HyperPlots {
    private static final Color[] CLASS = {new Color(255, 140, 0, 70), new Color(30, 90, 200, 70)};
    private static final Color[] CLASS_SOLID = {new Color(255, 140, 0), new Color(30, 90, 200)};

    static {
        System.setProperty("java.awt.headless", "true");
    }

    private HyperPlots() {}

    /** One solver's flows: flat is [T * N * dim] row-major (the first two coordinates are drawn). */
    public record Panel(String title, double[] flat, int steps) {}

    /** Writes the panels side by side to out (PNG); n points of width dim, labels their classes. */
    public static Path flows(Path out, List<Panel> panels, int n, int dim, int[] labels) throws IOException {
        List<Chart<?, ?>> charts = new ArrayList<>();
        for (Panel p : panels) {
            int t = p.steps() + 1;
            XYChart c = new XYChartBuilder().width(560).height(480).title(p.title()).xAxisTitle("x0").yAxisTitle("x1").build();
            c.getStyler().setLegendVisible(false);
            c.getStyler().setChartBackgroundColor(Color.WHITE);
            c.getStyler().setAntiAlias(true);
            c.getStyler().setMarkerSize(5);
            for (int i = 0; i < n; i++) {
                double[] x = new double[t], y = new double[t];
                for (int k = 0; k < t; k++) {
                    x[k] = p.flat()[(k * n + i) * dim];
                    y[k] = p.flat()[(k * n + i) * dim + 1];
                }
                XYSeries s = c.addSeries("p" + i, x, y);
                s.setMarker(SeriesMarkers.NONE);
                s.setLineColor(CLASS[labels[i]]);
                s.setLineStyle(new BasicStroke(1.0f));
            }
            for (int cls = 0; cls < 2; cls++) {
                List<Double> x1 = new ArrayList<>(), y1 = new ArrayList<>();
                for (int i = 0; i < n; i++) {
                    if (labels[i] != cls) continue;
                    x1.add(p.flat()[((t - 1) * n + i) * dim]);
                    y1.add(p.flat()[((t - 1) * n + i) * dim + 1]);
                }
                if (x1.isEmpty()) continue;
                XYSeries e = c.addSeries("class " + cls + " at s = 1", x1, y1);
                e.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Scatter);
                e.setMarker(SeriesMarkers.DIAMOND);
                e.setMarkerColor(CLASS_SOLID[cls].darker());
            }
            charts.add(c);
        }
        Path abs = out.toAbsolutePath();
        if (!abs.toString().endsWith(".png")) throw new IllegalArgumentException("the plot path must end in .png: " + out);
        if (abs.getParent() != null) Files.createDirectories(abs.getParent());
        // BitmapEncoder appends ".png" to a name without it; write to a temp name, then move atomically.
        Path tmp = abs.resolveSibling(abs.getFileName() + ".tmp.png");
        BitmapEncoder.saveBitmap(charts, 1, charts.size(), tmp.toString(), BitmapEncoder.BitmapFormat.PNG);
        Files.move(tmp, abs, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        return abs;
    }
}
