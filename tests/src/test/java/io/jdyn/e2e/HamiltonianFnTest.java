package io.jdyn.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jdyn.DType;
import io.jdyn.Tensor;
import io.jdyn.fn.Fn;
import io.jdyn.fn.Graph;
import io.jdyn.fn.Init;
import io.jdyn.fn.Program;
import io.jdyn.fn.Sym;
import io.jdyn.nn.NeuralField;
import io.jdyn.ode.GradOptions;
import io.jdyn.ode.Sensitivity;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * A Hamiltonian neural network's field written with Sym operations: H(q, p) = p^2/2 + (1 - cos q),
 * f = J grad H = (dH/dp, -dH/dq) through {@link Graph#grad}; the field against the pendulum's
 * analytic one, its solves' gradients (with a learnable scale) against finite differences, and a
 * Hessian-vector product (a JVP of the grad) against differences of the grad.
 */
class HamiltonianFnTest {
    /** H(q, p) per row, [-1, 1], of z = [q, p] ([-1, 2]), times scale (null: 1). */
    private static Sym hamiltonian(Sym z, Sym scale) {
        Sym q = z.slice(1, 0, 1), p = z.slice(1, 1, 2);
        Sym h = p.square().mul(0.5).add(q.cos().rsub(1));
        return scale == null ? h : h.mul(scale);
    }

    /** J grad H: (dH/dp, -dH/dq). */
    private static Sym symplectic(Sym h, Sym z) {
        Sym dh = Graph.grad(h, z);
        return Sym.cat(1, dh.slice(1, 1, 2), dh.slice(1, 0, 1).neg());
    }

    private static final Fn HNN = (t, z, params) -> symplectic(hamiltonian(z, params.param("scale", Init.constant(1.3))), z);

    private static double[] points(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        double[] v = new double[2 * n];
        for (int i = 0; i < v.length; i++) v[i] = r.nextDouble(-3, 3);
        return v;
    }

    @Test
    void jGradHIsThePendulumField() {
        int n = 64;
        double[] z = points(n, 1);
        try (Graph g = new Graph()) {
            Sym x = g.arg(-1, 2);
            Sym f = symplectic(hamiltonian(x, null), x);
            try (Program prog = g.finish(DType.FLOAT64, f); Tensor zt = Tensor.of(z, n, 2)) {
                assertTrue(prog.isVectorField());
                Tensor[] out = prog.run(null, 0.0, zt);
                try {
                    double[] y = out[0].toDoubleArray();
                    for (int i = 0; i < n; i++) {
                        double q = z[2 * i], p = z[2 * i + 1];
                        assertEquals(p, y[2 * i], 1e-12, "dq/dt at row " + i);
                        assertEquals(-Math.sin(q), y[2 * i + 1], 1e-12, "dp/dt at row " + i);
                    }
                } finally {
                    out[0].close();
                }
            }
        }
        // The same field as a NeuralField (forward through jdyn_program_forward).
        try (NeuralField f = NeuralField.of(HNN, 2, DType.FLOAT64, 3); Tensor zt = Tensor.of(z, n, 2);
                Tensor y = f.forward(0.2, zt)) {
            assertEquals(1, f.numParams());
            assertEquals(List.of("scale"), f.parameters().names());
            assertEquals(1.3, f.parameters().get("scale")[0], 0.0);
            double[] v = y.toDoubleArray();
            for (int i = 0; i < n; i++) {
                assertEquals(1.3 * z[2 * i + 1], v[2 * i], 1e-12);
                assertEquals(-1.3 * Math.sin(z[2 * i]), v[2 * i + 1], 1e-12);
            }
        }
    }

    @Test
    void solveGradientsMatchFiniteDifferencesInEverySensitivity() {
        for (Sensitivity mode : Sensitivity.values()) {
            try (GradSupport.Subject s = GradSupport.neural("HNN (" + mode.torchName() + ")", HNN, 2, 5)) {
                GradSupport.Problem p = new GradSupport.Problem(3, 2, new double[] {0, 0.4, 1.0}, 17);
                GradSupport.check(s, p, mode, GradOptions.builder());
            }
        }
    }

    @Test
    void aLearnedHamiltonianTrainsThroughTheAdjoint() {
        // H an MLP, the field J grad H: the adjoint differentiates the grad again (TANH_BWD's own rule).
        Fn mlpHnn = (t, z, p) -> symplectic(p.linear("2", p.linear("0", z, 8).tanh(), 1), z);
        for (Sensitivity mode : List.of(Sensitivity.ADJOINT, Sensitivity.AUTOGRAD)) {
            try (GradSupport.Subject s = GradSupport.neural("MLP HNN (" + mode.torchName() + ")", mlpHnn, 2, 9)) {
                assertEquals(8 * 2 + 8 + 8 + 1, s.numParams());
                GradSupport.Problem p = new GradSupport.Problem(2, 2, new double[] {0, 1, 2.5}, 23);
                GradSupport.check(s, p, mode, GradOptions.builder(), false);
            }
        }
    }

    /** H with a coupling term so that the Hessian is full: p^2/2 + (1 - cos q) + 0.3 q^2 p + 0.1 p^4. */
    private static Sym coupled(Sym z) {
        Sym q = z.slice(1, 0, 1), p = z.slice(1, 1, 2);
        return hamiltonian(z, null).add(q.square().mul(p).mul(0.3)).add(p.pow(4).mul(0.1));
    }

    @Test
    void hessianVectorProductsMatchDifferencesOfTheGrad() {
        int n = 16;
        double[] z = points(n, 7);
        double[] v = points(n, 8);
        try (Graph g = new Graph()) {
            Sym x = g.arg(-1, 2);
            Sym u = g.arg(-1, 2);
            Sym grad = Graph.grad(coupled(x), x);
            Sym hvp = g.jvp(List.of(x), List.of(u), List.of(grad)).get(0);
            // The same product in reverse mode: grad of <grad H, u>.
            Sym hvpReverse = Graph.grad(grad.mul(u).sum(1, true), x);
            try (Program hv = g.finish(DType.FLOAT64, hvp, hvpReverse, grad); Tensor zt = Tensor.of(z, n, 2);
                    Tensor ut = Tensor.of(v, n, 2)) {
                Tensor[] out = hv.run(null, 0, zt, ut);
                double[] forward = out[0].toDoubleArray(), reverse = out[1].toDoubleArray(), g0 = out[2].toDoubleArray();
                for (Tensor o : out) o.close();
                double h = 1e-5;
                double[] zp = z.clone(), zm = z.clone();
                for (int i = 0; i < z.length; i++) {
                    zp[i] += h * v[i];
                    zm[i] -= h * v[i];
                }
                double[] gp, gm;
                try (Tensor a = Tensor.of(zp, n, 2); Tensor b = Tensor.of(zm, n, 2)) {
                    Tensor[] pa = hv.run(null, 0, a, ut), pb = hv.run(null, 0, b, ut);
                    gp = pa[2].toDoubleArray();
                    gm = pb[2].toDoubleArray();
                    for (Tensor o : pa) o.close();
                    for (Tensor o : pb) o.close();
                }
                for (int i = 0; i < n; i++) {
                    double q = z[2 * i], p = z[2 * i + 1];
                    // grad H = (sin q + 0.6 q p, p + 0.3 q^2 + 0.4 p^3)
                    assertEquals(Math.sin(q) + 0.6 * q * p, g0[2 * i], 1e-12);
                    assertEquals(p + 0.3 * q * q + 0.4 * p * p * p, g0[2 * i + 1], 1e-11);
                }
                for (int i = 0; i < z.length; i++) {
                    double fd = (gp[i] - gm[i]) / (2 * h);
                    assertEquals(fd, forward[i], 1e-7 * Math.max(1, Math.abs(fd)), "HVP (jvp of grad) [" + i + "]");
                    assertEquals(forward[i], reverse[i], 1e-12 * Math.max(1, Math.abs(fd)), "HVP reverse [" + i + "]");
                }
            }
        }
    }
}
