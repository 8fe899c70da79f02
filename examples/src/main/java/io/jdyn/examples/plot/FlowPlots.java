package io.jdyn.examples.plot;

import java.awt.BasicStroke;
import java.awt.Color;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.internal.chartpart.Chart;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * PNG figures with XChart (headless): the flows of a 2-d Neural ODE classifier as torchdyn's tutorial
 * draws them (each point's state through depth s, coloured by class), and a loss / accuracy curve.
 */
public final class FlowPlots {
    private static final Color[] CLASS = {new Color(255, 140, 0, 70), new Color(30, 90, 200, 70)};
    private static final Color[] CLASS_SOLID = {new Color(255, 140, 0), new Color(30, 90, 200)};

    private FlowPlots() {}

    static {
        System.setProperty("java.awt.headless", "true");
    }

    /**
     * Writes three panels side by side to out (PNG): x0(s) and x1(s) against depth s, and the flows in the
     * state space (start points small, end points large). traj is [T][N][2], labels the class of each point.
     */
    public static Path flows(Path out, double[] s, double[][][] traj, int[] labels) throws IOException {
        int t = traj.length, n = traj[0].length;
        List<Chart<?, ?>> charts = new ArrayList<>();
        for (int d = 0; d < 2; d++) {
            XYChart c = chart("Dimension " + d, "depth s", "x" + d);
            c.getStyler().setXAxisDecimalPattern("0.0");
            c.getStyler().setXAxisTickMarkSpacingHint(90);
            for (int i = 0; i < n; i++) {
                double[] y = new double[t];
                for (int k = 0; k < t; k++) y[k] = traj[k][i][d];
                line(c, "p" + i, s, y, CLASS[labels[i]]);
            }
            charts.add(c);
        }
        XYChart ss = chart("Flows in the state space", "x0", "x1");
        for (int i = 0; i < n; i++) {
            double[] x = new double[t], y = new double[t];
            for (int k = 0; k < t; k++) {
                x[k] = traj[k][i][0];
                y[k] = traj[k][i][1];
            }
            line(ss, "f" + i, x, y, CLASS[labels[i]]);
        }
        for (int cls = 0; cls < 2; cls++) {
            List<Double> x0 = new ArrayList<>(), y0 = new ArrayList<>(), x1 = new ArrayList<>(), y1 = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                if (labels[i] != cls) continue;
                x0.add(traj[0][i][0]);
                y0.add(traj[0][i][1]);
                x1.add(traj[t - 1][i][0]);
                y1.add(traj[t - 1][i][1]);
            }
            if (x0.isEmpty()) continue;
            XYSeries a = ss.addSeries("class " + cls + " at s = 0", x0, y0);
            a.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Scatter);
            a.setMarker(SeriesMarkers.CIRCLE);
            a.setMarkerColor(CLASS_SOLID[cls]);
            XYSeries b = ss.addSeries("class " + cls + " at s = 1", x1, y1);
            b.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Scatter);
            b.setMarker(SeriesMarkers.DIAMOND);
            b.setMarkerColor(CLASS_SOLID[cls].darker());
        }
        ss.getStyler().setLegendVisible(true);
        ss.getStyler().setMarkerSize(5);
        return save(out, charts, ss);
    }

    /**
     * {@link #flows(Path, double[], double[][][], int[])} from a trajectory as a tensor's values: flat is
     * [T * N * dim] row-major (dim >= 2); the first two coordinates are drawn.
     */
    public static Path flows(Path out, double[] s, double[] flat, int n, int dim, int[] labels) throws IOException {
        double[][][] traj = new double[s.length][n][2];
        for (int k = 0; k < s.length; k++) {
            for (int i = 0; i < n; i++) {
                traj[k][i][0] = flat[(k * n + i) * dim];
                traj[k][i][1] = flat[(k * n + i) * dim + 1];
            }
        }
        return flows(out, s, traj, labels);
    }

    /** The curves of a Trainer's history (one map per epoch, with train_loss and train_acc). */
    public static Path curves(Path out, List<Map<String, Double>> history) throws IOException {
        double[] ep = new double[history.size()], loss = new double[history.size()], acc = new double[history.size()];
        for (int i = 0; i < history.size(); i++) {
            ep[i] = i + 1;
            loss[i] = history.get(i).get("train_loss");
            acc[i] = history.get(i).get("train_acc");
        }
        return curves(out, ep, loss, acc);
    }

    /** The loss (and, when given, accuracy) per epoch, as a two-panel PNG. */
    public static Path curves(Path out, double[] epochs, double[] loss, double[] accuracy) throws IOException {
        List<Chart<?, ?>> charts = new ArrayList<>();
        XYChart l = chart("Training loss (cross-entropy)", "epoch", "loss");
        l.getStyler().setXAxisDecimalPattern("0");
        l.getStyler().setXAxisTickMarkSpacingHint(80);
        XYSeries sl = l.addSeries("loss", epochs, loss);
        sl.setMarker(SeriesMarkers.NONE);
        sl.setLineColor(CLASS_SOLID[1]);
        charts.add(l);
        if (accuracy != null) {
            XYChart a = chart("Training accuracy", "epoch", "accuracy");
            a.getStyler().setXAxisDecimalPattern("0");
            a.getStyler().setXAxisTickMarkSpacingHint(80);
            XYSeries sa = a.addSeries("accuracy", epochs, accuracy);
            sa.setMarker(SeriesMarkers.NONE);
            sa.setLineColor(CLASS_SOLID[0]);
            charts.add(a);
        }
        return save(out, charts, null);
    }

    private static XYChart chart(String title, String x, String y) {
        XYChart c = new XYChartBuilder().width(560).height(460).title(title).xAxisTitle(x).yAxisTitle(y).build();
        c.getStyler().setLegendVisible(false);
        c.getStyler().setChartBackgroundColor(Color.WHITE);
        c.getStyler().setPlotGridLinesVisible(true);
        c.getStyler().setAntiAlias(true);
        return c;
    }

    private static void line(XYChart c, String name, double[] x, double[] y, Color color) {
        XYSeries s = c.addSeries(name, x, y);
        s.setMarker(SeriesMarkers.NONE);
        s.setLineColor(color);
        s.setLineStyle(new BasicStroke(1.0f));
        s.setShowInLegend(false);
    }

    private static Path save(Path out, List<Chart<?, ?>> charts, XYChart extra) throws IOException {
        List<Chart<?, ?>> all = new ArrayList<>(charts);
        if (extra != null) all.add(extra);
        Path abs = out.toAbsolutePath();
        if (abs.getParent() != null) Files.createDirectories(abs.getParent());
        String name = abs.toString();
        if (!name.endsWith(".png")) throw new IllegalArgumentException("the plot path must end in .png: " + out);
        // BitmapEncoder appends ".png" to a name without it; write to a temp name, then move atomically.
        Path tmp = abs.resolveSibling(abs.getFileName() + ".tmp.png");
        BitmapEncoder.saveBitmap(all, 1, all.size(), tmp.toString(), BitmapEncoder.BitmapFormat.PNG);
        Files.move(tmp, abs, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        return abs;
    }
}
