package io.jdyn.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jdyn.DType;
import io.jdyn.Tensor;
import io.jdyn.ode.Event;
import io.jdyn.ode.NonFiniteValueException;
import io.jdyn.ode.Odeint;
import io.jdyn.ode.SampleStats;
import io.jdyn.ode.SampleVectorField;
import io.jdyn.ode.Solution;
import io.jdyn.ode.SolveOptions;
import io.jdyn.ode.VectorField;
import org.hipparchus.ode.ODEState;
import org.hipparchus.ode.ODEStateAndDerivative;
import org.hipparchus.ode.OrdinaryDifferentialEquation;
import org.hipparchus.ode.nonstiff.DormandPrince54Integrator;
import org.junit.jupiter.api.Test;

/**
 * Per-sample adaptive stepping through Odeint (torchode's feature): every batch row steps as if it were
 * solved alone. The definition is checked against the rows solved one at a time, the accuracy against
 * the closed form of the damped oscillator and against Hipparchus, which also controls each oscillator's
 * error alone.
 */
class PerSampleSolveTest {
    private static final int N = 60;
    private static final double T_END = 10;
    private final double[] omega = new double[N];
    private final double[] zeta = new double[N];

    PerSampleSolveTest() {
        // omega over 0.5..20: the fastest rows need about forty times the steps of the slowest
        for (int b = 0; b < N; b++) {
            omega[b] = 0.5 * Math.pow(40, (b * 7 % N) / (N - 1.0));
            zeta[b] = 0.05 + 0.25 * b / (N - 1.0);
        }
    }

    /** x'' + 2 zeta w x' + w^2 x = 0, rows indexed by their position (so a sub-batch would break it). */
    private final SampleVectorField rowField = (t, z, dz) -> {
        assertEquals(N, z.batch());
        assertEquals(1, t.dim());
        for (int b = 0; b < N; b++) {
            double x = z.get(b, 0);
            double v = z.get(b, 1);
            dz.set(b, 0, v);
            dz.set(b, 1, -2 * zeta[b] * omega[b] * v - omega[b] * omega[b] * x);
        }
    };

    /** The same oscillators with (w, zeta) carried in the state, so that any sub-batch evaluates alone. */
    private static final VectorField STATE_FIELD = (t, z, dz) -> {
        for (int b = 0; b < z.batch(); b++) {
            double x = z.get(b, 0);
            double v = z.get(b, 1);
            double w = z.get(b, 2);
            double c = z.get(b, 3);
            dz.set(b, 0, v);
            dz.set(b, 1, -2 * c * w * v - w * w * x);
            dz.set(b, 2, 0);
            dz.set(b, 3, 0);
        }
    };

    private double[] exact(int b, double t) {
        double w = omega[b];
        double a = zeta[b] * w;
        double beta = w * Math.sqrt(1 - zeta[b] * zeta[b]);
        double decay = Math.exp(-a * t);
        return new double[] {decay * (Math.cos(beta * t) + a / beta * Math.sin(beta * t)),
            -decay * (w * w / beta) * Math.sin(beta * t)};
    }

    private static SolveOptions options(double tol, boolean perSample) {
        return SolveOptions.builder().method("dopri5").rtol(tol).atol(tol).maxSteps(0).perSample(perSample).build();
    }

    private double[] stateY0() {
        double[] y0 = new double[4 * N];
        for (int b = 0; b < N; b++) {
            y0[4 * b] = 1;
            y0[4 * b + 2] = omega[b];
            y0[4 * b + 3] = zeta[b];
        }
        return y0;
    }

