package io.jdyn.e2e;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jdyn.DType;
import io.jdyn.Tensor;
import io.jdyn.e2e.Problems.Rhs;
import io.jdyn.ode.Odeint;
import io.jdyn.ode.Solution;
import io.jdyn.ode.SolveOptions;
import io.jdyn.ode.VectorField;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Shapes, batches, dtypes, directions, tolerances per component, fixed grids and nested solves. */
class BatchAndDtypeTest {
    private static final VectorField HARMONIC = Problems.field(Problems.harmonic(1));

    private static double omega(int b) {
        return 0.5 + 0.05 * b;
    }

    @Test
    void batchOfOscillatorsMatchesEachSolvedAlone() {
        int batch = 64;
        double[] times = {0, 1.7, 5};
        double[] y0 = new double[2 * batch];
        for (int b = 0; b < batch; b++) y0[2 * b] = 1;
        VectorField f = (t, z, dz) -> {
            assertEquals(batch, z.batch());
            for (int b = 0; b < batch; b++) {
                double w = omega(b);
                dz.set(b, 0, z.get(b, 1));
                dz.set(b, 1, -w * w * z.get(b, 0));
            }
        };
        SolveOptions o = Problems.adaptive("dopri5", 1e-9);
        try (Tensor y = Tensor.of(y0, batch, 2); Solution s = Odeint.odeint(f, y, times, o)) {
            assertArrayEquals(new long[] {times.length, batch, 2}, s.ys().shape());
            for (int b = 0; b < batch; b++) {
                double[][] alone = Problems.solve(Problems.harmonic(omega(b)), new double[] {1, 0}, times, o);
                for (int i = 0; i < times.length; i++) {
                    double[] inBatch = {s.ys().get(i, b, 0), s.ys().get(i, b, 1)};
                    // The batch shares one step sequence (the RMS norm over all rows), a row alone
                    // takes its own: both are accurate to the tolerance, so they agree to ~global
                    // error, a few 1e-9 over 5 time units; 1e-7 bounds it.
                    assertTrue(Problems.maxAbsDiff(inBatch, alone[i]) <= 1e-7, "row " + b + " at t=" + times[i]);
                    assertTrue(Problems.maxAbsDiff(inBatch, Problems.harmonicExact(omega(b), times[i])) <= 1e-7,
                            "row " + b + " vs exact at t=" + times[i]);
                }
            }
        }
    }

    @Test
    void identicalRowsGiveIdenticalResults() {
        // Every row of a batch is stepped by the same arithmetic: equal rows must stay bit-equal.
        double[] y0 = {0.3, -0.2, 0.3, -0.2, 0.3, -0.2};
        Rhs vdp = (t, y, dy) -> {
            dy[0] = y[1];
            dy[1] = (1 - y[0] * y[0]) * y[1] - y[0];
        };
        try (Tensor y = Tensor.of(y0, 3, 2);
                Solution s = Odeint.odeint(Problems.field(vdp), y, new double[] {0, 3, 7}, Problems.adaptive("tsit5", 1e-7))) {
            double[] ys = s.ys().toDoubleArray();
            for (int i = 0; i < ys.length; i += 6) {
                assertEquals(ys[i], ys[i + 2], 0.0);
                assertEquals(ys[i], ys[i + 4], 0.0);
                assertEquals(ys[i + 1], ys[i + 3], 0.0);
                assertEquals(ys[i + 1], ys[i + 5], 0.0);
            }
        }
    }

