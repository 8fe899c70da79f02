package io.jdyn.examples.plot;

import java.awt.Color;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import javax.imageio.ImageIO;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * PNG figures of a 2-d density model, as FFJORD draws its toys: the density p(x) on a square grid as an
 * image (one pixel block per grid cell, dark to bright), and samples beside the data as scatter plots
 * (XChart, headless).
 */
public final class DensityPlots {
    private DensityPlots() {}

    static {
        System.setProperty("java.awt.headless", "true");
    }

    /**
     * Writes the density exp(logp) of a g x g grid (row-major, row 0 at the top: y descending) as a
     * square image of g * cell pixels, linearly scaled from 0 (black) to its maximum (bright yellow),
     * through a magma-like ramp.
     */
    public static Path density(Path out, double[] logp, int g, int cell) throws IOException {
        if (logp.length != g * g) throw new IllegalArgumentException("logp holds " + logp.length + " values, not " + g + "^2");
        double max = Double.NEGATIVE_INFINITY;
        for (double v : logp) max = Math.max(max, v);
        BufferedImage img = new BufferedImage(g * cell, g * cell, BufferedImage.TYPE_INT_RGB);
        for (int r = 0; r < g; r++) {
            for (int c = 0; c < g; c++) {
                double v = Math.exp(logp[r * g + c] - max);
                int rgb = ramp(Double.isFinite(v) ? v : 0).getRGB();
                for (int dy = 0; dy < cell; dy++) {
                    for (int dx = 0; dx < cell; dx++) img.setRGB(c * cell + dx, r * cell + dy, rgb);
                }
            }
        }
        Path abs = prepare(out);
        Path tmp = abs.resolveSibling(abs.getFileName() + ".tmp.png");
        ImageIO.write(img, "png", tmp.toFile());
        Files.move(tmp, abs, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        return abs;
    }

    /** Two scatter panels on the same square window [-lim, lim]^2: data (flat [n, 2]) and model samples. */
    public static Path samples(Path out, double[] data, double[] samples, double lim) throws IOException {
        List<XYChart> charts = new ArrayList<>();
        charts.add(scatter("Data (8 gaussians)", data, new Color(30, 90, 200, 90), lim));
        charts.add(scatter("CNF samples (z ~ N(0, I), t = 1 to 0)", samples, new Color(200, 60, 30, 90), lim));
        Path abs = prepare(out);
        Path tmp = abs.resolveSibling(abs.getFileName() + ".tmp.png");
        BitmapEncoder.saveBitmap(new ArrayList<>(charts), 1, charts.size(), tmp.toString(), BitmapEncoder.BitmapFormat.PNG);
        Files.move(tmp, abs, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        return abs;
    }

    private static XYChart scatter(String title, double[] xy, Color color, double lim) {
        int n = xy.length / 2;
        double[] x = new double[n], y = new double[n];
        for (int i = 0; i < n; i++) {
            x[i] = xy[2 * i];
            y[i] = xy[2 * i + 1];
        }
        XYChart c = new XYChartBuilder().width(520).height(520).title(title).xAxisTitle("x0").yAxisTitle("x1").build();
        c.getStyler().setLegendVisible(false);
        c.getStyler().setChartBackgroundColor(Color.WHITE);
        c.getStyler().setMarkerSize(3);
        c.getStyler().setXAxisMin(-lim).setXAxisMax(lim).setYAxisMin(-lim).setYAxisMax(lim);
        XYSeries s = c.addSeries("points", x, y);
        s.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Scatter);
        s.setMarker(SeriesMarkers.CIRCLE);
        s.setMarkerColor(color);
        return c;
    }

    /** Black, purple, orange, yellow as v goes from 0 to 1. */
    private static Color ramp(double v) {
        double[][] stops = {{0, 0, 4}, {80, 18, 123}, {183, 55, 121}, {251, 136, 97}, {252, 253, 191}};
        double p = Math.max(0, Math.min(1, v)) * (stops.length - 1);
        int i = Math.min((int) p, stops.length - 2);
        double f = p - i;
        int[] c = new int[3];
        for (int k = 0; k < 3; k++) c[k] = (int) Math.round(stops[i][k] + f * (stops[i + 1][k] - stops[i][k]));
        return new Color(c[0], c[1], c[2]);
    }

    private static Path prepare(Path out) throws IOException {
        Path abs = out.toAbsolutePath();
        if (!abs.toString().endsWith(".png")) throw new IllegalArgumentException("the plot path must end in .png: " + out);
        if (abs.getParent() != null) Files.createDirectories(abs.getParent());
        return abs;
    }
}
