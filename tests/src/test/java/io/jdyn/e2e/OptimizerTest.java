package io.jdyn.e2e;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jdyn.DType;
import io.jdyn.Tensor;
import io.jdyn.nn.Linear;
import io.jdyn.nn.NeuralField;
import io.jdyn.nn.Parameters;
import io.jdyn.nn.Sequential;
import io.jdyn.nn.Tanh;
import io.jdyn.ode.GradOptions;
import io.jdyn.ode.GradSolution;
import io.jdyn.ode.Odeint;
import io.jdyn.ode.Sensitivity;
import io.jdyn.train.loss.Cotangents;
import io.jdyn.train.loss.LossValue;
import io.jdyn.train.loss.MSELoss;
import io.jdyn.train.optim.Adam;
import io.jdyn.train.optim.AdamW;
import io.jdyn.train.optim.CosineAnnealingLR;
import io.jdyn.train.optim.GradClip;
import io.jdyn.train.optim.NonFiniteGradientException;
import io.jdyn.train.optim.Optimizer;
import io.jdyn.train.optim.SGD;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * SGD, Adam and AdamW through the native steps against references written here from PyTorch's
 * formulas, on a quadratic over the flat parameters of a NeuralField; frozen layers, clipping, failures,
 * and a small training loop through odeint.
 */
class OptimizerTest {
    /** Linear(2, 3), Tanh, Linear(3, 2): 9 + 0 + 8 = 17 parameters in three layers. */
    private static NeuralField field(DType dtype) {
        return NeuralField.of(Sequential.of(new Linear(2, 3), new Tanh(), new Linear(3, 2)), 2, dtype, 11);
    }

    /** L = sum_i a_i (p_i - c_i)^2 / 2 + a small drift, so that every step's gradient differs. */
    private static double grad(double p, int i, int step) {
        return (0.5 + 0.2 * i) * (p - 0.1 * i) + 0.03 * Math.sin(step + i);
    }

    private static double[] writeGrads(Parameters p, int step) {
        double[] v = p.values().toDoubleArray();
        double[] g = new double[v.length];
        for (int i = 0; i < v.length; i++) g[i] = grad(v[i], i, step);
        p.grad().nativeBuffer().copyFrom(g, 0, 0, g.length);
        return p.grad().toDoubleArray(); // as stored (rounded in float32)
    }

    // ---- references: PyTorch's single-tensor loops, in double ----

    record SgdRef(double lr, double momentum, double dampening, double wd, boolean nesterov) {
        void step(double[] p, double[] buf, double[] g, int step) {
            for (int i = 0; i < p.length; i++) {
                double d = g[i];
                if (wd != 0) d = d + wd * p[i];
                if (momentum != 0) {
                    buf[i] = step == 1 ? d : buf[i] * momentum + (1 - dampening) * d;
                    d = nesterov ? d + momentum * buf[i] : buf[i];
                }
                p[i] = p[i] - lr * d;
            }
        }
    }

    record AdamRef(double lr, double b1, double b2, double eps, double wd, boolean decoupled) {
        void step(double[] p, double[] m, double[] v, double[] g, int step) {
            double bc1 = 1 - Math.pow(b1, step), bc2 = 1 - Math.pow(b2, step);
            for (int i = 0; i < p.length; i++) {
                double d = g[i];
                if (wd != 0) {
                    if (decoupled) p[i] = p[i] * (1 - lr * wd);
                    else d = d + wd * p[i];
                }
                m[i] = m[i] + (1 - b1) * (d - m[i]);
                v[i] = v[i] * b2 + (1 - b2) * (d * d);
                double denom = Math.sqrt(v[i]) / Math.sqrt(bc2) + eps;
                p[i] = p[i] - lr / bc1 * (m[i] / denom);
            }
        }
    }