    @Test
    void float32AdaptiveSolveAgreesWithFloat64() {
        double[] times = {0, 2, 5};
        SolveOptions o = Problems.adaptive("dopri5", 1e-5);
        try (Tensor y32 = Tensor.of(new float[] {1, 0}, 1, 2); Tensor y64 = Tensor.of(new double[] {1, 0}, 1, 2);
                Solution s32 = Odeint.odeint((t, z, dz) -> {
                    assertEquals(DType.FLOAT32, z.dtype());
                    dz.set(0, 0, z.get(0, 1));
                    dz.set(0, 1, -z.get(0, 0));
                }, y32, times, o);
                Solution s64 = Odeint.odeint(HARMONIC, y64, times, o)) {
            assertEquals(DType.FLOAT32, s32.ys().dtype());
            assertArrayEquals(new long[] {3, 1, 2}, s32.ys().shape());
            double[] a = s32.ys().toDoubleArray(), b = s64.ys().toDoubleArray();
            // At rtol = atol = 1e-5 both are ~1e-5 accurate; float32 adds ~steps * 6e-8 of rounding.
            // 1e-4 is 10x the tolerance-level error and far below anything a broken dtype path gives.
            assertTrue(Problems.maxAbsDiff(a, b) <= 1e-4, "float32 vs float64: " + Problems.maxAbsDiff(a, b));
        }
    }

    @Test
    void float32FixedStepDiffersFromFloat64ByRoundingOnly() {
        double[] times = {0, 5};
        SolveOptions o = SolveOptions.builder().method("rk4").dt(0.05).build();
        try (Tensor y32 = Tensor.of(DType.FLOAT32, new double[] {1, 0}, 2);
                Tensor y64 = Tensor.of(new double[] {1, 0}, 2);
                Solution s32 = Odeint.odeint(HARMONIC, y32, times, o);
                Solution s64 = Odeint.odeint(HARMONIC, y64, times, o)) {
            float[] a = s32.ys().toFloatArray();
            double[] b = s64.ys().toDoubleArray();
            double diff = 0;
            for (int i = 0; i < a.length; i++) diff = Math.max(diff, Math.abs(a[i] - b[i]));
            // Same steps, same formula: only float32 rounding of the state (eps 1.2e-7, |y| <= 1)
            // accumulates, over 100 steps at most ~100 * eps = 1.2e-5; a float64 path would give ~1e-15.
            assertTrue(diff <= 2e-5, "float32 vs float64 rk4: " + diff);
            assertTrue(diff > 0, "the float32 solve must really run in float32");
        }
    }

    @Test
    void bulkCopiesInTheFieldInBothDtypes() {
        // The field reads and writes with copyTo / copyFrom (flat, row-major) instead of get / set.
        VectorField bulk = (t, z, dz) -> {
            double[] y = new double[z.batch() * z.dim()];
            z.copyTo(y);
            double[] dy = new double[y.length];
            for (int b = 0; b < z.batch(); b++) {
                dy[2 * b] = y[2 * b + 1];
                dy[2 * b + 1] = -y[2 * b];
            }
            dz.copyFrom(dy);
        };
        for (DType dtype : DType.values()) {
            try (Tensor y0 = Tensor.of(dtype, new double[] {1, 0, 0, 1}, 2, 2);
                    Solution s = Odeint.odeint(bulk, y0, new double[] {0, 2}, Problems.adaptive("dopri5", 1e-5))) {
                // Row 0 is (cos, -sin), row 1 is (sin, cos). rtol 1e-5 stays above float32's floor
                // (10 eps = 1.2e-6); 1e-4 is 10x that tolerance-level error.
                assertEquals(Math.cos(2), s.ys().get(1, 0, 0), 1e-4, dtype + " row 0");
                assertEquals(-Math.sin(2), s.ys().get(1, 0, 1), 1e-4, dtype + " row 0");
                assertEquals(Math.sin(2), s.ys().get(1, 1, 0), 1e-4, dtype + " row 1");
                assertEquals(Math.cos(2), s.ys().get(1, 1, 1), 1e-4, dtype + " row 1");
            }
        }
    }

    @Test
    void rankOneStateGivesTimesByDim() {
        try (Tensor y0 = Tensor.of(new double[] {1, 0}, 2);
                Solution s = Odeint.odeint((t, z, dz) -> {
                    assertEquals(1, z.batch());
                    assertEquals(2, z.dim());
                    dz.set(0, 0, z.get(0, 1));
                    dz.set(0, 1, -z.get(0, 0));
                }, y0, new double[] {0, 1, 2, 3}, Problems.adaptive("dopri5", 1e-10))) {
            assertArrayEquals(new long[] {4, 2}, s.ys().shape());
            // Tolerance 1e-10 over 3 time units: global error ~1e-10; 1e-8 bounds it.
            assertEquals(Math.cos(3), s.ys().get(3, 0), 1e-8);
            assertEquals(-Math.sin(3), s.ys().get(3, 1), 1e-8);
        }
    }

