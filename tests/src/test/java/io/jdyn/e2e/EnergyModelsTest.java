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
import io.jdyn.models.HNN;
import io.jdyn.models.LNN;
import io.jdyn.nn.Linear;
import io.jdyn.nn.NeuralField;
import io.jdyn.nn.Sequential;
import io.jdyn.nn.Softplus;
import io.jdyn.nn.Tanh;
import io.jdyn.ode.GradOptions;
import io.jdyn.ode.Sensitivity;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * {@link HNN} and {@link LNN} (torchdyn's energy models) on Hamiltonians and Lagrangians written as
 * the net, against their analytic fields; the SOLVE op from Java ({@link Sym#solve}); gradients of a
 * loss through their solves against finite differences (adjoint and autograd); and the messages for a
 * state of odd width and a singular mass matrix.
 */
class EnergyModelsTest {
    private static double[] points(int rows, int width, long seed, double scale) {
        SplittableRandom r = new SplittableRandom(seed);
        double[] v = new double[rows * width];
        for (int i = 0; i < v.length; i++) v[i] = r.nextDouble(-scale, scale);
        return v;
    }

    private static double[] field(Fn fn, int width, double[] x, int rows) {
        try (NeuralField f = NeuralField.of(fn, width, DType.FLOAT64, 1); Tensor xt = Tensor.of(x, rows, width);
                Tensor y = f.forward(0.0, xt)) {
            return y.toDoubleArray();
        }
    }

    /** H(q1, q2, p1, p2) = (p1^2 + 2 p2^2) / 2 + cos(q1) q2 + q1^2 p2 (coupled, not separable). */
    private static final Fn COUPLED_H = (t, x, p) -> {
        Sym q1 = x.slice(1, 0, 1), q2 = x.slice(1, 1, 2), p1 = x.slice(1, 2, 3), p2 = x.slice(1, 3, 4);
        return p1.square().add(p2.square().mul(2)).mul(0.5).add(q1.cos().mul(q2)).add(q1.square().mul(p2));
    };

    @Test
    void hnnFieldIsJGradH() {
        int rows = 32;
        double[] x = points(rows, 4, 11, 2);
        double[] f = field(new HNN(COUPLED_H), 4, x, rows);
        for (int i = 0; i < rows; i++) {
            double q1 = x[4 * i], q2 = x[4 * i + 1], p1 = x[4 * i + 2], p2 = x[4 * i + 3];
            // dq/dt = dH/dp = (p1, 2 p2 + q1^2); dp/dt = -dH/dq = (sin(q1) q2 - 2 q1 p2, -cos q1)
            assertEquals(p1, f[4 * i], 1e-12, "dq1/dt row " + i);
            assertEquals(2 * p2 + q1 * q1, f[4 * i + 1], 1e-12, "dq2/dt row " + i);
            assertEquals(Math.sin(q1) * q2 - 2 * q1 * p2, f[4 * i + 2], 1e-12, "dp1/dt row " + i);
            assertEquals(-Math.cos(q1), f[4 * i + 3], 1e-12, "dp2/dt row " + i);
        }
    }

    @Test
    void lnnOfTheHarmonicOscillatorGivesMinusQ() {
        // L = qdot^2 / 2 - q^2 / 2: qddot = -q.
        Fn l = (t, x, p) -> x.slice(1, 1, 2).square().sub(x.slice(1, 0, 1).square()).mul(0.5);
        int rows = 16;
        double[] x = points(rows, 2, 3, 2);
        double[] f = field(new LNN(l), 2, x, rows);
        for (int i = 0; i < rows; i++) {
            assertEquals(x[2 * i + 1], f[2 * i], 0.0, "qdot passes through, row " + i);
            assertEquals(-x[2 * i], f[2 * i + 1], 1e-12, "qddot row " + i);
        }
    }

    private static final double A = 2, B = 0.7, C = 0.5, D = 1.5;

    /**
     * L = qdot^T M(q) qdot / 2 - V(q) with M = [[A + B cos q2, C], [C, D]] and V = q1^2 / 2 + 1 - cos q2:
     * a configuration-dependent, full mass matrix, so the mixed term and the 2 x 2 solve both matter.
     */
    private static final Fn COUPLED_L = (t, x, p) -> {
        Sym q1 = x.slice(1, 0, 1), q2 = x.slice(1, 1, 2), v1 = x.slice(1, 2, 3), v2 = x.slice(1, 3, 4);
        Sym m11 = q2.cos().mul(B).add(A);
        Sym kinetic = m11.mul(v1.square()).add(v1.mul(v2).mul(2 * C)).add(v2.square().mul(D)).mul(0.5);
        Sym potential = q1.square().mul(0.5).add(q2.cos().rsub(1));
        return kinetic.sub(potential);
    };

    @Test
    void lnnOfACoupledTwoDofLagrangianMatchesEulerLagrange() {
        int rows = 24;
        double[] x = points(rows, 4, 5, 1.5);
        double[] f = field(new LNN(COUPLED_L), 4, x, rows);
        for (int i = 0; i < rows; i++) {
            double q1 = x[4 * i], q2 = x[4 * i + 1], v1 = x[4 * i + 2], v2 = x[4 * i + 3];
            // M qddot = dL/dq - (dM/dt) qdot, dM/dt = [[-B sin q2 v2, 0], [0, 0]]:
            double r1 = -q1 + B * Math.sin(q2) * v1 * v2;
            double r2 = -0.5 * B * Math.sin(q2) * v1 * v1 - Math.sin(q2);
            double m11 = A + B * Math.cos(q2), det = m11 * D - C * C;
            double a1 = (D * r1 - C * r2) / det, a2 = (m11 * r2 - C * r1) / det;
            assertEquals(v1, f[4 * i], 0.0);
            assertEquals(v2, f[4 * i + 1], 0.0);
            // Values O(1), a mass matrix with condition number < 10: rounding stays far below 1e-10.
            assertEquals(a1, f[4 * i + 2], 1e-10, "qddot1 row " + i);
            assertEquals(a2, f[4 * i + 3], 1e-10, "qddot2 row " + i);
        }
    }

    @Test
    void symSolveMatchesTheExactSolutionAndItsGradient() {
        // A [-1, 2, 2] from the rows, B = [1, 2]^T: X = A^-1 B, and grad of sum(X) wrt B is A^-T 1.
        try (Graph g = new Graph()) {
            Sym a = g.arg(-1, 2, 2), b = g.arg(-1, 2, 1);
            Sym x = a.solve(b);
            Sym gb = Graph.grad(x, b);
            Sym xt = a.solve(b, true);
            double[] av = {3, 1, 1, 2, 0, 1, 2, 5}; // the second has a zero diagonal: pivoting
            double[] bv = {1, 2, 3, 4};
            try (Program prog = g.finish(DType.FLOAT64, x, gb, xt); Tensor at = Tensor.of(av, 2, 2, 2);
                    Tensor bt = Tensor.of(bv, 2, 2, 1)) {
                Tensor[] out = prog.run(null, 0, at, bt);
                double[] xv = out[0].toDoubleArray(), gv = out[1].toDoubleArray(), tv = out[2].toDoubleArray();
                for (Tensor o : out) o.close();
                // [[3, 1], [1, 2]] x = [1, 2]: x = (0, 1); [[0, 1], [2, 5]] x = [3, 4]: x = (-5.5, 3)
                double[] want = {0, 1, -5.5, 3};
                for (int i = 0; i < 4; i++) assertEquals(want[i], xv[i], 1e-14, "x[" + i + "]");
                // A^-T 1: [[3, 1], [1, 2]]^-T (1, 1) = (0.2, 0.4); [[0, 2], [1, 5]]^-1 (1, 1) = (-1.5, 0.5)
                double[] wantG = {0.2, 0.4, -1.5, 0.5};
                for (int i = 0; i < 4; i++) assertEquals(wantG[i], gv[i], 1e-14, "dsum/db[" + i + "]");
                // A^T x = b: [[3, 1], [1, 2]] is symmetric (0, 1); [[0, 2], [1, 5]] x = [3, 4]: (-3.5, 1.5)
                double[] wantT = {0, 1, -3.5, 1.5};
                for (int i = 0; i < 4; i++) assertEquals(wantT[i], tv[i], 1e-14, "transposed x[" + i + "]");
            }
        }
    }

    @Test
    void gradientsThroughHnnAndLnnSolvesMatchFiniteDifferences() {
        // Learnable nets: every parameter's gradient through the ODE solve, adjoint and autograd.
        Fn hNet = Sequential.of(new Linear(2, 6), new Tanh(), new Linear(6, 1));
        // L = a learned potential-like term plus a kinetic term whose mass is learned and positive:
        // softplus keeps the mass matrix invertible for every parameter value the differences visit.
        Fn lNet = (t, x, p) -> {
            Sym q = x.slice(1, 0, 1), v = x.slice(1, 1, 2);
            Sym mass = p.param("mass", Init.constant(0.4), 1).softplus().add(0.5);
            Sym pot = p.linear("v2", p.linear("v0", q, 5).tanh(), 1);
            return v.square().mul(mass).mul(0.5).sub(pot).add(p.linear("c", x, 1).mul(v).mul(0.1));
        };
        for (Sensitivity mode : List.of(Sensitivity.ADJOINT, Sensitivity.AUTOGRAD)) {
            try (GradSupport.Subject s = GradSupport.neural("HNN (" + mode.torchName() + ")", new HNN(hNet), 2, 7)) {
                GradSupport.check(s, new GradSupport.Problem(2, 2, new double[] {0, 0.5, 1.2}, 31), mode,
                        GradOptions.builder(), false);
            }
            try (GradSupport.Subject s = GradSupport.neural("LNN (" + mode.torchName() + ")", new LNN(lNet), 2, 8)) {
                assertTrue(s.numParams() > 10);
                GradSupport.check(s, new GradSupport.Problem(2, 2, new double[] {0, 0.5, 1.2}, 37), mode,
                        GradOptions.builder(), false);
            }
        }
    }

    @Test
    void badStatesAndSingularMassMatricesSayWhatIsWrong() {
        Fn h = Sequential.of(new Linear(3, 4), new Softplus(), new Linear(4, 1));
        IllegalArgumentException odd = assertThrows(IllegalArgumentException.class,
                () -> NeuralField.of(new HNN(h), 3, DType.FLOAT64, 1));
        assertTrue(odd.getMessage().contains("HNN") && odd.getMessage().contains("even width"), odd.getMessage());
        // L = q qdot: linear in qdot, so d2L/dqdot2 = 0 everywhere.
        Fn degenerate = (t, x, p) -> x.slice(1, 0, 1).mul(x.slice(1, 1, 2));
        try (NeuralField f = NeuralField.of(new LNN(degenerate), 2, DType.FLOAT64, 1);
                Tensor xt = Tensor.of(new double[] {0.5, 1, 0.2, 0.3}, 2, 2)) {
            RuntimeException e = assertThrows(RuntimeException.class, () -> f.forward(0, xt).close());
            assertTrue(e.getMessage().contains("SOLVE") && e.getMessage().contains("singular"), e.getMessage());
        }
    }
}
