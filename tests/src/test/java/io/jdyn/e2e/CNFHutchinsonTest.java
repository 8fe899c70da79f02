package io.jdyn.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jdyn.DType;
import io.jdyn.Tensor;
import io.jdyn.fn.Fn;
import io.jdyn.models.CNF;
import io.jdyn.models.NeuralODE;
import io.jdyn.models.TraceEstimator;
import io.jdyn.nn.NeuralField;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Hutchinson's estimator in the CNF field: unbiased (its mean over many noise draws matches the exact
 * trace within a few standard errors, Gaussian and Rademacher noise) and fixed within a solve (on a linear
 * flow the estimate eps^T A eps is constant in t, so a solve's dlogp(1) is exactly minus the estimate of
 * the draw it ran with; a noise that changed between evaluations would mix draws).
 */
class CNFHutchinsonTest {
    private static final int N = 6, D = 3;

    private static double[] points(long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        double[] x = new double[N * (D + 1)];
        for (int i = 0; i < x.length; i++) x[i] = r.nextDouble(-1.5, 1.5);
        return x;
    }

    /** Column 0 of the field at (t, x): -trace (or its estimate) per row. */
    private static double[] minusTrace(NeuralField f, double t, double[] x) {
        try (Tensor xt = Tensor.of(x, N, D + 1); Tensor y = f.forward(t, xt)) {
            double[] v = new double[N];
            for (int i = 0; i < N; i++) v[i] = y.get(i, 0);
            return v;
        }
    }

    @Test
    void theEstimateIsUnbiasedForBothNoises() {
        double t = 0.4;
        double[] x = points(21);
        try (NeuralField exact = NeuralField.of(new CNF(CNFTraceTest.MLP), D + 1, DType.FLOAT64, 5)) {
            double[] tr = minusTrace(exact, t, x);
            for (CNF.NoiseDist dist : CNF.NoiseDist.values()) {
                try (NeuralField hutch = NeuralField.of(new CNF(CNFTraceTest.MLP, TraceEstimator.HUTCH_TRACE, dist), D + 1,
                        DType.FLOAT64, 5)) {
                    assertEquals(1, hutch.noiseSeeds().size());
                    assertEquals("noise", hutch.noiseSeeds().get(0).name());
                    for (String name : exact.parameters().names()) hutch.parameters().set(name, exact.parameters().get(name));
                    int draws = 4000;
                    double[] sum = new double[N], sq = new double[N];
                    for (int k = 0; k < draws; k++) {
                        hutch.drawNoise(k);
                        double[] e = minusTrace(hutch, t, x);
                        for (int i = 0; i < N; i++) {
                            sum[i] += e[i];
                            sq[i] += e[i] * e[i];
                        }
                    }
                    for (int i = 0; i < N; i++) {
                        double mean = sum[i] / draws, sd = Math.sqrt(sq[i] / draws - mean * mean);
                        double se = sd / Math.sqrt(draws);
                        assertTrue(sd > 1e-6, dist + " row " + i + ": the estimate does not vary over draws");
                        // 6 rows x 2 noises: a 4.5-standard-error band fails by chance with probability ~1e-4.
                        assertEquals(tr[i], mean, 4.5 * se, dist + " row " + i + ": mean of " + draws + " estimates (sd "
                                + sd + ") against the exact trace");
                    }
                }
            }
        }
    }

    /** A = [[0.3, -0.8, 0.2], [0.5, -0.6, 0.1], [-0.4, 0.7, 0.9]]. */
    private static final double[] A = {0.3, -0.8, 0.2, 0.5, -0.6, 0.1, -0.4, 0.7, 0.9};
    private static final Fn LINEAR = (t, z, p) -> z.matmul(p.graph().constant(A, D, D), false, true);

    @Test
    void theNoiseIsFixedWithinASolveAndNewAcrossSolves() {
        double[] x = points(8);
        for (CNF.NoiseDist dist : CNF.NoiseDist.values()) {
            try (NeuralODE flow = NeuralODE.builder(new CNF(LINEAR, TraceEstimator.HUTCH_TRACE, dist), D + 1)
                    .dtype(DType.FLOAT64).rtol(1e-10).atol(1e-10).seed(3).build(); Tensor xt = Tensor.of(x, N, D + 1)) {
                double[] previous = null;
                for (int solve = 0; solve < 3; solve++) {
                    double[] dlogp = new double[N];
                    try (Tensor y = flow.forward(xt)) {
                        for (int i = 0; i < N; i++) dlogp[i] = y.get(i, 0) - x[i * (D + 1)];
                    }
                    // The draw the solve ran with is still set: the field at any t gives its -eps^T A eps.
                    double[] est = minusTrace(flow.field(), 0.77, x);
                    for (int i = 0; i < N; i++) {
                        // dopri5 integrates a constant exactly; 1e-12 is rounding.
                        assertEquals(est[i], dlogp[i], 1e-12, dist + " solve " + solve + " row " + i);
                    }
                    if (previous != null) assertNotEquals(previous[0], dlogp[0], dist + ": solves " + (solve - 1) + " and " + solve);
                    previous = dlogp;
                }
            }
        }
    }
}