    @Test
    void backwardIntegrationReturnsToTheInitialState() {
        SolveOptions o = Problems.adaptive("dopri5", 1e-10);
        double[] forward = Problems.solveFinal(Problems.harmonic(1), new double[] {1, 0}, new double[] {0, 5}, o);
        double[][] back = Problems.solve(Problems.harmonic(1), forward, new double[] {5, 2.5, 0}, o);
        // Two solves at 1e-10 of 5 time units each: ~1e-9 each way; 1e-8 bounds the round trip.
        assertTrue(Problems.maxAbsDiff(back[1], Problems.harmonicExact(1, 2.5)) <= 1e-8, "at t=2.5");
        assertTrue(Problems.maxAbsDiff(back[2], new double[] {1, 0}) <= 1e-8, "back at t=0");

        double[][] fixed = Problems.solve(Problems.harmonic(1), new double[] {1, 0}, new double[] {0, -3},
                SolveOptions.builder().method("rk4").dt(0.01).build());
        // rk4 at h = 0.01 over 3 units: error ~h^4 * 3 = 3e-8; 1e-6 bounds it.
        assertTrue(Problems.maxAbsDiff(fixed[1], Problems.harmonicExact(1, -3)) <= 1e-6, "fixed-step backward");

        // Backward with a partial last step: -1 = 3 * (-0.3) - 0.1.
        try (Tensor y = Tensor.of(new double[] {1, 0}, 1, 2);
                Solution s = Odeint.odeint(HARMONIC, y, new double[] {0, -1},
                        SolveOptions.builder().method("rk4").dt(0.3).build())) {
            assertEquals(4, s.stats().accepted());
            assertEquals(-1.0, s.stats().tReached(), 0.0);
            // rk4 at h = 0.3: error ~h^4 / 120 per unit ~1e-4 at most; 1e-3 bounds it, and a step in
            // the wrong direction would be off by O(1) (sin changes sign).
            assertTrue(Problems.maxAbsDiff(new double[] {s.ys().get(1, 0, 0), s.ys().get(1, 0, 1)},
                    Problems.harmonicExact(1, -1)) <= 1e-3);
        }
    }

    @Test
    void perComponentTolerances() {
        // Two decoupled oscillators: slow (w = 1) and fast (w = 4).
        Rhs two = (t, y, dy) -> {
            dy[0] = y[1];
            dy[1] = -y[0];
            dy[2] = y[3];
            dy[3] = -16 * y[2];
        };
        double[] y0 = {1, 0, 1, 0};
        double[] times = {0, 6};
        double[] exact = {Math.cos(6), -Math.sin(6), Math.cos(24), -4 * Math.sin(24)};

        // Vectors equal to the scalars are the scalars: same steps, same result up to round-off (the
        // engine sums the error norm on a separate, vectorised path when tolerances are scalar).
        SolveOptions scalar = Problems.adaptive("dopri5", 1e-8);
        SolveOptions vector = scalar.toBuilder().rtol(new double[] {1e-8, 1e-8, 1e-8, 1e-8})
                .atol(new double[] {1e-8, 1e-8, 1e-8, 1e-8}).build();
        Solved a = solved(two, y0, times, scalar), b = solved(two, y0, times, vector);
        assertArrayEquals(a.y, b.y, 1e-13);
        assertEquals(a.nfe, b.nfe);

        // Tight on the slow pair, loose on the fast one, against all-tight and all-loose.
        SolveOptions mixed = scalar.toBuilder().rtol(new double[] {1e-10, 1e-10, 1e-4, 1e-4})
                .atol(new double[] {1e-10, 1e-10, 1e-4, 1e-4}).build();
        Solved tight = solved(two, y0, times, Problems.adaptive("dopri5", 1e-10));
        Solved loose = solved(two, y0, times, Problems.adaptive("dopri5", 1e-4));
        Solved m = solved(two, y0, times, mixed);
        assertTrue(loose.nfe < m.nfe && m.nfe < tight.nfe,
                "nfe loose " + loose.nfe + " < mixed " + m.nfe + " < tight " + tight.nfe);
        double slowErr = Math.max(Math.abs(m.y[0] - exact[0]), Math.abs(m.y[1] - exact[1]));
        double fastErr = Math.max(Math.abs(m.y[2] - exact[2]), Math.abs(m.y[3] - exact[3]));
        // Each pair's error follows its own tolerance: ~1e-9 for the slow pair (1e-10 locally over
        // 6 units), ~1e-3 for the fast pair at 1e-4 (24 radians of phase).
        assertTrue(slowErr <= 1e-8, "slow pair at 1e-10: " + slowErr);
        assertTrue(fastErr <= 1e-2, "fast pair at 1e-4: " + fastErr);
        double fastErrTight = Math.max(Math.abs(tight.y[2] - exact[2]), Math.abs(tight.y[3] - exact[3]));
        assertTrue(fastErr > 10 * fastErrTight, "the fast pair must be solved loosely: " + fastErr + " vs "
                + fastErrTight + " all-tight");
    }