    @Test
    void everyRowEqualsItsSolveAloneWithBothKindsOfField() {
        double[] times = {0, 0.8, 3.3, T_END};
        double[] y0 = stateY0();
        SampleVectorField rows = (t, z, dz) -> {
            // the row-time field of the state-carried oscillators: each row at its own t
            for (int b = 0; b < z.batch(); b++) {
                assertTrue(t.get(b, 0) >= 0 && t.get(b, 0) <= T_END);
            }
            STATE_FIELD.evaluate(Double.NaN, z, dz); // autonomous: the time is not read
        };
        try (Tensor y = Tensor.of(y0, N, 4);
                Solution fast = Odeint.odeintPerSample(rows, y, times, options(1e-7, true));
                Solution slow = Odeint.odeint(STATE_FIELD, y, times, options(1e-7, true))) {
            double[] a = fast.ys().toDoubleArray();
            double[] s = slow.ys().toDoubleArray();
            SampleStats ps = fast.stats().perSample();
            assertNotNull(ps);
            assertEquals(ps, slow.stats().perSample(), "the slow path takes the same steps");
            long minSteps = Long.MAX_VALUE;
            long maxSteps = 0;
            for (int b = 0; b < N; b++) {
                try (Tensor yb = Tensor.of(java.util.Arrays.copyOfRange(y0, 4 * b, 4 * b + 4), 1, 4);
                        Solution alone = Odeint.odeint(STATE_FIELD, yb, times, options(1e-7, false))) {
                    double[] e = alone.ys().toDoubleArray();
                    for (int j = 0; j < times.length; j++) {
                        for (int d = 0; d < 4; d++) {
                            double want = e[4 * j + d];
                            // The same steps; products fused differently by the two loops differ by an
                            // ulp, which the error estimate amplifies into the step sizes (see
                            // native-core/tests/test_per_sample.cpp), and a fast row's hundreds of steps
                            // carry that along: 1e-3 of the requested tolerance bounds it (seen: 2e-5).
                            double bound = 1e-3 * 1e-7 * (1 + Math.abs(want));
                            assertEquals(want, a[(j * N + b) * 4 + d], bound, "row " + b + " time " + times[j]);
                            assertEquals(want, s[(j * N + b) * 4 + d], bound);
                        }
                    }
                    assertEquals(alone.stats().nfe(), ps.nfe()[b], "row " + b + " nfe");
                    assertEquals(alone.stats().accepted(), ps.accepted()[b], "row " + b + " accepted");
                    assertEquals(alone.stats().rejected(), ps.rejected()[b], "row " + b + " rejected");
                }
                minSteps = Math.min(minSteps, ps.steps(b));
                maxSteps = Math.max(maxSteps, ps.steps(b));
            }
            assertTrue(maxSteps > 5 * minSteps, "steps per row " + minSteps + ".." + maxSteps);
            // the batch's accepted + rejected are the lockstep iterations: the busiest row's
            assertEquals(maxSteps, fast.stats().accepted() + fast.stats().rejected());
            assertTrue(slow.stats().nfe() > 10 * fast.stats().nfe(), "the plain field is called per run of rows");
        }
    }

    /** Hipparchus, one oscillator at a time: the worst error over rows at t = T_END. */
    private double hipparchusMaxError(double tol) {
        DormandPrince54Integrator integrator = new DormandPrince54Integrator(0, T_END, tol, tol);
        double worst = 0;
        for (int b = 0; b < N; b++) {
            final double w = omega[b];
            final double c = zeta[b];
            OrdinaryDifferentialEquation ode = new OrdinaryDifferentialEquation() {
                @Override
                public int getDimension() {
                    return 2;
                }

                @Override
                public double[] computeDerivatives(double t, double[] y) {
                    return new double[] {y[1], -2 * c * w * y[1] - w * w * y[0]};
                }
            };
            ODEStateAndDerivative s = integrator.integrate(ode, new ODEState(0, new double[] {1, 0}), T_END);
            double[] ex = exact(b, T_END);
            worst = Math.max(worst, Math.max(Math.abs(s.getPrimaryState()[0] - ex[0]),
                    Math.abs(s.getPrimaryState()[1] - ex[1])));
        }
        return worst;
    }

