package io.jdyn.e2e;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jdyn.Tensor;
import io.jdyn.TensorClosedException;
import io.jdyn.ode.DenseInterpolant;
import io.jdyn.ode.Odeint;
import io.jdyn.ode.Solution;
import io.jdyn.ode.SolveOptions;
import io.jdyn.ode.VectorField;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** {@code dense(true)}: the interpolant of a whole solve, on the harmonic oscillator (cos t, -sin t). */
class DenseOutputTest {
    private static final VectorField HARMONIC = Problems.field(Problems.harmonic(1));
    private static final double[] OUTPUTS = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10};

    private static SolveOptions dense(String method, double tol) {
        return SolveOptions.builder().method(method).rtol(tol).atol(tol).dense(true).build();
    }

    private static double[] interiorTimes(double t0, double t1, int n) {
        double[] ts = new double[n];
        // Irrational spacing: the times fall everywhere inside steps, not on their ends.
        for (int i = 0; i < n; i++) ts[i] = t0 + (t1 - t0) * (i + 0.5 + 0.4 * Math.sin(i * Math.sqrt(2))) / n;
        return ts;
    }

    private static double maxErrorVsExact(double[] flat, double[] ts) {
        double err = 0;
        for (int i = 0; i < ts.length; i++) {
            err = Math.max(err, Math.abs(flat[2 * i] - Math.cos(ts[i])));
            err = Math.max(err, Math.abs(flat[2 * i + 1] + Math.sin(ts[i])));
        }
        return err;
    }

    @ParameterizedTest
    @ValueSource(strings = {"dopri5", "tsit5", "dopri8"})
    void interpolantIsAsAccurateAsTheSteps(String method) {
        try (Tensor y0 = Tensor.of(new double[] {1, 0}, 1, 2);
                Solution s = Odeint.odeint(HARMONIC, y0, OUTPUTS, dense(method, 1e-8))) {
            DenseInterpolant in = s.interpolant().orElseThrow();
            assertEquals(0.0, in.tFirst());
            assertEquals(10.0, in.tLast());
            assertEquals(s.stats().accepted(), in.steps(), "one stored polynomial per accepted step");

            double errOutputs = maxErrorVsExact(s.ys().toDoubleArray(), OUTPUTS);
            double[] ts = interiorTimes(0, 10, 997);
            try (Tensor at = in.evaluate(ts)) {
                assertArrayEquals(new long[] {ts.length, 1, 2}, at.shape());
                double errDense = maxErrorVsExact(at.toDoubleArray(), ts);
                // The interpolant's own error (O(h^5) for dopri5/tsit5, O(h^8) for dopri8) is of the
                // order of one local step error, below the global error carried from earlier steps:
                // between steps the error must stay of the order of the error at the outputs (10x
                // leaves room for where in the step the worst point lies), and inside the 1e-6 bar.
                assertTrue(errDense <= 10 * errOutputs + 1e-12,
                        method + ": interpolant error " + errDense + " vs " + errOutputs + " at the outputs");
                assertTrue(errDense <= 1e-6, method + ": interpolant error " + errDense);
            }
            // At the output times the interpolant is the same polynomial that produced ys: equal up
            // to the round-off of Horner's rule versus the stage sum (a few ulp of values <= 1).
            try (Tensor at = in.evaluate(OUTPUTS)) {
                assertArrayEquals(s.ys().toDoubleArray(), at.toDoubleArray(), 1e-13);
            }
        }
    }

    @Test
    void hermiteInterpolantOfFixedStepRk4() {
        double dt = 0.1;
        try (Tensor y0 = Tensor.of(new double[] {1, 0}, 2);
                Solution s = Odeint.odeint(HARMONIC, y0, new double[] {0, 10},
                        SolveOptions.builder().method("rk4").dt(dt).dense(true).build())) {
            DenseInterpolant in = s.interpolant().orElseThrow();
            assertEquals(100, in.steps());
            double errEnd = maxErrorVsExact(s.ys().toDoubleArray(), new double[] {0, 10});
            double[] ts = interiorTimes(0, 10, 501);
            try (Tensor at = in.evaluate(ts)) {
                assertArrayEquals(new long[] {ts.length, 2}, at.shape(), "a rank-1 y0 gives [times, dim]");
                double errDense = maxErrorVsExact(at.toDoubleArray(), ts);
                // Cubic Hermite on exact-ish nodes errs by h^4/384 max|y''''| = 2.6e-7 at h = 0.1, the
                // same order as rk4's global error here (~1e-6 at t = 10): bound both by 1e-5.
                assertTrue(errDense <= 1e-5, "Hermite interpolant error " + errDense + ", error at t=10 " + errEnd);
            }
        }
    }

    @Test
    void backwardSolveInterpolates() {
        double[] times = {5, 2.5, 0};
        double[] start = {Math.cos(5), -Math.sin(5)};
        try (Tensor y0 = Tensor.of(start, 1, 2); Solution s = Odeint.odeint(HARMONIC, y0, times, dense("dopri5", 1e-10))) {
            DenseInterpolant in = s.interpolant().orElseThrow();
            double[] ts = interiorTimes(0, 5, 101);
            try (Tensor at = in.evaluate(ts)) {
                // Tolerance 1e-10 over 5 time units: global error ~1e-9; 1e-8 is a safe bound.
                double err = maxErrorVsExact(at.toDoubleArray(), ts);
                assertTrue(err <= 1e-8, "backward interpolant error " + err);
            }
        }
    }

    @Test
    void outsideTheSpanIsAnArgumentError() {
        try (Tensor y0 = Tensor.of(new double[] {1, 0}, 1, 2);
                Solution s = Odeint.odeint(HARMONIC, y0, new double[] {0, 2}, dense("dopri5", 1e-8))) {
            DenseInterpolant in = s.interpolant().orElseThrow();
            for (double t : new double[] {-0.1, 2.1, Double.NaN, Double.POSITIVE_INFINITY}) {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> in.evaluate(0.5, t),
                        "t=" + t);
                assertTrue(e.getMessage().contains("outside"), e.getMessage());
            }
            assertThrows(IllegalArgumentException.class, in::evaluate, "no times");
            // A failed evaluation leaves the interpolant usable.
            try (Tensor at = in.evaluate(1.0)) {
                assertEquals(Math.cos(1), at.get(0, 0, 0), 1e-7);
            }
        }
    }

    @Test
    void noInterpolantUnlessAsked() {
        try (Tensor y0 = Tensor.of(new double[] {1, 0}, 1, 2);
                Solution s = Odeint.odeint(HARMONIC, y0, new double[] {0, 2})) {
            assertFalse(s.interpolant().isPresent());
        }
    }

    @Test
    void closingTheSolutionClosesTheInterpolant() {
        Tensor evaluated;
        DenseInterpolant in;
        try (Tensor y0 = Tensor.of(new double[] {1, 0}, 1, 2);
                Solution s = Odeint.odeint(HARMONIC, y0, new double[] {0, 2}, dense("dopri5", 1e-8))) {
            in = s.interpolant().orElseThrow();
            evaluated = in.evaluate(1.0);
        }
        assertThrows(TensorClosedException.class, () -> in.evaluate(1.0));
        // What the interpolant returned belongs to the caller and outlives the solution.
        try (Tensor t = evaluated) {
            assertEquals(Math.cos(1), t.get(0, 0, 0), 1e-7);
        }
        in.close(); // closing twice is harmless
    }
}