    private record Solved(double[] y, long nfe) {}

    private static Solved solved(Rhs rhs, double[] y0, double[] times, SolveOptions o) {
        try (Tensor y = Tensor.of(y0, 1, y0.length); Solution s = Odeint.odeint(Problems.field(rhs), y, times, o)) {
            return new Solved(Problems.rows(s.ys().toDoubleArray(), y0.length)[times.length - 1], s.stats().nfe());
        }
    }

    /** Classic rk4 on an explicit grid, in plain Java: the reference for the fixed-step paths. */
    private static double[] javaRk4(Rhs f, double[] y0, double[] grid) {
        int n = y0.length;
        double[] y = y0.clone(), k1 = new double[n], k2 = new double[n], k3 = new double[n], k4 = new double[n],
                tmp = new double[n];
        for (int j = 1; j < grid.length; j++) {
            double t = grid[j - 1], h = grid[j] - t;
            f.eval(t, y, k1);
            for (int i = 0; i < n; i++) tmp[i] = y[i] + h / 2 * k1[i];
            f.eval(t + h / 2, tmp, k2);
            for (int i = 0; i < n; i++) tmp[i] = y[i] + h / 2 * k2[i];
            f.eval(t + h / 2, tmp, k3);
            for (int i = 0; i < n; i++) tmp[i] = y[i] + h * k3[i];
            f.eval(t + h, tmp, k4);
            for (int i = 0; i < n; i++) y[i] += h / 6 * (k1[i] + 2 * k2[i] + 2 * k3[i] + k4[i]);
        }
        return y;
    }

    @Test
    void fixedStepWithAPartialLastStep() {
        Rhs f = (t, y, dy) -> {
            dy[0] = y[1];
            dy[1] = -y[0] + Math.sin(3 * t); // time-dependent, so the stage times matter
        };
        double[] y0 = {1, 0};
        double dt = 0.3; // 1.0 = 3 * 0.3 + 0.1
        try (Tensor y = Tensor.of(y0, 1, 2);
                Solution s = Odeint.odeint(Problems.field(f), y, new double[] {0, 1},
                        SolveOptions.builder().method("rk4").dt(dt).build())) {
            assertEquals(4, s.stats().accepted(), "three full steps and one of 0.1");
            assertEquals(1.0, s.stats().tReached(), 0.0);
            assertEquals(1.0 - 3 * dt, s.stats().lastDt(), 1e-12);
            double[] expected = javaRk4(f, y0, new double[] {0, dt, 2 * dt, 3 * dt, 1});
            // The same arithmetic up to the order of summation: a few ulp.
            assertArrayEquals(expected, new double[] {s.ys().get(1, 0, 0), s.ys().get(1, 0, 1)}, 1e-14);
        }
    }

