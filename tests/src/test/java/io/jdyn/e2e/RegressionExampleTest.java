package io.jdyn.e2e;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jdyn.examples.Regression1D;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The 1-D regression of "Neural ODEs from scratch" through the example itself (examples' Regression1D):
 * x = linspace(-2, 2, 10), y = x^3 + 0.1 x, an ODE net dz/dt = Linear(20, 1)(tanh(Linear(2, 20)([z, t])))
 * over [0, 1] and the chapter's residual block x + Linear(20, 1)(tanh(Linear(1, 20)(x))), both from
 * N(0, 1) weights (seed 0: the ODE net's weights from Random(0), the ResNet's from Random(1)), gradient
 * descent with lr 0.01.
 *
 * <p>The full-size run (1000 steps, about 2 s) is held to the bar: MSE below 0.5, an RMS error of 0.71,
 * under 5% of the targets' span (-8.2 to 8.2). The chapter's plot of this fit is visually tight on
 * [-2, 2]: at its scale (16.4 units over the plot's height) a miss of 5% is a few pixels, about the size
 * of its markers. Both models start near MSE 10 (seed 0: 10.7 and 15.9) and end at 0.33 and 0.09 here;
 * over seeds 0 to 5 the ODE net ended between 0.025 and 0.33 and the ResNet between 0.08 and 0.20. Also
 * each MSE must fall at least tenfold.
 *
 * <p>A reduced run (a few steps) checks the fit figure: a PNG on the path asked for, and finite
 * predictions of both models on the fine grid.
 */
class RegressionExampleTest {
    private static final byte[] PNG_MAGIC = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    private static final int ITERS = 1000;
    private static final double LR = 0.01, BAR = 0.5;

    @Test
    void bothModelsFitTheCubic() {
        Regression1D.Result r = Regression1D.run(ITERS, LR, 0);
        assertEquals(ITERS, r.iterations());
        assertTrue(r.odeMse() < BAR, "ODE net MSE " + r.odeMse() + " (from " + r.odeInitialMse() + ") not below " + BAR);
        assertTrue(r.odeMse() < r.odeInitialMse() / 10,
                "ODE net MSE fell only from " + r.odeInitialMse() + " to " + r.odeMse());
        assertTrue(r.resnetMse() < BAR, "ResNet MSE " + r.resnetMse() + " (from " + r.resnetInitialMse() + ") not below " + BAR);
        assertTrue(r.resnetMse() < r.resnetInitialMse() / 10,
                "ResNet MSE fell only from " + r.resnetInitialMse() + " to " + r.resnetMse());
        assertEquals(null, r.png(), "run without a path draws nothing");
    }

    @Test
    void reducedRunWritesTheFitPng(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("plots").resolve("regression-fit.png");
        Regression1D.Result r = Regression1D.run(20, LR, 0, out);
        assertEquals(out.toAbsolutePath(), r.png());
        assertTrue(Files.isRegularFile(out), out + " missing");
        byte[] bytes = Files.readAllBytes(out);
        assertTrue(bytes.length > 1000, out + " has " + bytes.length + " bytes");
        assertArrayEquals(PNG_MAGIC, Arrays.copyOf(bytes, 8), out + " is not a PNG");
        assertTrue(!Files.exists(out.resolveSibling("regression-fit.png.tmp.png")), "temporary file left behind");

        double[] g = r.grid();
        assertTrue(g.length > 10, "grid of " + g.length + " points");
        assertEquals(-2.0, g[0], 1e-12);
        assertEquals(2.0, g[g.length - 1], 1e-12);
        assertEquals(g.length, r.odeFit().length);
        assertEquals(g.length, r.resnetFit().length);
        for (int i = 0; i < g.length; i++) {
            assertTrue(Double.isFinite(r.odeFit()[i]), "ODE net prediction at " + g[i] + " is " + r.odeFit()[i]);
            assertTrue(Double.isFinite(r.resnetFit()[i]), "ResNet prediction at " + g[i] + " is " + r.resnetFit()[i]);
        }
    }
}
