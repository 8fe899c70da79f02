package io.jdyn.e2e;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jdyn.DType;
import io.jdyn.Tensor;
import io.jdyn.models.AugmenterBlock;
import io.jdyn.models.Block;
import io.jdyn.models.LayerBlock;
import io.jdyn.models.NeuralODE;
import io.jdyn.models.SequentialModel;
import io.jdyn.nn.DepthCat;
import io.jdyn.nn.Linear;
import io.jdyn.nn.NeuralField;
import io.jdyn.nn.Sequential;
import io.jdyn.nn.Tanh;
import io.jdyn.ode.Odeint;
import io.jdyn.ode.Sensitivity;
import io.jdyn.ode.Solution;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.DoubleSupplier;
import org.junit.jupiter.api.Test;

/** torchdyn's NeuralODE on jdyn: shapes, values, gradients, composition, order 2, summary, NFE. */
class NeuralOdeTest {
    private static final Sequential FIG2 = Sequential.of(new DepthCat(), new Linear(3, 64), new Tanh(), new Linear(64, 2));

    private static double[] random(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        double[] v = new double[n];
        for (int i = 0; i < n; i++) v[i] = r.nextDouble(-1, 1);
        return v;
    }

    private static double dot(double[] a, Tensor t) {
        double[] b = t.toDoubleArray();
        assertEquals(a.length, b.length);
        double s = 0;
        for (int i = 0; i < a.length; i++) s += a[i] * b[i];
        return s;
    }

    private static double central(java.util.function.DoubleUnaryOperator f, double h) {
        return (f.applyAsDouble(h) - f.applyAsDouble(-h)) / (2 * h);
    }

    private static void close(String what, double want, double got, double rel, List<String> bad) {
        if (!(Math.abs(want - got) <= rel * Math.max(1, Math.abs(want)))) bad.add(what + ": fd " + want + " analytic " + got);
    }

    @Test
    void forwardAndTrajectoryMatchAPlainSolveInFloat32ByDefault() {
        try (NeuralODE model = NeuralODE.builder(FIG2, 2).seed(7).build();
                Tensor x = Tensor.of(DType.FLOAT32, random(16, 1), 8, 2)) {
            assertEquals(DType.FLOAT32, model.dtype());
            assertEquals(386, model.numParams(), "Figure 2's parameter count");
            double[] span = {0, 0.5, 1, 1.5, 2};
            try (Tensor y = model.forward(x); Tensor traj = model.trajectory(x, span);
                    NeuralODE.Result r = model.forward(x, span);
                    Solution ref1 = Odeint.odeint(model.field(), x, new double[] {0, 1}, model.solveOptions(new double[] {0, 1}));
                    Solution ref = Odeint.odeint(model.field(), x, span, model.solveOptions(span))) {
                assertArrayEquals(new long[] {8, 2}, y.shape());
                assertArrayEquals(new long[] {5, 8, 2}, traj.shape());
                assertArrayEquals(span, r.tEval());
                assertArrayEquals(ref.ys().toDoubleArray(), traj.toDoubleArray(), 0.0);
                assertArrayEquals(ref.ys().toDoubleArray(), r.trajectory().toDoubleArray(), 0.0);
                double[] last = ref1.ys().toDoubleArray();
                assertArrayEquals(java.util.Arrays.copyOfRange(last, 16, 32), y.toDoubleArray(), 0.0);
                assertEquals(DType.FLOAT32, traj.dtype());
            }
        }
    }