    private double maxError(double[] ys) {
        double worst = 0;
        for (int b = 0; b < N; b++) {
            double[] ex = exact(b, T_END);
            worst = Math.max(worst, Math.max(Math.abs(ys[(N + b) * 2] - ex[0]), Math.abs(ys[(N + b) * 2 + 1] - ex[1])));
        }
        return worst;
    }

    @Test
    void accuracyPerRowIsComparableToHipparchusOneByOne() {
        double[] y0 = new double[2 * N];
        for (int b = 0; b < N; b++) y0[2 * b] = 1;
        double tol = 1e-6;
        try (Tensor y = Tensor.of(y0, N, 2);
                Solution ps = Odeint.odeintPerSample(rowField, y, new double[] {0, T_END}, options(tol, true))) {
            double mine = maxError(ps.ys().toDoubleArray());
            double theirs = hipparchusMaxError(tol);
            // Both control each oscillator's own error with the same pair and tolerances; the controllers
            // differ in detail (Hipparchus's initial step, safety 0.9 and growth limits), so the worst
            // errors agree in magnitude rather than in digits: within a factor 4 either way.
            assertTrue(mine < 4 * theirs && theirs < 4 * mine, "per-sample " + mine + " vs Hipparchus " + theirs);
            assertTrue(mine < 1e-4, "per-sample max error " + mine);
        }
    }

    @Test
    void float32RowsAndFixedStepsAndRefusals() {
        double[] y0 = new double[2 * N];
        for (int b = 0; b < N; b++) y0[2 * b] = 1;
        // float32: each row meets a float32-sized tolerance against the closed form at t = 10
        try (Tensor y = Tensor.of(DType.FLOAT32, y0, N, 2);
                Solution s = Odeint.odeintPerSample(rowField, y, new double[] {0, T_END}, options(1e-5, true))) {
            assertTrue(maxError(s.ys().toDoubleArray()) < 2e-3);
            assertEquals(N, s.stats().perSample().batch());
        }
        // fixed steps: the rows share the grid; perSample only adds the per-row figures
        SolveOptions fixed = SolveOptions.builder().method("rk4").dt(0.01).perSample(true).build();
        try (Tensor y = Tensor.of(y0, N, 2);
                Solution s = Odeint.odeintPerSample(rowField, y, new double[] {0, 1}, fixed);
                Solution shared = Odeint.odeintPerSample(rowField, y, new double[] {0, 1},
                        fixed.toBuilder().perSample(false).build())) {
            assertEquals(java.util.Arrays.toString(shared.ys().toDoubleArray()),
                    java.util.Arrays.toString(s.ys().toDoubleArray()));
            assertEquals(s.stats().nfe(), s.stats().perSample().nfe()[N - 1]);
            assertNull(shared.stats().perSample());
        }
        try (Tensor y = Tensor.of(y0, N, 2)) {
            SolveOptions withEvent = options(1e-6, true).toBuilder()
                    .event(Event.terminal((t, z) -> z.get(0, 0))).build();
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> Odeint.odeintPerSample(rowField, y, new double[] {0, 1}, withEvent));
            assertTrue(e.getMessage().contains("terminal event"), e.getMessage());
        }
    }

    @Test
    void aFailureNamesTheRow() {
        double[] y0 = new double[2 * N];
        for (int b = 0; b < N; b++) y0[2 * b] = 1;
        SampleVectorField breaks = (t, z, dz) -> {
            rowField.evaluate(t, z, dz);
            if (t.get(17, 0) > 2) dz.set(17, 1, Double.NaN);
        };
        try (Tensor y = Tensor.of(y0, N, 2)) {
            NonFiniteValueException e = assertThrows(NonFiniteValueException.class,
                    () -> Odeint.odeintPerSample(breaks, y, new double[] {0, T_END}, options(1e-6, true)));
            assertTrue(e.getMessage().contains("batch row 17"), e.getMessage());
        }
    }
}