    @Test
    void sgdVariantsMatchTheReference() {
        record Case(double lr, double momentum, double dampening, double wd, boolean nesterov) {}
        Case[] cases = {new Case(0.1, 0, 0, 0, false), new Case(0.05, 0.9, 0, 0, false), new Case(0.05, 0.9, 0.3, 0, false),
                new Case(0.05, 0.9, 0, 0, true), new Case(0.05, 0.8, 0, 0.01, true), new Case(0.1, 0, 0, 0.2, false),
                new Case(0.02, 0.5, 0.1, 0.1, false)};
        for (Case c : cases) {
            try (NeuralField f = field(DType.FLOAT64)) {
                Parameters p = f.parameters();
                double[] rp = p.values().toDoubleArray();
                double[] buf = new double[rp.length];
                SgdRef ref = new SgdRef(c.lr, c.momentum, c.dampening, c.wd, c.nesterov);
                try (SGD opt = SGD.builder(p).lr(c.lr).momentum(c.momentum).dampening(c.dampening).weightDecay(c.wd)
                        .nesterov(c.nesterov).build()) {
                    for (int s = 1; s <= 10; s++) {
                        double[] g = writeGrads(p, s);
                        opt.step();
                        ref.step(rp, buf, g, s);
                        assertArrayEquals(rp, p.values().toDoubleArray(), 1e-12, "step " + s + " of " + c);
                    }
                }
            }
        }
    }

