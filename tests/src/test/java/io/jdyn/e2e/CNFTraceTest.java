package io.jdyn.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jdyn.DType;
import io.jdyn.Tensor;
import io.jdyn.fn.Fn;
import io.jdyn.models.CNF;
import io.jdyn.models.CNFDensity;
import io.jdyn.models.NeuralODE;
import io.jdyn.models.TraceEstimator;
import io.jdyn.nn.NeuralField;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The CNF field [-tr(df/dz), f] against finite differences of f, and the log-density of a linear flow
 * f(z) = A z against its closed form: z(1) = e^A x, dlogp(1) = -tr A, so
 * log p(x) = log N(e^A x; 0, I) + tr A; sampling (the backward solve) gives x = e^{-A} z.
 */
class CNFTraceTest {
    /** A time-dependent MLP 3 -> 16 -> 16 -> 3 (tanh, softplus): a full, non-symmetric Jacobian. */
    static final Fn MLP = (t, z, p) -> {
        return p.linear("4", p.linear("2", p.linear("0", z, 16).tanh().add(t.sin()), 16).softplus(), 3);
    };

    @Test
    void exactTraceMatchesCentralDifferencesOfTheField() {
        int n = 12, d = 3;
        double t = 0.37, h = 1e-5;
        double[] x = new double[n * (d + 1)];
        SplittableRandom r = new SplittableRandom(5);
        for (int i = 0; i < x.length; i++) x[i] = r.nextDouble(-2, 2);
        try (NeuralField field = NeuralField.of(new CNF(MLP), d + 1, DType.FLOAT64, 11);
                Tensor xt = Tensor.of(x, n, d + 1); Tensor y = field.forward(t, xt)) {
            double[] out = y.toDoubleArray();
            for (int i = 0; i < n; i++) {
                double fd = 0;
                for (int k = 0; k < d; k++) {
                    double[] plus = x.clone(), minus = x.clone();
                    plus[i * (d + 1) + 1 + k] += h;
                    minus[i * (d + 1) + 1 + k] -= h;
                    // Columns 1.. of the CNF's output are f itself: d f_k / d z_k by central differences.
                    fd += (column(field, t, plus, n, d, i, 1 + k) - column(field, t, minus, n, d, i, 1 + k)) / (2 * h);
                }
                // Central differences err by h^2/6 |f'''| (about 1e-10 for this net, |f'''| <~ 10) plus
                // rounding eps |f| / h (about 1e-11); 1e-7 leaves room without hiding a wrong entry (O(0.1)).
                assertEquals(-fd, out[i * (d + 1)], 1e-7, "row " + i + ": -tr(df/dz)");
            }
        }
    }

    private static double column(NeuralField field, double t, double[] x, int n, int d, int row, int col) {
        try (Tensor xt = Tensor.of(x, n, d + 1); Tensor y = field.forward(t, xt)) {
            return y.get(row, col);
        }
    }

    /** A = [[0.3, -0.8], [0.5, -0.6]]: rotation and shear, tr A = -0.3. */
    private static final double[] A = {0.3, -0.8, 0.5, -0.6};

    /** f(z) = z A^T (each row A z), through a constant of the graph. */
    private static final Fn LINEAR = (t, z, p) -> z.matmul(p.graph().constant(A, 2, 2), false, true);

    @Test
    void linearFlowLogDensityAndSamplesMatchTheClosedForm() {
        int n = 9;
        double[] x = new double[2 * n];
        SplittableRandom r = new SplittableRandom(3);
        for (int i = 0; i < x.length; i++) x[i] = r.nextDouble(-2, 2);
        double[] eA = expm(A, 1), emA = expm(A, -1);
        try (NeuralODE flow = NeuralODE.builder(new CNF(LINEAR), 3).dtype(DType.FLOAT64).rtol(1e-10).atol(1e-10).build();
                Tensor xt = Tensor.of(x, n, 2)) {
            double[] lp = CNFDensity.logProb(flow, xt);
            for (int i = 0; i < n; i++) {
                double z0 = eA[0] * x[2 * i] + eA[1] * x[2 * i + 1], z1 = eA[2] * x[2 * i] + eA[3] * x[2 * i + 1];
                double want = -0.5 * (z0 * z0 + z1 * z1) - Math.log(2 * Math.PI) + (A[0] + A[3]);
                // dopri5 at 1e-10 on a linear system of norm ~1 over [0, 1]: global error ~1e-9.
                assertEquals(want, lp[i], 1e-7, "log p of row " + i);
            }
            // Samples: the z the sampler draws (SplittableRandom(seed), row by row), mapped by e^{-A}.
            try (Tensor s = CNFDensity.sample(flow, n, 42)) {
                SplittableRandom g = new SplittableRandom(42);
                for (int i = 0; i < n; i++) {
                    double za = g.nextGaussian(), zb = g.nextGaussian();
                    assertEquals(emA[0] * za + emA[1] * zb, s.get(i, 0), 1e-7, "sample " + i + ", x0");
                    assertEquals(emA[2] * za + emA[3] * zb, s.get(i, 1), 1e-7, "sample " + i + ", x1");
                }
            }
        }
    }

    /** e^{sA} for a 2 x 2 A (row-major) by its Taylor series (|sA| ~ 1: 40 terms reach 1e-40). */
    private static double[] expm(double[] a, double s) {
        double[] sum = {1, 0, 0, 1}, term = {1, 0, 0, 1};
        for (int k = 1; k < 40; k++) {
            double[] next = {
                (term[0] * a[0] + term[1] * a[2]) * s / k, (term[0] * a[1] + term[1] * a[3]) * s / k,
                (term[2] * a[0] + term[3] * a[2]) * s / k, (term[2] * a[1] + term[3] * a[3]) * s / k};
            term = next;
            for (int j = 0; j < 4; j++) sum[j] += term[j];
        }
        return sum;
    }

    @Test
    void badShapesAreNamed() {
        Fn wrongWidth = (t, z, p) -> p.linear("0", z, 5);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> NeuralField.of(new CNF(wrongWidth), 3, DType.FLOAT64, 0).close());
        assertTrue(e.getMessage().contains("CNF: the net must map z [-1, 2] to [-1, 2]"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new CNF(MLP, TraceEstimator.AUTOGRAD_TRACE, CNF.NoiseDist.GAUSSIAN));
        assertTrue(e.getMessage().contains("needs no noise"), e.getMessage());
    }
}