    @Test
    void float64AtTightToleranceAgreesWithAnIndependentJavaSolve() {
        // f(z) = W z, one Linear without bias: the flow is expm(W t) z0, compared with a fine RK4 in Java.
        try (NeuralODE model = NeuralODE.builder(Sequential.of(new Linear(2, 2, false)), 2).dtype(DType.FLOAT64)
                .rtol(1e-10).atol(1e-10).build();
                Tensor x = Tensor.of(new double[] {1, 0.5}, 1, 2)) {
            double[] w = {-0.3, 1.0, -1.0, -0.2};
            for (int i = 0; i < 4; i++) model.setParam(i, w[i]);
            try (Tensor y = model.forward(x)) {
                double[] z = {1, 0.5};
                int n = 10000;
                double h = 1.0 / n;
                for (int s = 0; s < n; s++) {
                    double[] k1 = mul(w, z), k2 = mul(w, axpy(z, h / 2, k1)), k3 = mul(w, axpy(z, h / 2, k2)),
                            k4 = mul(w, axpy(z, h, k3));
                    for (int i = 0; i < 2; i++) z[i] += h / 6 * (k1[i] + 2 * k2[i] + 2 * k3[i] + k4[i]);
                }
                assertArrayEquals(z, y.toDoubleArray(), 1e-8);
            }
        }
    }

    private static double[] mul(double[] w, double[] z) {
        return new double[] {w[0] * z[0] + w[1] * z[1], w[2] * z[0] + w[3] * z[1]};
    }

    private static double[] axpy(double[] z, double a, double[] k) {
        return new double[] {z[0] + a * k[0], z[1] + a * k[1]};
    }

    /** Checks dL/dx and dL/dtheta of L = <c, block(x)> against central differences. */
    private static void checkBlockGradient(Block model, double[] x0, int batch, long seed, double eps, double rel) {
        int out = model.outFeatures(), in = model.inFeatures();
        double[] c = random(batch * out, seed);
        DType dt = model.dtype();
        double[] gx;
        double[] gp;
        model.zeroGrad();
        try (Tensor x = Tensor.of(dt, x0, batch, in); Block.Trace t = model.trace(x);
                Tensor ct = Tensor.of(dt, c, batch, out)) {
            gx = t.backward(ct).toDoubleArray();
            gp = model.grad();
        }
        List<String> bad = new ArrayList<>();
        for (int i = 0; i < x0.length; i++) {
            final int k = i;
            double fd = central(h -> {
                double[] xp = x0.clone();
                xp[k] += h;
                try (Tensor x = Tensor.of(dt, xp, batch, in); Tensor y = model.forward(x)) {
                    return dot(c, y);
                }
            }, eps);
            close("x[" + i + "]", fd, gx[i], rel, bad);
        }
        for (int i = 0; i < model.numParams(); i++) {
            final int k = i;
            double orig = model.param(k);
            double fd = central(h -> {
                model.setParam(k, orig + h);
                try (Tensor x = Tensor.of(dt, x0, batch, in); Tensor y = model.forward(x)) {
                    return dot(c, y);
                } finally {
                    model.setParam(k, orig);
                }
            }, eps);
            close("theta[" + i + "]", fd, gp[i], rel, bad);
        }
        assertTrue(bad.isEmpty(), model.getClass().getSimpleName() + ": " + bad);
    }

    @Test
    void gradientsOfEverySensitivityMatchFiniteDifferences() {
        for (Sensitivity s : Sensitivity.values()) {
            try (NeuralODE model = NeuralODE.builder(Sequential.of(new DepthCat(), new Linear(3, 4), new Tanh(),
                    new Linear(4, 2)), 2).dtype(DType.FLOAT64).seed(3).sensitivity(s).rtol(1e-10).atol(1e-10)
                    .rtolAdjoint(1e-10).atolAdjoint(1e-10).build()) {
                checkBlockGradient(model, random(6, 11), 3, 12, 1e-5, 2e-6);
            }
        }
    }