    @Test
    void sgdNesterovFirstStepByHand() {
        try (NeuralField f = NeuralField.of(Sequential.of(new Linear(1, 1, false)), 1, DType.FLOAT64, 1)) {
            Parameters p = f.parameters();
            p.setLayerValues(0, new double[] {1.0});
            p.grad().set(0.5, 0);
            try (SGD opt = SGD.builder(p).lr(0.1).momentum(0.9).nesterov(true).build()) {
                opt.step(); // buf = 0.5, g = 0.5 + 0.9 * 0.5
                assertEquals(1 - 0.1 * 0.95, p.values().get(0), 1e-15);
                opt.step(); // buf = 0.9 * 0.5 + 0.5 = 0.95, g = 0.5 + 0.9 * 0.95
                assertEquals(1 - 0.1 * 0.95 - 0.1 * (0.5 + 0.9 * 0.95), p.values().get(0), 1e-15);
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"adam", "adam-l2", "adamw", "adamw-betas"})
    void adamVariantsMatchTheReference(String variant) {
        try (NeuralField f = field(DType.FLOAT64)) {
            Parameters p = f.parameters();
            AdamRef ref = switch (variant) {
                case "adam" -> new AdamRef(0.05, 0.9, 0.999, 1e-8, 0, false);
                case "adam-l2" -> new AdamRef(0.05, 0.9, 0.999, 1e-8, 0.1, false);
                case "adamw" -> new AdamRef(0.05, 0.9, 0.999, 1e-8, 0.1, true);
                default -> new AdamRef(0.02, 0.8, 0.99, 1e-6, 0.01, true);
            };
            Optimizer opt = ref.decoupled()
                    ? AdamW.builder(p).lr(ref.lr()).betas(ref.b1(), ref.b2()).eps(ref.eps()).weightDecay(ref.wd()).build()
                    : Adam.builder(p).lr(ref.lr()).betas(ref.b1(), ref.b2()).eps(ref.eps()).weightDecay(ref.wd()).build();
            try (opt) {
                double[] rp = p.values().toDoubleArray();
                double[] m = new double[rp.length], v = new double[rp.length];
                for (int s = 1; s <= 12; s++) {
                    double[] g = writeGrads(p, s);
                    opt.step();
                    ref.step(rp, m, v, g, s);
                    assertArrayEquals(rp, p.values().toDoubleArray(), 1e-12, variant + " step " + s);
                }
            }
        }
    }

    @Test
    void adamFloat32FollowsTheReferenceClosely() {
        try (NeuralField f = field(DType.FLOAT32); Adam opt = Adam.builder(f.parameters()).lr(0.01).build()) {
            Parameters p = f.parameters();
            AdamRef ref = new AdamRef(0.01, 0.9, 0.999, 1e-8, 0, false);
            double[] rp = p.values().toDoubleArray();
            double[] m = new double[rp.length], v = new double[rp.length];
            for (int s = 1; s <= 8; s++) {
                double[] g = writeGrads(p, s);
                opt.step();
                ref.step(rp, m, v, g, s);
                assertArrayEquals(rp, p.values().toDoubleArray(), 1e-5, "step " + s);
            }
        }
    }

    @Test
    void adamBiasCorrectionMakesTheFirstStepLrTimesTheSign() {
        try (NeuralField f = field(DType.FLOAT64); Adam opt = Adam.builder(f.parameters()).lr(0.01).build()) {
            Parameters p = f.parameters();
            double[] before = p.values().toDoubleArray();
            double[] g = writeGrads(p, 1);
            opt.step();
            double[] after = p.values().toDoubleArray();
            for (int i = 0; i < g.length; i++) {
                // m_hat = g, v_hat = g^2: the step is lr * g / (|g| + eps).
                assertEquals(before[i] - 0.01 * g[i] / (Math.abs(g[i]) + 1e-8), after[i], 1e-15, "element " + i);
            }
        }
    }

    @Test
    void defaultsAreTorchs() {
        try (NeuralField f = field(DType.FLOAT64); Adam adam = Adam.builder(f.parameters()).build();
                AdamW adamw = AdamW.builder(f.parameters()).build(); SGD sgd = SGD.builder(f.parameters()).build()) {
            assertEquals(1e-3, adam.lr());
            assertEquals(0.9, adam.beta1());
            assertEquals(0.999, adam.beta2());
            assertEquals(1e-8, adam.eps());
            assertEquals(0.0, adam.weightDecay());
            assertEquals(1e-3, adamw.lr());
            assertEquals(1e-2, adamw.weightDecay());
            assertEquals(0.9, adamw.beta1());
            assertEquals(1e-3, sgd.lr());
            assertEquals(0.0, sgd.momentum());
        }
    }

    @Test
    void frozenLayersDoNotMoveAndCountTheirOwnSteps() {
        try (NeuralField f = field(DType.FLOAT64); Adam opt = Adam.builder(f.parameters()).lr(0.05).build()) {
            Parameters p = f.parameters();
            p.freeze(0);
            AdamRef ref = new AdamRef(0.05, 0.9, 0.999, 1e-8, 0, false);
            int n = (int) p.numParams();
            double[] rp = p.values().toDoubleArray();
            double[] m = new double[n], v = new double[n];
            int off2 = (int) p.offset(2), cnt2 = (int) p.count(2), cnt0 = (int) p.count(0);
            double[] layer0 = p.layerValues(0);
            for (int s = 1; s <= 3; s++) {
                double[] g = writeGrads(p, s);
                opt.step();
                double[][] sl = slices(rp, m, v, g, off2, cnt2);
                ref.step(sl[0], sl[1], sl[2], sl[3], s);
                unslice(sl, rp, m, v, off2);
                assertArrayEquals(layer0, p.layerValues(0), 0.0, "frozen layer 0 moved");
                assertArrayEquals(rp, p.values().toDoubleArray(), 1e-12, "step " + s);
            }
            // Unfrozen: layer 0 takes its first step (bias correction at step 1) while layer 2 takes its fourth.
            p.unfreeze(0);
            double[] g = writeGrads(p, 4);
            opt.step();
            double[][] s0 = slices(rp, m, v, g, 0, cnt0);
            ref.step(s0[0], s0[1], s0[2], s0[3], 1);
            unslice(s0, rp, m, v, 0);
            double[][] s2 = slices(rp, m, v, g, off2, cnt2);
            ref.step(s2[0], s2[1], s2[2], s2[3], 4);
            unslice(s2, rp, m, v, off2);
            assertArrayEquals(rp, p.values().toDoubleArray(), 1e-12);
        }
    }

    private static double[][] slices(double[] p, double[] m, double[] v, double[] g, int off, int cnt) {
        return new double[][] {java.util.Arrays.copyOfRange(p, off, off + cnt), java.util.Arrays.copyOfRange(m, off, off + cnt),
                java.util.Arrays.copyOfRange(v, off, off + cnt), java.util.Arrays.copyOfRange(g, off, off + cnt)};
    }

    private static void unslice(double[][] s, double[] p, double[] m, double[] v, int off) {
        System.arraycopy(s[0], 0, p, off, s[0].length);
        System.arraycopy(s[1], 0, m, off, s[1].length);
        System.arraycopy(s[2], 0, v, off, s[2].length);
    }

    @Test
    void clipByNormReturnsTheNormBeforeClippingAndSkipsFrozenLayers() {
        try (NeuralField f = field(DType.FLOAT64)) {
            Parameters p = f.parameters();
            double[] g = new double[(int) p.numParams()];
            for (int i = 0; i < g.length; i++) g[i] = (i % 3 - 1) * (1 + 0.5 * i);
            p.grad().nativeBuffer().copyFrom(g, 0, 0, g.length);
            double sq = 0;
            for (double x : g) sq += x * x;
            double total = Math.sqrt(sq);
            double returned = GradClip.norm(p, 1.0);
            assertEquals(total, returned, 1e-12 * total);
            double coef = 1.0 / (total + 1e-6);
            double[] after = p.grad().toDoubleArray();
            for (int i = 0; i < g.length; i++) assertEquals(g[i] * coef, after[i], 1e-15, "element " + i);
            assertEquals(1.0, GradClip.norm(p, 1.0), 1e-6);
            // Below the maximum: unchanged.
            double[] now = p.grad().toDoubleArray();
            GradClip.norm(p, 10.0);
            assertArrayEquals(now, p.grad().toDoubleArray(), 0.0);

            // A frozen layer counts neither in the norm nor in the scaling.
            p.grad().nativeBuffer().copyFrom(g, 0, 0, g.length);
            p.freeze(0);
            int off2 = (int) p.offset(2);
            double sq2 = 0;
            for (int i = off2; i < g.length; i++) sq2 += g[i] * g[i];
            assertEquals(Math.sqrt(sq2), GradClip.norm(p, 0.5), 1e-12);
            double[] fz = p.grad().toDoubleArray();
            for (int i = 0; i < off2; i++) assertEquals(g[i], fz[i], 0.0);
            assertEquals(0.5, GradClip.norm(p, 100.0), 1e-6);

            double inf = 0;
            for (int i = off2; i < g.length; i++) inf = Math.max(inf, Math.abs(fz[i]));
            assertEquals(inf, GradClip.norm(p, 100.0, Double.POSITIVE_INFINITY), 1e-15);
        }
    }

    @Test
    void clipByValueClamps() {
        try (NeuralField f = field(DType.FLOAT32)) {
            Parameters p = f.parameters();
            double[] g = new double[(int) p.numParams()];
            for (int i = 0; i < g.length; i++) g[i] = (i - 8) * 0.25;
            p.grad().nativeBuffer().copyFrom(g, 0, 0, g.length);
            GradClip.value(p, 1.0);
            double[] after = p.grad().toDoubleArray();
            for (int i = 0; i < g.length; i++) assertEquals(Math.max(-1, Math.min(1, g[i])), after[i], 0.0);
            assertThrows(IllegalArgumentException.class, () -> GradClip.value(p, -1));
        }
    }

    @Test
    void nonFiniteGradientsNameTheirIndexAndChangeNothing() {
        try (NeuralField f = field(DType.FLOAT64); SGD opt = SGD.builder(f.parameters()).lr(0.1).momentum(0.9).build()) {
            Parameters p = f.parameters();
            writeGrads(p, 1);
            int bad = (int) p.offset(2) + 3;
            p.grad().nativeBuffer().set(bad, Double.NaN);
            double[] layer2 = p.layerValues(2);
            NonFiniteGradientException e = assertThrows(NonFiniteGradientException.class, opt::step);
            assertEquals(bad, e.index());
            assertTrue(e.getMessage().contains("gradient element " + bad + " is NaN"), e.getMessage());
            assertArrayEquals(layer2, p.layerValues(2), 0.0);

            double[] before = p.grad().toDoubleArray();
            NonFiniteGradientException c = assertThrows(NonFiniteGradientException.class, () -> GradClip.norm(p, 1.0));
            assertEquals(bad, c.index());
            assertArrayEquals(before, p.grad().toDoubleArray(), 0.0);

            p.grad().nativeBuffer().set(bad, Double.POSITIVE_INFINITY);
            NonFiniteGradientException a;
            try (AdamW adamw = AdamW.of(p, 0.01)) {
                a = assertThrows(NonFiniteGradientException.class, adamw::step);
            }
            assertTrue(a.getMessage().contains("infinite"), a.getMessage());
        }
    }

    @Test
    void argumentsAndClosedOptimizersAreRefused() {
        try (NeuralField f = field(DType.FLOAT64)) {
            Parameters p = f.parameters();
            assertTrue(assertThrows(IllegalArgumentException.class, () -> SGD.builder(p).momentum(0.9).dampening(0.1)
                    .nesterov(true).build()).getMessage().contains("nesterov"));
            assertTrue(assertThrows(IllegalArgumentException.class, () -> Adam.builder(p).betas(1.0, 0.999))
                    .getMessage().contains("beta1"));
            assertTrue(assertThrows(IllegalArgumentException.class, () -> SGD.builder(p).lr(-1)).getMessage()
                    .contains("lr"));
            SGD opt = SGD.of(p, 0.1);
            assertThrows(IllegalArgumentException.class, () -> opt.setLr(Double.NaN));
            opt.close();
            opt.close();
            assertTrue(assertThrows(IllegalStateException.class, opt::step).getMessage().contains("closed"));
        }
    }

    @Test
    void zeroGradClearsTheGradients() {
        try (NeuralField f = field(DType.FLOAT64); SGD opt = SGD.of(f.parameters(), 0.1)) {
            writeGrads(f.parameters(), 1);
            opt.zeroGrad();
            assertArrayEquals(new double[(int) f.numParams()], f.parameters().grad().toDoubleArray(), 0.0);
        }
    }

    @Test
    void aTrainingLoopThroughOdeintLowersTheLoss() {
        // Fit the flow of a NeuralField so that y(1) hits a target, loss on the last state only.
        double[] ts = {0, 0.5, 1};
        try (NeuralField f = field(DType.FLOAT64); Adam opt = Adam.of(f.parameters(), 0.05);
                Tensor y0 = Tensor.of(new double[] {0.5, -0.5, 1.0, 0.2}, 2, 2);
                Tensor target = Tensor.of(new double[] {1.0, 0.0, -0.5, 0.7}, 2, 2)) {
            CosineAnnealingLR sched = new CosineAnnealingLR(opt, 30, 0.005);
            MSELoss mse = new MSELoss();
            GradOptions go = GradOptions.builder().sensitivity(Sensitivity.ADJOINT).build();
            double first = Double.NaN, last = Double.NaN;
            for (int epoch = 0; epoch < 30; epoch++) {
                opt.zeroGrad();
                try (GradSolution s = Odeint.odeint(f, y0, ts, GradSupport.adaptive(1e-7), go);
                        Tensor yT = Cotangents.lastState(s.ys()); LossValue l = mse.compute(yT, target);
                        Tensor ct = Cotangents.atLastTime(l.grad(), ts.length)) {
                    s.backward(ct);
                    if (epoch == 0) first = l.value();
                    last = l.value();
                }
                GradClip.norm(f.parameters(), 5.0);
                opt.step();
                sched.step();
            }
            assertTrue(last < 0.5 * first, "loss went from " + first + " to " + last);
            assertEquals(0.005, opt.lr(), 1e-12);
        }
    }
}
