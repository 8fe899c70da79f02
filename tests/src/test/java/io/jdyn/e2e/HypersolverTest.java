package io.jdyn.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jdyn.DType;
import io.jdyn.Tensor;
import io.jdyn.fn.Fn;
import io.jdyn.fn.Graph;
import io.jdyn.fn.Init;
import io.jdyn.fn.Program;
import io.jdyn.fn.Sym;
import io.jdyn.nn.DepthCat;
import io.jdyn.nn.Linear;
import io.jdyn.nn.NeuralField;
import io.jdyn.nn.Sequential;
import io.jdyn.nn.Tanh;
import io.jdyn.numerics.HyperEuler;
import io.jdyn.numerics.HyperField;
import io.jdyn.numerics.HyperMidpoint;
import io.jdyn.numerics.HyperRungeKutta4;
import io.jdyn.numerics.HyperSolver;
import io.jdyn.numerics.ResidualFit;
import io.jdyn.ode.Odeint;
import io.jdyn.ode.Solution;
import io.jdyn.ode.SolveOptions;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Hypersolvers (io.jdyn.numerics): a step is one explicit Euler step of the increment program, so with
 * g = 0 each one is its base method (checked against the engine's euler, midpoint and rk4); NFE counts;
 * refusals; tied parameters; and residual fitting on a linear ODE, where the ideal correction is known
 * in closed form.
 */
class HypersolverTest {
    /** A time-dependent field (DepthCat), so the stage times t + c_i eps matter. */
    private static final Sequential FIELD = Sequential.of(new DepthCat(), new Linear(3, 16), new Tanh(), new Linear(16, 2));

    private static double[] random(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        double[] v = new double[n];
        for (int i = 0; i < v.length; i++) v[i] = r.nextDouble(-1, 1);
        return v;
    }

    private static double maxAbsDiff(double[] a, double[] b) {
        assertEquals(a.length, b.length);
        double m = 0;
        for (int i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
        return m;
    }

    private static double[] base(NeuralField f, Tensor x, HyperSolver s, double[] grid) {
        SolveOptions o = SolveOptions.builder().method(s.base()).grid(grid).build();
        try (Solution sol = Odeint.odeint(f, x, grid, o)) {
            return sol.ys().toDoubleArray();
        }
    }

    @Test
    void withAZeroHypernetEachHypersolverIsItsBaseMethod() {
        int steps = 7;
        try (NeuralField f = NeuralField.of(FIELD, 2, DType.FLOAT64, 3); Tensor x = Tensor.of(random(16, 1), 8, 2)) {
            for (HyperSolver s : List.of(new HyperEuler(new Linear(5, 2)), new HyperMidpoint(new Linear(5, 2)),
                    new HyperRungeKutta4(new Linear(5, 2)))) {
                try (HyperField h = HyperField.of(s, f, 0.13, DType.FLOAT64, 5)) {
                    h.setHypernetParams(new double[12]);
                    double[] grid = h.grid(0.2, steps);
                    double[] want = base(f, x, s, grid);
                    double[] got;
                    try (Tensor tr = h.trajectory(x, 0.2, steps)) {
                        got = tr.toDoubleArray();
                    }
                    // the same stages in the same order as the engine's tableau; only the summation order of
                    // a stage's combination may differ: rounding, a few ulps of O(1) values per step
                    assertTrue(maxAbsDiff(got, want) < 1e-13, s.torchName() + " vs " + s.base() + ": " + maxAbsDiff(got, want));
                    assertEquals((long) steps * s.stages(), h.nfe(), s.torchName() + " NFE = stages x steps");
                    // and a non-zero hypernet changes the solution by eps^(p+1) g per step
                    h.setHypernetParams(random(12, 9));
                    try (Tensor tr = h.trajectory(x, 0.2, steps)) {
                        double d = maxAbsDiff(tr.toDoubleArray(), want);
                        assertTrue(d > 0.1 * Math.pow(0.13, s.order() + 1), s.torchName() + " hypernet has no effect: " + d);
                    }
                }
            }
        }
    }

    /**
     * The increment is an ordinary program, so a hypersolver solve is differentiable by the engine's
     * sensitivities: dL/dtheta of the hypernet by backprop through the Euler steps against central
     * differences of the hypersolver's own solves.
     */
    @Test
    void gradientsThroughAHypersolverSolveMatchFiniteDifferences() {
        int steps = 4;
        try (NeuralField f = NeuralField.of(FIELD, 2, DType.FLOAT64, 3); Tensor x = Tensor.of(random(8, 1), 4, 2);
             HyperField h = HyperField.of(new HyperMidpoint(new Linear(5, 2)), f, 0.25, DType.FLOAT64, 5)) {
            double[] grid = h.grid(0, steps);
            double[] w = random(16, 21);
            double[] dlds = new double[(steps + 1) * 8];
            for (int i = 0; i < 8; i++) dlds[steps * 8 + i] = w[i];   // L = <w, z(1)>
            SolveOptions o = SolveOptions.builder().method(io.jdyn.ode.Method.EULER).grid(grid).build();
            double[] analytic;
            try (io.jdyn.ode.GradSolution s = Odeint.odeint(h.program(), x, grid, o,
                    io.jdyn.ode.GradOptions.builder().sensitivity("autograd").build());
                 Tensor ct = Tensor.of(DType.FLOAT64, dlds, steps + 1, 4, 2)) {
                h.program().parameters().zeroGrad();
                s.backward(ct);
                analytic = h.program().parameters().grad("hypernet.weight");
            }
            double[] theta = h.hypernetParams();
            for (int j = 0; j < 10; j++) {      // hypernet.weight: the first 10 of the 12
                double hstep = 1e-5;
                double[] plus = theta.clone();
                double[] minus = theta.clone();
                plus[j] += hstep;
                minus[j] -= hstep;
                double fd = (loss(h, x, plus, steps, w) - loss(h, x, minus, steps, w)) / (2 * hstep);
                // central differences in float64 at h = 1e-5: truncation ~h^2 |L'''| and rounding ~1e-16 / h, both
                // below 1e-8 for these O(1) values
                assertEquals(fd, analytic[j], 1e-7 * Math.max(1, Math.abs(fd)), "d L / d hypernet.weight[" + j + "]");
            }
        }
    }

    private static double loss(HyperField h, Tensor x, double[] theta, int steps, double[] w) {
        h.setHypernetParams(theta);
        try (Tensor tr = h.trajectory(x, 0, steps)) {
            double[] end = last(tr);
            double l = 0;
            for (int i = 0; i < end.length; i++) l += w[i] * end[i];
            return l;
        }
    }

    @Test
    void timesOffTheGridAndBadHypernetsAreRefusedWithTheReason() {
        try (NeuralField f = NeuralField.of(FIELD, 2, DType.FLOAT64, 3); Tensor x = Tensor.of(random(4, 1), 2, 2);
             HyperField h = HyperField.of(new HyperEuler(new Linear(5, 2)), f, 0.1)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> h.trajectory(x, new double[] {0, 0.25}));
            assertTrue(e.getMessage().contains("not on that grid"), e.getMessage());
            try (Tensor tr = h.trajectory(x, new double[] {0, 0.3, 1.0})) {
                assertEquals(3, tr.size(0));
            }
            IllegalArgumentException w = assertThrows(IllegalArgumentException.class,
                    () -> HyperField.of(new HyperEuler(new Linear(4, 2)), f, 0.1).close());
            assertTrue(w.getMessage().contains("the hypernet takes [eps, z, f(z)] of width 5"), w.getMessage());
            IllegalArgumentException o = assertThrows(IllegalArgumentException.class,
                    () -> HyperField.of(new HyperEuler(new Linear(5, 3)), f, 0.1).close());
            assertTrue(o.getMessage().contains("[eps, z, f(z)]"), o.getMessage());
            assertThrows(IllegalArgumentException.class, () -> HyperField.of(new HyperEuler(new Linear(5, 2)), f, 0).close());
        }
    }

    @Test
    void tiedParamsShareOneSetOfParametersAcrossApplications() {
        Fn twice = (t, x, p) -> {
            Sym a = p.tied().linear("0", x, 2);
            return p.tied().linear("0", a, 2);
        };
        try (NeuralField f = NeuralField.of(twice, 2, DType.FLOAT64, 1)) {
            assertEquals(6, f.numParams());
            assertEquals(List.of("0.weight", "0.bias"), f.parameters().names());
        }
        try (Graph g = new Graph()) {
            Sym x = g.arg(-1, 2);
            g.params().tied().param("w", Init.constant(1), 2);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> g.params().tied().param("w", Init.constant(1), 3));
            assertTrue(e.getMessage().contains("tied parameter w"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> g.params().param("w", Init.constant(1), 2));
            assertEquals(List.of("w"), List.copyOf(g.declaredParams().keySet()));
            try (Program p = g.finish(DType.FLOAT64, x.mul(g.declaredParams().get("w")))) {
                assertEquals(2, p.numParams());
            }
        }
    }

    /**
     * z' = A z with A = [[a, b], [-b, a]]: the exact step is E = exp(eps A), so Euler's scaled residual
     * R = (E - I - eps A) z / eps^2 is linear in z and a Linear(5, 2) hypernet on [eps, z, A z] can
     * represent it exactly. Fitting must make HyperEuler's effective one-step map close to E and its
     * terminal error far below Euler's at the same NFE.
     */
    @Test
    void residualFittingOnALinearOdeLearnsTheExactStep() {
        double a = -0.3;
        double b = 2.0;
        Fn linear = (t, z, p) -> z.matmul(p.graph().constant(new double[] {a, -b, b, a}, 2, 2));  // z A^T
        double eps = 0.1;
        int steps = 10;
        try (NeuralField f = NeuralField.of(linear, 2, DType.FLOAT64, 0);
             Tensor x = Tensor.of(random(64, 11), 32, 2);
             HyperField h = HyperField.of(new HyperEuler(new Linear(5, 2)), f, eps, DType.FLOAT64, 2)) {
            ResidualFit.Result r = ResidualFit.fit(h, f, x, 0, steps, ResidualFit.Options.defaults().withEpochs(1500).withLr(2e-2));
            assertTrue(r.finalLoss() < 1e-3 * r.initialLoss(), "loss " + r.initialLoss() + " -> " + r.finalLoss());
            double[] exact = exactEnd(a, b, x.toDoubleArray(), eps * steps);
            double hyperErr;
            double eulerErr;
            try (Tensor tr = h.trajectory(x, 0, steps)) {
                hyperErr = maxAbsDiff(last(tr), exact);
            }
            try (HyperField plain = HyperField.of(new HyperEuler(new Linear(5, 2)), f, eps, DType.FLOAT64, 2)) {
                plain.setHypernetParams(new double[12]);
                try (Tensor tr = plain.trajectory(x, 0, steps)) {
                    eulerErr = maxAbsDiff(last(tr), exact);
                }
            }
            // Euler's global error here is O(eps) ~ 0.1; the fitted map is exact up to the fit's residual
            // loss, so two orders of magnitude is a loose bar for a representable correction
            assertTrue(hyperErr < eulerErr / 100, "HyperEuler " + hyperErr + " vs Euler " + eulerErr);
        }
    }

    private static double[] exactEnd(double a, double b, double[] z0, double t) {
        double e = Math.exp(a * t);
        double c = Math.cos(b * t);
        double s = Math.sin(b * t);
        double[] out = new double[z0.length];
        for (int i = 0; i < z0.length; i += 2) {
            // exp(t A) = e^{at} [[cos bt, sin bt], [-sin bt, cos bt]] for A = [[a, b], [-b, a]]
            out[i] = e * (c * z0[i] + s * z0[i + 1]);
            out[i + 1] = e * (-s * z0[i] + c * z0[i + 1]);
        }
        return out;
    }

    private static double[] last(Tensor tr) {
        double[] all = tr.toDoubleArray();
        int per = Math.toIntExact(tr.numel() / tr.size(0));
        return java.util.Arrays.copyOfRange(all, all.length - per, all.length);
    }
}
