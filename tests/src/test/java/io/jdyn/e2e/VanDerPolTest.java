package io.jdyn.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jdyn.e2e.Problems.Rhs;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Van der Pol with mu = 1 from (2, 0) on [0, 20] (DETEST E2): a limit cycle, so errors do not decay
 * away. The output times between steps come from each method's own dense output.
 */
class VanDerPolTest {
    private static final double MU = 1;
    private static final Rhs VDP = (t, y, dy) -> {
        dy[0] = y[1];
        dy[1] = MU * (1 - y[0] * y[0]) * y[1] - y[0];
    };
    private static final double[] Y0 = {2, 0};
    /** Interior times that are not step ends, plus t = 20. */
    private static final double[] TIMES = {0, 1.3, 4.7, 8.9, 13.1, 17.77, 20};

    @ParameterizedTest
    @ValueSource(strings = {"dopri5", "dopri8"})
    void matchesHipparchusDp853(String method) {
        double[][] ys = Problems.solve(VDP, Y0, TIMES, Problems.adaptive(method, 1e-8));
        assertEquals(TIMES.length, ys.length);
        assertEquals(Y0[0], ys[0][0], 0.0, "ys[0] is y0 exactly");
        assertEquals(Y0[1], ys[0][1], 0.0, "ys[0] is y0 exactly");
        for (int i = 1; i < TIMES.length; i++) {
            double[] ref = Problems.reference(VDP, Y0, 0, TIMES[i]);
            double err = Problems.maxAbsDiff(ys[i], ref);
            // At rtol = atol = 1e-8 the global error on the limit cycle (|y| <= 2.7) stays well within
            // 1e-6, the bar of the issue; the interpolants (4th order for dopri5, 7th for dopri8) add
            // errors of the size of a local step error, far below it.
            assertTrue(err <= 1e-6, method + " at t=" + TIMES[i] + ": error " + err + " against DP853 at 1e-13");
        }
    }
}