    @Test
    void trajectoryTraceTakesACotangentAtEveryTime() {
        double[] span = {0, 0.3, 0.7, 1.2};
        try (NeuralODE model = NeuralODE.builder(Sequential.of(new Linear(2, 3), new Tanh(), new Linear(3, 2)), 2)
                .dtype(DType.FLOAT64).seed(5).sensitivity("interpolated_adjoint").rtol(1e-10).atol(1e-10)
                .rtolAdjoint(1e-10).atolAdjoint(1e-10).build()) {
            double[] x0 = random(4, 2), c = random(4 * 2 * 2, 3);
            double[] gx;
            double[] gp;
            try (Tensor x = Tensor.of(x0, 2, 2); NeuralODE.Trace t = model.trace(x, span); Tensor ct = Tensor.of(c, 4, 2, 2)) {
                assertArrayEquals(new long[] {4, 2, 2}, t.output().shape());
                assertArrayEquals(span, t.ts());
                gx = t.backward(ct).toDoubleArray();
                gp = model.grad();
                assertTrue(t.gradients().backwardStats().nfe() > 0);
            }
            List<String> bad = new ArrayList<>();
            for (int i = 0; i < model.numParams(); i++) {
                final int k = i;
                double orig = model.param(k);
                double fd = central(h -> {
                    model.setParam(k, orig + h);
                    try (Tensor x = Tensor.of(x0, 2, 2); Tensor y = model.trajectory(x, span)) {
                        return dot(c, y);
                    } finally {
                        model.setParam(k, orig);
                    }
                }, 1e-5);
                close("theta[" + i + "]", fd, gp[i], 2e-6, bad);
            }
            double fd0 = central(h -> {
                double[] xp = x0.clone();
                xp[0] += h;
                try (Tensor x = Tensor.of(xp, 2, 2); Tensor y = model.trajectory(x, span)) {
                    return dot(c, y);
                }
            }, 1e-5);
            close("x[0]", fd0, gx[0], 2e-6, bad);
            assertTrue(bad.isEmpty(), bad.toString());
        }
    }

    @Test
    void encoderOdeDecoderGradientsMatchFiniteDifferences() {
        DType f64 = DType.FLOAT64;
        try (SequentialModel m = SequentialModel.of(
                LayerBlock.of(Sequential.of(new Linear(2, 3), new Tanh()), 2, f64, 1),
                AugmenterBlock.of(3, 1, f64),
                NeuralODE.builder(Sequential.of(new Linear(4, 5), new Tanh(), new Linear(5, 4)), 4).dtype(f64).seed(2)
                        .sensitivity("adjoint").rtol(1e-10).atol(1e-10).rtolAdjoint(1e-10).atolAdjoint(1e-10).build(),
                LayerBlock.of(Sequential.of(new Linear(4, 3), new Tanh(), new Linear(3, 1)), 4, f64, 3))) {
            assertTrue(((LayerBlock) m.get(0)).isNative(), "a widening stack runs natively");
            assertTrue(((LayerBlock) m.get(3)).isNative(), "a narrowing stack runs natively");
            assertEquals(9 + 0 + 49 + 19, m.numParams());
            int batch = 3;
            double[] x0 = random(batch * 2, 21), c = random(batch, 22);
            m.zeroGrad();
            double[] gx;
            List<double[]> gps = new ArrayList<>();
            try (Tensor x = Tensor.of(x0, batch, 2); SequentialModel.Trace t = m.trace(x); Tensor ct = Tensor.of(c, batch, 1)) {
                assertArrayEquals(new long[] {batch, 1}, t.output().shape());
                try (Tensor y = m.forward(x)) {
                    assertArrayEquals(y.toDoubleArray(), t.output().toDoubleArray(), 1e-12);
                }
                gx = t.backward(ct).toDoubleArray();
                for (Block b : m.blocks()) gps.add(b.grad());
            }
            DoubleSupplier loss = () -> {
                try (Tensor x = Tensor.of(x0, batch, 2); Tensor y = m.forward(x)) {
                    return dot(c, y);
                }
            };
            List<String> bad = new ArrayList<>();
            for (int i = 0; i < x0.length; i++) {
                final int k = i;
                double fd = central(h -> {
                    double[] xp = x0.clone();
                    xp[k] += h;
                    try (Tensor x = Tensor.of(xp, batch, 2); Tensor y = m.forward(x)) {
                        return dot(c, y);
                    }
                }, 1e-5);
                close("x[" + i + "]", fd, gx[i], 2e-6, bad);
            }
            for (int bi = 0; bi < m.blocks().size(); bi++) {
                Block b = m.get(bi);
                for (int i = 0; i < b.numParams(); i++) {
                    final int k = i;
                    double orig = b.param(k);
                    double fd = central(h -> {
                        b.setParam(k, orig + h);
                        try {
                            return loss.getAsDouble();
                        } finally {
                            b.setParam(k, orig);
                        }
                    }, 1e-5);
                    close("block " + bi + " theta[" + i + "]", fd, gps.get(bi)[i], 2e-6, bad);
                }
            }
            assertTrue(bad.isEmpty(), bad.toString());
        }
    }

