package io.jdyn.examples.plot;

import java.awt.BasicStroke;
import java.awt.Color;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.XYStyler;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * The figure of the 1-D regression (seed 001, "Neural ODEs from scratch"): the training points, the
 * target curve on a fine grid, and the Neural ODE's and the ResNet's predictions on the same grid, as a
 * PNG written with XChart (headless).
 */
public final class RegressionPlots {
    private RegressionPlots() {}

    static {
        System.setProperty("java.awt.headless", "true");
    }

    /**
     * Writes the fit to out (PNG, replaced atomically). x, y are the training points; grid the fine grid
     * and target, ode, resnet the values on it.
     */
    public static Path fit(Path out, double[] x, double[] y, double[] grid, double[] target, double[] ode,
            double[] resnet) throws IOException {
        XYChart c = new XYChartBuilder().width(720).height(540).title("1-D regression: y = x^3 + 0.1 x")
                .xAxisTitle("x").yAxisTitle("y").build();
        XYStyler st = c.getStyler();
        st.setChartBackgroundColor(Color.WHITE);
        st.setPlotGridLinesVisible(true);
        st.setAntiAlias(true);
        st.setLegendVisible(true);
        st.setLegendPosition(Styler.LegendPosition.InsideNW);
        st.setMarkerSize(9);
        st.setXAxisDecimalPattern("0.0");
        line(c, "target x^3 + 0.1 x", grid, target, Color.GRAY, new BasicStroke(2.0f, BasicStroke.CAP_BUTT,
                BasicStroke.JOIN_ROUND, 10f, new float[] {6f, 5f}, 0f));
        line(c, "Neural ODE", grid, ode, new Color(30, 90, 200), new BasicStroke(2.2f));
        line(c, "ResNet", grid, resnet, new Color(255, 140, 0), new BasicStroke(2.2f));
        XYSeries pts = c.addSeries("training points", x, y);
        pts.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Scatter);
        pts.setMarker(SeriesMarkers.CIRCLE);
        pts.setMarkerColor(Color.BLACK);

        Path abs = out.toAbsolutePath();
        if (!abs.toString().endsWith(".png")) throw new IllegalArgumentException("the plot path must end in .png: " + out);
        if (abs.getParent() != null) Files.createDirectories(abs.getParent());
        // BitmapEncoder appends ".png" to a name without it; write to a temp name, then move atomically.
        Path tmp = abs.resolveSibling(abs.getFileName() + ".tmp.png");
        BitmapEncoder.saveBitmap(c, tmp.toString(), BitmapEncoder.BitmapFormat.PNG);
        Files.move(tmp, abs, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        return abs;
    }

    private static void line(XYChart c, String name, double[] x, double[] y, Color color, BasicStroke stroke) {
        XYSeries s = c.addSeries(name, x, y);
        s.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Line);
        s.setMarker(SeriesMarkers.NONE);
        s.setLineColor(color);
        s.setLineStyle(stroke);
    }
}
