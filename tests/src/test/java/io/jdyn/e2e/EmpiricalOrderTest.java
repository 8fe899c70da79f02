package io.jdyn.e2e;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jdyn.e2e.Problems.Rhs;
import io.jdyn.ode.Method;
import io.jdyn.ode.SolveOptions;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The order of every method, measured through the Java API with fixed steps: self-convergence on
 * the forced pendulum y1' = y2, y2' = -sin(y1) + 0.3 cos(t), y(0) = (1, 0.5), T = 2.
 */
class EmpiricalOrderTest {
    private static final Rhs PENDULUM = (t, y, dy) -> {
        dy[0] = y[1];
        dy[1] = -Math.sin(y[0]) + 0.3 * Math.cos(t);
    };
    private static final double T = 2;

    /** Coarsest step count per order: fine enough for the asymptotic regime, coarse enough to stay above round-off. */
    private static int coarseSteps(int order) {
        return switch (order) {
            case 1 -> 200;
            case 2 -> 100;
            case 3 -> 50;
            case 4 -> 25;
            case 5 -> 64;
            case 8 -> 6;
            default -> throw new IllegalArgumentException("no step count for order " + order);
        };
    }

    private static double[] endState(Method m, int steps) {
        SolveOptions o = SolveOptions.builder().method(m).dt(T / steps).build();
        return Problems.solveFinal(PENDULUM, new double[] {1, 0.5}, new double[] {0, T}, o);
    }

    @ParameterizedTest
    @EnumSource(Method.class)
    void selfConvergenceSlopeIsTheNominalOrder(Method m) {
        int n = coarseSteps(m.order());
        double[] yN = endState(m, n), y2N = endState(m, 2 * n), y4N = endState(m, 4 * n);
        double d1 = Math.hypot(yN[0] - y2N[0], yN[1] - y2N[1]);
        double d2 = Math.hypot(y2N[0] - y4N[0], y2N[1] - y4N[1]);
        double slope = Math.log(d1 / d2) / Math.log(2);
        // Halving the step divides the error by 2^p; 0.2 absorbs the higher-order terms at these
        // step counts (measured slopes deviate by less than 0.1) and a wrong coefficient, which drops
        // the order by at least one, is still caught.
        assertTrue(Math.abs(slope - m.order()) <= 0.2,
                m + ": slope " + slope + " (|y_N - y_2N| = " + d1 + ", |y_2N - y_4N| = " + d2 + "), nominal order "
                        + m.order());
    }
}