    @Test
    void widenAndNarrowLayerBlocksComputeTheLayers() {
        // A widening and a narrowing native stack against the same layers computed by hand.
        try (LayerBlock enc = LayerBlock.of(Sequential.of(new Linear(2, 3), new Tanh()), 2, DType.FLOAT64, 4);
                Tensor x = Tensor.of(new double[] {0.4, -0.7}, 1, 2); Tensor y = enc.forward(x)) {
            for (int r = 0; r < 3; r++) {
                double u = enc.param(6 + r) + enc.param(r * 2) * 0.4 + enc.param(r * 2 + 1) * -0.7;
                assertEquals(Math.tanh(u), y.get(0, r), 1e-14);
            }
            for (int i = 0; i < 9; i++) assertTrue(Math.abs(enc.param(i)) <= 1 / Math.sqrt(2), "PyTorch's init bound");
        }
        try (LayerBlock dec = LayerBlock.of(Sequential.of(new Linear(3, 1)), 3, DType.FLOAT64, 4);
                Tensor x = Tensor.of(new double[] {0.4, -0.7, 0.2}, 1, 3); Tensor y = dec.forward(x)) {
            assertArrayEquals(new long[] {1, 1}, y.shape());
            double want = dec.param(3) + dec.param(0) * 0.4 - dec.param(1) * 0.7 + dec.param(2) * 0.2;
            assertEquals(want, y.get(0, 0), 1e-14);
        }
    }

    @Test
    void wideningEncoderRunsNativelyWithFiniteDifferenceGradients() {
        DType dt = DType.FLOAT64;
        try (LayerBlock enc = LayerBlock.of(Sequential.of(new DepthCat(), new Linear(3, 4), new Tanh(),
                new Linear(4, 6)), 2, dt, 5)) {
            assertTrue(enc.isNative(), "a widening stack runs natively");
            assertEquals(2, enc.inFeatures());
            assertEquals(6, enc.outFeatures());
            assertEquals(16 + 30, enc.numParams());
            try (Tensor x = Tensor.of(dt, random(6, 41), 3, 2); Tensor y = enc.forward(x)) {
                assertArrayEquals(new long[] {3, 6}, y.shape());
            }
            checkBlockGradient(enc, random(6, 42), 3, 43, 1e-6, 1e-7);
        }
    }

    @Test
    void nonSquareLayerProgramRunsNativelyButCannotBeSolved() {
        DType f64 = DType.FLOAT64;
        try (NeuralField enc = NeuralField.layers(Sequential.of(new Linear(2, 5), new Tanh()), 2, f64, 7);
                Tensor x = Tensor.of(random(4, 51), 2, 2); Tensor y = enc.forward(0, x);
                Tensor v = Tensor.of(random(10, 52), 2, 5); NeuralField.Vjp g = enc.vjp(0, x, v);
                Tensor u = Tensor.of(random(4, 53), 2, 2); Tensor j = enc.jvp(0, x, u)) {
            assertFalse(enc.isVectorField());
            assertEquals(2, enc.dimIn());
            assertEquals(5, enc.dimOut());
            assertArrayEquals(new long[] {2, 5}, y.shape());
            assertArrayEquals(new long[] {2, 2}, g.gz().shape());
            assertArrayEquals(new long[] {2, 5}, j.shape());
            // <v, J u> = <J^T v, u> row by row.
            double lhs = 0, rhs = 0;
            double[] vv = v.toDoubleArray(), jj = j.toDoubleArray(), gg = g.gz().toDoubleArray(), uu = u.toDoubleArray();
            for (int i = 0; i < vv.length; i++) lhs += vv[i] * jj[i];
            for (int i = 0; i < uu.length; i++) rhs += gg[i] * uu[i];
            assertEquals(lhs, rhs, 1e-12);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> Odeint.odeint(enc, x, new double[] {0, 1}));
            assertTrue(e.getMessage().contains("2") && e.getMessage().contains("5"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> NeuralODE.of(enc));
        }
        assertThrows(IllegalArgumentException.class,
                () -> NeuralField.of(Sequential.of(new Linear(2, 5)), 2, f64, 1), "of keeps the vector-field check");
    }