    @Test
    void fixedStepOnAnExplicitGrid() {
        Rhs f = (t, y, dy) -> {
            dy[0] = y[1];
            dy[1] = -y[0] + Math.sin(3 * t);
        };
        double[] y0 = {1, 0};
        double[] grid = {0, 0.1, 0.35, 0.7, 1.0};
        // 0.35 is both a grid point and an output time: the state there is the step's end, not an interpolation.
        try (Tensor y = Tensor.of(y0, 1, 2);
                Solution s = Odeint.odeint(Problems.field(f), y, new double[] {0, 0.35, 1},
                        SolveOptions.builder().method("rk4").grid(grid).build())) {
            assertEquals(grid.length - 1, s.stats().accepted());
            assertArrayEquals(javaRk4(f, y0, new double[] {0, 0.1, 0.35}),
                    new double[] {s.ys().get(1, 0, 0), s.ys().get(1, 0, 1)}, 1e-14);
            assertArrayEquals(javaRk4(f, y0, grid), new double[] {s.ys().get(2, 0, 0), s.ys().get(2, 0, 1)}, 1e-14);
        }
    }

    @Test
    void stepTimesMakeStepsLandOnAKink() {
        // y' = max(0, t - 1): y = 0 until t = 1, then (t - 1)^2 / 2. Polynomial of degree <= 2 on each
        // side, so a step that lands on t = 1 makes dopri5 exact; one that straddles it is not.
        List<Double> evalTimes = new ArrayList<>();
        VectorField kink = (t, z, dz) -> {
            evalTimes.add(t);
            dz.set(0, 0, Math.max(0, t - 1));
        };
        SolveOptions base = Problems.adaptive("dopri5", 1e-8);
        long nfeWithout, rejectedWithout;
        try (Tensor y0 = Tensor.of(new double[] {0}, 1, 1);
                Solution s = Odeint.odeint(kink, y0, new double[] {0, 2}, base)) {
            // Without the forced step the kink is resolved only to the tolerance, by rejecting steps.
            assertEquals(0.5, s.ys().get(1, 0, 0), 1e-6);
            nfeWithout = s.stats().nfe();
            rejectedWithout = s.stats().rejected();
        }
        evalTimes.clear();
        try (Tensor y0 = Tensor.of(new double[] {0}, 1, 1);
                Solution s = Odeint.odeint(kink, y0, new double[] {0, 2}, base.toBuilder().stepTimes(1.0).build())) {
            // Exact up to the round-off of a handful of steps.
            assertEquals(0.5, s.ys().get(1, 0, 0), 1e-13);
            assertTrue(evalTimes.contains(1.0), "a step starts exactly at t=1");
            assertEquals(0, s.stats().rejected(), "no step straddles the kink, so none is rejected");
            assertTrue(s.stats().nfe() < nfeWithout, "landing on the kink is cheaper: " + s.stats().nfe()
                    + " evaluations vs " + nfeWithout + " (" + rejectedWithout + " rejected) without");
        }
    }

    @Test
    void vectorFieldMayItselfSolve() {
        // The outer decay rate is e^1 / e computed by an inner solve of x' = x on [0, 1] at every
        // evaluation: the solver must be re-entrant from inside an upcall.
        int[] innerSolves = {0};
        VectorField outer = (t, z, dz) -> {
            double rate;
            try (Tensor x0 = Tensor.of(new double[] {1}, 1);
                    Solution inner = Odeint.odeint((s, x, dx) -> dx.set(0, 0, x.get(0, 0)), x0, new double[] {0, 1},
                            Problems.adaptive("dopri5", 1e-12))) {
                rate = inner.ys().get(1, 0) / Math.E;
            }
            innerSolves[0]++;
            dz.set(0, 0, -rate * z.get(0, 0));
        };
        try (Tensor y0 = Tensor.of(new double[] {1}, 1, 1);
                Solution s = Odeint.odeint(outer, y0, new double[] {0, 1}, Problems.adaptive("dopri5", 1e-9))) {
            assertEquals(s.stats().nfe(), innerSolves[0], "one inner solve per outer evaluation");
            // Inner rate exact to ~1e-12, outer solve at 1e-9: 1e-8 bounds the error at t = 1.
            assertEquals(Math.exp(-1), s.ys().get(1, 0, 0), 1e-8);
        }
    }
}
