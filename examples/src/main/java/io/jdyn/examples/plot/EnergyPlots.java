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

/** The energy-drift example's plot: relative error of the true energy over time, one line per model. */
public final class EnergyPlots {
    private EnergyPlots() {}

    static {
        System.setProperty("java.awt.headless", "true");
    }

    /** Writes |E(t) - E0| / E0 (mean over the test states, log scale) to out (PNG, replaced atomically). */
    public static Path drift(Path out, double[] t, double[] plain, double[] hnn, double[] lnn) throws IOException {
        XYChart c = new XYChartBuilder().width(720).height(540).title("Mass-spring: drift of the true energy")
                .xAxisTitle("t").yAxisTitle("|E(t) - E(0)| / E(0)").build();
        XYStyler st = c.getStyler();
        st.setChartBackgroundColor(Color.WHITE);
        st.setPlotGridLinesVisible(true);
        st.setAntiAlias(true);
        st.setLegendVisible(true);
        st.setLegendPosition(Styler.LegendPosition.InsideSE);
        st.setYAxisLogarithmic(true);
        st.setXAxisDecimalPattern("0");
        // The first point is exactly 0 (log scale): plot from the second.
        line(c, "Neural ODE", t, plain, new Color(255, 140, 0));
        line(c, "HNN", t, hnn, new Color(30, 90, 200));
        line(c, "LNN", t, lnn, new Color(40, 160, 60));
        Path abs = out.toAbsolutePath();
        if (!abs.toString().endsWith(".png")) throw new IllegalArgumentException("the plot path must end in .png: " + out);
        if (abs.getParent() != null) Files.createDirectories(abs.getParent());
        Path tmp = abs.resolveSibling(abs.getFileName() + ".tmp.png");
        BitmapEncoder.saveBitmap(c, tmp.toString(), BitmapEncoder.BitmapFormat.PNG);
        Files.move(tmp, abs, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        return abs;
    }

    private static void line(XYChart c, String name, double[] t, double[] y, Color color) {
        double[] x = new double[t.length - 1], v = new double[t.length - 1];
        for (int i = 1; i < t.length; i++) {
            x[i - 1] = t[i];
            v[i - 1] = Math.max(y[i], 1e-16);
        }
        XYSeries s = c.addSeries(name, x, v);
        s.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Line);
        s.setMarker(SeriesMarkers.NONE);
        s.setLineColor(color);
        s.setLineStyle(new BasicStroke(2.0f));
    }
}