    @Test
    void augmenterPadsZerosFirstAsTorchdyn() {
        try (AugmenterBlock a = AugmenterBlock.of(2, 2, DType.FLOAT32);
                AugmenterBlock b = AugmenterBlock.of(2, 1, "last", DType.FLOAT32);
                Tensor x = Tensor.of(new float[] {1, 2, 3, 4}, 2, 2); Tensor ya = a.forward(x); Tensor yb = b.forward(x)) {
            assertArrayEquals(new double[] {0, 0, 1, 2, 0, 0, 3, 4}, ya.toDoubleArray(), 0.0);
            assertArrayEquals(new double[] {1, 2, 0, 3, 4, 0}, yb.toDoubleArray(), 0.0);
        }
    }

    @Test
    void secondOrderHarmonicOscillator() {
        // net([x, v]) = -x: x'' = -x, x(s) = x0 cos s + v0 sin s.
        try (NeuralODE model = NeuralODE.builder(Sequential.of(new Linear(2, 1, false)), 2).order(2)
                .dtype(DType.FLOAT64).rtol(1e-10).atol(1e-10).build();
                Tensor x = Tensor.of(new double[] {1, 0, 0.5, -1}, 2, 2)) {
            assertEquals(2, model.order());
            assertEquals(2, model.numParams());
            model.setParam(0, -1);
            model.setParam(1, 0);
            double[] span = {0, 0.5, 1, 2, 3};
            try (Tensor traj = model.trajectory(x, span)) {
                double[][] init = {{1, 0}, {0.5, -1}};
                for (int k = 0; k < span.length; k++) {
                    double s = span[k];
                    for (int b = 0; b < 2; b++) {
                        double x0 = init[b][0], v0 = init[b][1];
                        assertEquals(x0 * Math.cos(s) + v0 * Math.sin(s), traj.get(k, b, 0), 1e-8);
                        assertEquals(-x0 * Math.sin(s) + v0 * Math.cos(s), traj.get(k, b, 1), 1e-8);
                    }
                }
            }
            // dL/dtheta at the oscillator for L = x(1) of the first row, autograd through the steps.
            model.zeroGrad();
            try (NeuralODE.Trace t = model.trace(x); Tensor c = Tensor.of(new double[] {1, 0, 0, 0}, 2, 2)) {
                double[] gx = t.backward(c).toDoubleArray();
                // d x(1) / d x0 = cos 1, d x(1) / d v0 = sin 1.
                assertEquals(Math.cos(1), gx[0], 1e-7);
                assertEquals(Math.sin(1), gx[1], 1e-7);
                assertEquals(0, gx[2], 0.0);
            }
        }
    }

    @Test
    void secondOrderGradientsMatchFiniteDifferences() {
        for (Sensitivity s : Sensitivity.values()) {
            try (NeuralODE model = NeuralODE.builder(Sequential.of(new DepthCat(), new Linear(5, 4), new Tanh(),
                    new Linear(4, 2)), 4).order(2).dtype(DType.FLOAT64).seed(9).sensitivity(s).rtol(1e-10).atol(1e-10)
                    .rtolAdjoint(1e-10).atolAdjoint(1e-10).build()) {
                checkBlockGradient(model, random(8, 31), 2, 32, 1e-5, 2e-6);
                assertTrue(model.backwardNfe() > 0);
            }
        }
    }

