package io.jdyn.e2e;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jdyn.DType;
import io.jdyn.Tensor;
import io.jdyn.fn.Fn;
import io.jdyn.fn.Init;
import io.jdyn.fn.Sym;
import io.jdyn.models.IntegralCost;
import io.jdyn.models.NeuralODE;
import io.jdyn.models.Regularizers;
import io.jdyn.nn.Linear;
import io.jdyn.nn.NeuralField;
import io.jdyn.nn.Sequential;
import io.jdyn.nn.Tanh;
import io.jdyn.ode.Sensitivity;
import io.jdyn.train.loss.Reduction;
import java.util.function.DoubleSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Integral losses written as programs ({@link IntegralCost}) on NeuralODE: the integral and its
 * gradients in y0, t0, T and the parameters against closed forms and finite differences for all three
 * sensitivities (autograd's time gradient included, which a Java IntegralLoss callback cannot give),
 * the batch-level and per-sample forms, the regularisers (Hutchinson's Frobenius estimate is unbiased
 * and its noise is fixed within a solve, restored for the backward pass), and the refusals.
 */
class IntegralCostTest {
    /** dz/dt = -z. */
    private static final Fn DECAY = (t, z, p) -> z.neg();
    /** l(t, z) = (1 + t) |z|^2 / 2 per sample: depends on t explicitly. */
    private static final IntegralCost TIMED = (t, z, dz, p) -> z.square().sum(-1, true).mul(0.5).mul(t.add(1.0));

    private static NeuralODE.Builder decay(Sensitivity s, double t0, double t1) {
        return NeuralODE.builder(DECAY, 2).dtype(DType.FLOAT64).sensitivity(s).rtol(1e-11).atol(1e-12)
                .rtolAdjoint(1e-11).atolAdjoint(1e-12).sSpan(t0, t1);
    }

    @ParameterizedTest
    @EnumSource(Sensitivity.class)
    void timeDependentCostHasItsClosedFormAndGradientsInY0AndBothTimes(Sensitivity mode) {
        // z = z0 e^-(t - t0): I = |z0|^2 / 2 * int_t0^T (1 + t) e^-2(t - t0) dt. At t0 = 0:
        // I = |z0|^2/2 * (3 - e^-2T (2T + 3)) / 4, dI/dz0 = z0 (3 - e^-2T (2T + 3)) / 4,
        // dI/dT = l(T, z(T)), dI/dt0 = -l(t0, z0) + 2 I (the trajectory shifts with t0 while l keeps t).
        double[] z0 = {0.3, -1.2, 0.7, 2.0};
        double tEnd = 1.3;
        double e = Math.exp(-2 * tEnd);
        double k = (3 - e * (2 * tEnd + 3)) / 4;
        try (NeuralODE model = decay(mode, 0, tEnd).integralLoss(TIMED).build(); Tensor x = Tensor.of(z0, 2, 2);
                NeuralODE.Trace tr = model.trace(x); Tensor gy = tr.backwardIntegral()) {
            double sq0 = 0.3 * 0.3 + 1.2 * 1.2, sq1 = 0.7 * 0.7 + 2.0 * 2.0;
            double integral = 0.5 * (sq0 + sq1) * k;
            assertEquals(integral, tr.integralLoss(), 1e-9);
            assertArrayEquals(new long[] {2, 2}, tr.output().shape(), "the cost column is hidden");
            double[] g = gy.toDoubleArray();
            for (int i = 0; i < 4; i++) assertEquals(z0[i] * k, g[i], 1e-7, "dI/dz0[" + i + "]");
            double[] gt = tr.gradients().times();
            double lEnd = (1 + tEnd) * 0.5 * (sq0 + sq1) * e;
            assertEquals(lEnd, gt[1], 1e-7, "dI/dT");
            assertEquals(-0.5 * (sq0 + sq1) + 2 * integral, gt[0], 1e-7, "dI/dt0");
        }
    }

    @ParameterizedTest
    @EnumSource(Sensitivity.class)
    void parameterGradientsOfStateAndIntegralLossesMatchFiniteDifferences(Sensitivity mode) {
        // L = sum(w . z(1)) + mean over the batch of int |f|^2 (the kinetic energy), w fixed.
        Sequential net = Sequential.of(new Linear(2, 5), new Tanh(), new Linear(5, 2));
        double[] x0 = {0.5, -0.4, -1.1, 0.8, 0.2, 0.3};
        double[] w = {0.7, -0.3, 0.2, 0.9, -0.5, 0.4};
        try (NeuralODE model = NeuralODE.builder(net, 2).dtype(DType.FLOAT64).seed(3).sensitivity(mode).rtol(1e-10)
                .atol(1e-10).rtolAdjoint(1e-10).atolAdjoint(1e-10)
                .integralLoss(Regularizers.kineticEnergy().times(0.1), Reduction.MEAN).build();
                Tensor x = Tensor.of(x0, 3, 2); Tensor ct = Tensor.of(w, 3, 2)) {
            DoubleSupplier loss = () -> {
                try (NeuralODE.Trace tr = model.trace(x)) {
                    double[] y = tr.output().toDoubleArray();
                    double s = tr.integralLoss();
                    for (int i = 0; i < y.length; i++) s += w[i] * y[i];
                    return s;
                }
            };
            model.zeroGrad();
            double[] gx;
            try (NeuralODE.Trace tr = model.trace(x); Tensor g = tr.backward(ct)) {
                gx = g.toDoubleArray();
            }
            double[] grad = model.grad();
            // Central differences, h = 1e-5: truncation O(h^2) ~ 1e-10 against solver errors ~ 1e-9.
            double h = 1e-5;
            for (int i = 0; i < grad.length; i += 3) {
                double v = model.param(i);
                model.setParam(i, v + h);
                double up = loss.getAsDouble();
                model.setParam(i, v - h);
                double down = loss.getAsDouble();
                model.setParam(i, v);
                assertEquals((up - down) / (2 * h), grad[i], 2e-6, "dL/dtheta[" + i + "]");
            }
            for (int i = 0; i < x0.length; i++) {
                double[] xp = x0.clone(), xm = x0.clone();
                xp[i] += h;
                xm[i] -= h;
                double up, down;
                try (Tensor a = Tensor.of(xp, 3, 2); NeuralODE.Trace tr = model.trace(a)) {
                    up = tr.integralLoss() + dot(w, tr.output().toDoubleArray());
                }
                try (Tensor a = Tensor.of(xm, 3, 2); NeuralODE.Trace tr = model.trace(a)) {
                    down = tr.integralLoss() + dot(w, tr.output().toDoubleArray());
                }
                assertEquals((up - down) / (2 * h), gx[i], 2e-6, "dL/dx[" + i + "]");
            }
        }
    }

    private static double dot(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) s += a[i] * b[i];
        return s;
    }

    @Test
    void aCostForTheWholeBatchEqualsTheSumOfPerSampleCosts() {
        IntegralCost whole = (t, z, dz, p) -> z.square().sum();
        IntegralCost perSample = (t, z, dz, p) -> z.square().sum(-1, true);
        double[] z0 = {0.3, -1.2, 0.7, 2.0, -0.1, 0.4};
        try (NeuralODE a = decay(Sensitivity.ADJOINT, 0, 1).integralLoss(whole).build();
                NeuralODE b = decay(Sensitivity.ADJOINT, 0, 1).integralLoss(perSample).build();
                Tensor x = Tensor.of(z0, 3, 2); NeuralODE.Trace ta = a.trace(x); NeuralODE.Trace tb = b.trace(x);
                Tensor ga = ta.backwardIntegral(); Tensor gb = tb.backwardIntegral()) {
            assertEquals(tb.integralLoss(), ta.integralLoss(), 1e-10);
            assertArrayEquals(gb.toDoubleArray(), ga.toDoubleArray(), 1e-9);
        }
    }

    @Test
    void hutchinsonFrobeniusIsUnbiasedAndItsNoiseIsFreshPerSolve() {
        // The estimate's mean over independent solves against the exact |J|_F^2 integral, within 4
        // standard errors of that mean (a false failure has probability ~6e-5).
        Sequential net = Sequential.of(new Linear(3, 8), new Tanh(), new Linear(8, 3));
        double[] x0 = {0.5, -0.4, 0.1, -1.1, 0.8, 0.6};
        try (NeuralODE est = NeuralODE.builder(net, 3).dtype(DType.FLOAT64).seed(5).rtol(1e-8).atol(1e-8)
                .integralLoss(Regularizers.jacobianFrobenius()).build();
                NeuralODE exact = NeuralODE.builder(net, 3).dtype(DType.FLOAT64).seed(5).rtol(1e-8).atol(1e-8)
                        .integralLoss(Regularizers.jacobianFrobeniusExact()).build();
                Tensor x = Tensor.of(x0, 2, 3)) {
            assertEquals(1, est.field().noiseSeeds().size());
            double want;
            try (NeuralODE.Trace tr = exact.trace(x)) {
                want = tr.integralLoss();
            }
            int n = 400;
            double s = 0, s2 = 0;
            double first = Double.NaN, second = Double.NaN;
            for (int i = 0; i < n; i++) {
                try (NeuralODE.Trace tr = est.trace(x)) {
                    double v = tr.integralLoss();
                    if (i == 0) first = v;
                    if (i == 1) second = v;
                    s += v;
                    s2 += v * v;
                }
            }
            assertNotEquals(first, second, "each solve draws new noise");
            double mean = s / n, se = Math.sqrt((s2 / n - mean * mean) / n);
            assertTrue(Math.abs(mean - want) < 4 * se, "mean " + mean + " +- " + se + " against exact " + want);
        }
    }

    @Test
    void aTracesBackwardSeesItsOwnNoiseEvenAfterAnotherSolve() {
        // Two models from one seed draw the same noise sequence: one runs trace, backward; the other
        // trace, forward (which draws other noise), backward. Equal gradients mean the trace restored its draw.
        Sequential net = Sequential.of(new Linear(2, 6), new Tanh(), new Linear(6, 2));
        double[] x0 = {0.5, -0.4, -1.1, 0.8};
        try (NeuralODE a = build(net); NeuralODE b = build(net); Tensor x = Tensor.of(x0, 2, 2)) {
            a.zeroGrad();
            b.zeroGrad();
            try (NeuralODE.Trace tr = a.trace(x)) {
                tr.backwardIntegral().close();
            }
            try (NeuralODE.Trace tr = b.trace(x)) {
                double seed = b.field().noiseSeedValues()[0];
                b.forward(x).close();
                assertNotEquals(seed, b.field().noiseSeedValues()[0], "forward drew new noise");
                tr.backwardIntegral().close();
            }
            assertArrayEquals(a.grad(), b.grad(), 1e-12);
        }
    }

    private static NeuralODE build(Sequential net) {
        return NeuralODE.builder(net, 2).dtype(DType.FLOAT64).seed(9).sensitivity("adjoint")
                .integralLoss(Regularizers.jacobianFrobenius()).build();
    }

    @Test
    void badCostsAndBuildsAreRefusedByName() {
        IntegralCost wide = (t, z, dz, p) -> z;
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> decay(Sensitivity.AUTOGRAD, 0, 1).integralLoss(wide).build());
        assertTrue(e.getMessage().contains("[-1, 2]"), e.getMessage());
        try (NeuralField f = NeuralField.of(DECAY, 2, DType.FLOAT64, 1)) {
            IllegalArgumentException e2 = assertThrows(IllegalArgumentException.class,
                    () -> NeuralODE.builder(f).integralLoss(TIMED).build());
            assertTrue(e2.getMessage().contains("not from a NeuralField"), e2.getMessage());
        }
        Fn withParam = (t, z, p) -> z.mul(p.param("a", Init.constant(1), 1));
        try (NeuralODE m = NeuralODE.builder(withParam, 2).dtype(DType.FLOAT64).build(); Tensor x = Tensor.of(new double[] {1, 2}, 1, 2);
                NeuralODE.Trace tr = m.trace(x)) {
            assertTrue(Double.isNaN(tr.integralLoss()));
            assertThrows(IllegalStateException.class, tr::backwardIntegral);
        }
    }
}