    @Test
    void summaryAndNfeCounters() {
        try (NeuralODE model = NeuralODE.builder(FIG2, 2).sensitivity("adjoint").solver("dopri5").seed(1).build();
                Tensor x = Tensor.of(new float[256], 128, 2)) {
            assertEquals(0, model.nfe());
            try (Tensor y = model.forward(x)) {
                assertArrayEquals(new long[] {128, 2}, y.shape());
            }
            long f = model.forwardNfe();
            assertTrue(f > 0, "forward NFE " + f);
            assertEquals(0, model.backwardNfe());
            try (NeuralODE.Trace t = model.trace(x); Tensor c = Tensor.of(new float[256], 128, 2)) {
                t.backward(c);
            }
            assertTrue(model.forwardNfe() > f);
            assertTrue(model.backwardNfe() > 0);
            assertEquals(model.forwardNfe() + model.backwardNfe(), model.nfe());
            String s = model.toString();
            for (String want : new String[] {"order: 1", "solver: dopri5", "integration interval: 0.0 to 1.0",
                    "tolerances: relative 0.0001 absolute 0.0001", "sensitivity: adjoint", "num_parameters: 386",
                    "NFE: " + model.nfe(), "(0): DepthCat(idx_cat=1)",
                    "(1): Linear(in_features=3, out_features=64, bias=True)", "(2): Tanh()",
                    "(3): Linear(in_features=64, out_features=2, bias=True)"}) {
                assertTrue(s.contains(want), "summary lacks '" + want + "':\n" + s);
            }
            model.resetNfe();
            assertEquals(0, model.nfe());
        }
    }

    @Test
    void builderChecks() {
        assertThrows(IllegalArgumentException.class, () -> NeuralODE.builder(FIG2, 2).order(3));
        assertThrows(IllegalArgumentException.class, () -> NeuralODE.builder(FIG2, 2).solver("nope"));
        assertThrows(IllegalArgumentException.class, () -> NeuralODE.builder(FIG2, 2).sensitivity("nope"));
        assertThrows(IllegalArgumentException.class, () -> NeuralODE.builder(FIG2, 2).rtol(0));
        assertThrows(IllegalArgumentException.class, () -> NeuralODE.builder(FIG2, 2).order(2).build(),
                "order 2 needs a net from [x, v] to the acceleration");
        try (NeuralODE rk4 = NeuralODE.builder(Sequential.of(new Linear(2, 2)), 2).solver("rk4").seed(1).build();
                Tensor x = Tensor.of(new float[] {1, 2}, 1, 2); Tensor y = rk4.forward(x)) {
            assertEquals(4, rk4.forwardNfe(), "a fixed-step solver steps on the evaluation times: one rk4 step");
            assertArrayEquals(new long[] {1, 2}, y.shape());
        }
    }

    @Test
    void takenOutputOutlivesTheTraceAndBackwardStillRuns() {
        Sequential f = Sequential.of(new Linear(2, 8), new Tanh(), new Linear(8, 2));
        try (NeuralODE m = NeuralODE.builder(f, 2).solver("dopri5").seed(1).build();
                Tensor x = Tensor.of(DType.FLOAT32, new double[] {0.5, -0.5, 1.0, 0.25}, 2, 2);
                Tensor cot = Tensor.of(DType.FLOAT32, new double[] {1, 0, 0, 1}, 2, 2)) {
            double[] reference;
            try (Tensor y = m.forward(x)) {
                reference = y.toDoubleArray();
            }
            Tensor out;
            try (NeuralODE.Trace t = m.trace(x)) {
                out = t.takeOutput();
                out.close(); // the caller's to close, even before backward: the trace keeps the shape
                assertTrue(out.isClosed());
            }
            try (NeuralODE.Trace t = m.trace(x)) {
                out = t.takeOutput();
                t.backward(cot);
            }
            assertFalse(out.isClosed(), "closing the trace must leave a taken output alone");
            assertArrayEquals(reference, out.toDoubleArray(), 1e-6);
            out.close();
            try (NeuralODE.Trace t = m.trace(x, new double[] {0, 1})) {
                assertThrows(IllegalStateException.class, t::takeOutput);
            }
        }
    }
}
