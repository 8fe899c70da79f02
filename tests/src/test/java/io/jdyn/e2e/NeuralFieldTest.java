package io.jdyn.e2e;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jdyn.DType;
import io.jdyn.Tensor;
import io.jdyn.TensorClosedException;
import io.jdyn.nn.Basis;
import io.jdyn.nn.DepthCat;
import io.jdyn.nn.GalLinear;
import io.jdyn.nn.Linear;
import io.jdyn.nn.NeuralField;
import io.jdyn.nn.Parameters;
import io.jdyn.nn.Sequential;
import io.jdyn.nn.Tanh;
import io.jdyn.ode.Event;
import io.jdyn.ode.Odeint;
import io.jdyn.ode.Solution;
import io.jdyn.ode.SolveOptions;
import io.jdyn.ode.VectorField;
import org.junit.jupiter.api.Test;

/** A NeuralField: parameters, its forward/VJP/JVP, and its inference solve (the program inside the engine). */
class NeuralFieldTest {
    private static final Sequential MLP = Sequential.of(new Linear(2, 8), new Tanh(), new Linear(8, 2));

    /** The same MLP in plain Java, from the field's parameters (W [out, in] row-major, then b). */
    private static double[] reference(Parameters p, double[] z) {
        double[] a = p.layerValues(0), c = p.layerValues(2);
        double[] h = new double[8];
        for (int i = 0; i < 8; i++) {
            double u = a[16 + i];
            for (int j = 0; j < 2; j++) u += a[i * 2 + j] * z[j];
            h[i] = Math.tanh(u);
        }
        double[] out = new double[2];
        for (int i = 0; i < 2; i++) {
            double u = c[16 + i];
            for (int j = 0; j < 8; j++) u += c[i * 8 + j] * h[j];
            out[i] = u;
        }
        return out;
    }

    @Test
    void parametersAreOneFlatBufferWithPerLayerBlocks() {
        try (NeuralField f = NeuralField.of(MLP, 2, DType.FLOAT64, 42)) {
            Parameters p = f.parameters();
            assertEquals(2 * 8 + 8 + 8 * 2 + 2, f.numParams());
            assertEquals(3, p.numLayers());
            assertEquals(0, p.offset(0));
            assertEquals(24, p.count(0));
            assertEquals(0, p.count(1));
            assertEquals(24, p.offset(2));
            assertEquals(18, p.count(2));
            assertEquals(f.numParams(), p.values().numel());
            assertEquals(f.numParams(), p.grad().numel());
            // PyTorch's defaults: weights and biases uniform in +-1/sqrt(fan_in).
            double[] l0 = p.layerValues(0), l2 = p.layerValues(2);
            for (double v : l0) assertTrue(Math.abs(v) <= 1 / Math.sqrt(2), "layer 0 value " + v);
            for (double v : l2) assertTrue(Math.abs(v) <= 1 / Math.sqrt(8), "layer 2 value " + v);
            double[] before = p.values().toDoubleArray();
            p.init(42);
            assertArrayEquals(before, p.values().toDoubleArray(), 0.0, "same seed, same values");
            p.init(43);
            assertFalse(java.util.Arrays.equals(before, p.values().toDoubleArray()), "another seed, other values");
            assertThrows(IllegalArgumentException.class, () -> p.setLayerValues(0, new double[3]));
            assertThrows(IndexOutOfBoundsException.class, () -> p.offset(3));
        }
        try (NeuralField g = NeuralField.of(Sequential.of(new DepthCat(), new GalLinear(3, 4, Basis.fourier(1), 3),
                new Tanh(), new GalLinear(4, 2, Basis.polynomial(), 2, false)), 2, DType.FLOAT32, 1)) {
            assertEquals(3 * (3 * 4 + 4) + 2 * (4 * 2), g.numParams());
            assertEquals(DType.FLOAT32, g.parameters().values().dtype());
        }
    }

    @Test
    void forwardVjpAndJvpMatchJavaAndFiniteDifferences() {
        try (NeuralField f = NeuralField.of(MLP, 2, DType.FLOAT64, 3);
                Tensor z = Tensor.of(new double[] {0.3, -0.8, 1.1, 0.4}, 2, 2);
                Tensor out = f.forward(0.5, z)) {
            Parameters p = f.parameters();
            for (int r = 0; r < 2; r++) {
                double[] want = reference(p, new double[] {z.get(r, 0), z.get(r, 1)});
                assertEquals(want[0], out.get(r, 0), 1e-14);
                assertEquals(want[1], out.get(r, 1), 1e-14);
            }
            double[] v = {0.7, -1.3, 0.2, 0.9};
            double[] u = {-0.4, 0.6, 1.0, 0.1};
            try (Tensor vt = Tensor.of(v, 2, 2); Tensor ut = Tensor.of(u, 2, 2);
                    NeuralField.Vjp vjp = f.vjp(0.5, z, vt); Tensor jvp = f.jvp(0.5, z, ut)) {
                assertEquals(0, vjp.gt(), 0.0, "an MLP without DepthCat does not depend on t");
                double h = 1e-6;
                double[] zs = z.toDoubleArray();
                for (int i = 0; i < 4; i++) {
                    // (v^T df/dz)_i and (df/dz u) by central differences of the Java reference.
                    double[] zp = zs.clone(), zm = zs.clone();
                    zp[i] += h;
                    zm[i] -= h;
                    int r = i / 2;
                    double[] fp = reference(p, new double[] {zp[2 * r], zp[2 * r + 1]});
                    double[] fm = reference(p, new double[] {zm[2 * r], zm[2 * r + 1]});
                    double gz = (v[2 * r] * (fp[0] - fm[0]) + v[2 * r + 1] * (fp[1] - fm[1])) / (2 * h);
                    assertEquals(gz, vjp.gz().toDoubleArray()[i], 1e-8, "vjp gz[" + i + "]");
                }
                for (int r = 0; r < 2; r++) {
                    double[] zr = {zs[2 * r], zs[2 * r + 1]};
                    double[] fp = reference(p, new double[] {zr[0] + h * u[2 * r], zr[1] + h * u[2 * r + 1]});
                    double[] fm = reference(p, new double[] {zr[0] - h * u[2 * r], zr[1] - h * u[2 * r + 1]});
                    for (int d = 0; d < 2; d++) {
                        assertEquals((fp[d] - fm[d]) / (2 * h), jvp.get(r, d), 1e-8, "jvp[" + r + ", " + d + "]");
                    }
                }
                // The VJP accumulated v^T df/dtheta: for the last bias it is the sum of v over the batch.
                double[] g = p.layerGrad(2);
                assertEquals(v[0] + v[2], g[16], 1e-14);
                assertEquals(v[1] + v[3], g[17], 1e-14);
            }
        }
    }

    @Test
    void inferenceSolveMatchesTheSameNetworkWrittenInJava() {
        try (NeuralField f = NeuralField.of(MLP, 2, DType.FLOAT64, 17);
                Tensor y0 = Tensor.of(new double[] {0.5, -1, 1.5, 0.25, -0.75, 0}, 3, 2)) {
            Parameters p = f.parameters();
            VectorField java = (t, z, dz) -> {
                for (int r = 0; r < z.batch(); r++) {
                    double[] o = reference(p, new double[] {z.get(r, 0), z.get(r, 1)});
                    dz.set(r, 0, o[0]);
                    dz.set(r, 1, o[1]);
                }
            };
            double[] t = {0, 0.5, 1, 2};
            SolveOptions o = GradSupport.adaptive(1e-9);
            try (Solution a = Odeint.odeint(f, y0, t, o); Solution b = Odeint.odeint(java, y0, t, o);
                    Solution c = Odeint.odeint((VectorField) f::evaluate, y0, t, o)) {
                assertArrayEquals(b.ys().toDoubleArray(), a.ys().toDoubleArray(), 1e-9);
                assertArrayEquals(b.ys().toDoubleArray(), c.ys().toDoubleArray(), 1e-9);
                assertEquals(b.stats().accepted(), a.stats().accepted(), 1, "the same steps, give or take round-off");
                assertArrayEquals(t, a.ts());
            }
            // Fixed steps too.
            SolveOptions rk4 = SolveOptions.builder().method("rk4").dt(0.1).build();
            try (Solution a = Odeint.odeint(f, y0, t, rk4); Solution b = Odeint.odeint(java, y0, t, rk4)) {
                assertArrayEquals(b.ys().toDoubleArray(), a.ys().toDoubleArray(), 1e-12);
                assertEquals(b.stats().nfe(), a.stats().nfe());
            }
        }
    }

    @Test
    void float32FieldsSolveAndAgreeWithFloat64() {
        try (NeuralField f64 = NeuralField.of(MLP, 2, DType.FLOAT64, 5);
                NeuralField f32 = NeuralField.of(MLP, 2, DType.FLOAT32, 5);
                Tensor y64 = Tensor.of(new double[] {0.5, -1}, 1, 2);
                Tensor y32 = Tensor.of(new float[] {0.5f, -1f}, 1, 2)) {
            for (int l = 0; l < 3; l++) f32.parameters().setLayerValues(l, f64.parameters().layerValues(l));
            try (Solution a = Odeint.odeint(f64, y64, new double[] {0, 1}, GradSupport.adaptive(1e-6));
                    Solution b = Odeint.odeint(f32, y32, new double[] {0, 1}, GradSupport.adaptive(1e-5))) {
                assertEquals(DType.FLOAT32, b.ys().dtype());
                assertArrayEquals(a.ys().toDoubleArray(), b.ys().toDoubleArray(), 1e-4);
            }
        }
    }

    @Test
    void mismatchesAndUnsupportedOptionsAreRefusedClearly() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> NeuralField.of(Sequential.of(new Linear(2, 3)), 2, DType.FLOAT64, 0));
        assertTrue(e.getMessage().contains("maps width 2 to 3"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> NeuralField.of(Sequential.of(new Linear(2, 8), new Tanh(), new Linear(4, 2)), 2, DType.FLOAT64, 0));
        assertTrue(e.getMessage().contains("layer 2"), e.getMessage());
        try (NeuralField f = NeuralField.of(MLP, 2, DType.FLOAT64, 1);
                Tensor y3 = Tensor.of(new double[] {1, 2, 3}, 1, 3);
                Tensor y32 = Tensor.of(new float[] {1, 2}, 1, 2);
                Tensor y0 = Tensor.of(new double[] {1, 2}, 1, 2)) {
            double[] t = {0, 1};
            e = assertThrows(IllegalArgumentException.class, () -> Odeint.odeint(f, y3, t, SolveOptions.defaults()));
            assertTrue(e.getMessage().contains("width 2") && e.getMessage().contains("dim 3"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> Odeint.odeint(f, y32, t, SolveOptions.defaults()));
            assertTrue(e.getMessage().contains("FLOAT32"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> Odeint.odeint(f, y0, t,
                    SolveOptions.builder().event(Event.terminal((s, z) -> z.get(0, 0))).build()));
            assertTrue(e.getMessage().contains("events"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class,
                    () -> Odeint.odeint(f, y0, t, SolveOptions.builder().dense(true).build()));
            assertTrue(e.getMessage().contains("dense"), e.getMessage());
            assertNotEquals(0, f.numParams());
            assertTrue(f.toString().startsWith("NeuralField(dim=2, dtype=FLOAT64, numParams=42"), f.toString());
        }
    }

    @Test
    void aClosedFieldRefusesEveryUse() {
        NeuralField f = NeuralField.of(MLP, 2, DType.FLOAT64, 1);
        f.close();
        f.close();
        assertTrue(f.isClosed());
        try (Tensor y0 = Tensor.of(new double[] {1, 2}, 1, 2)) {
            assertThrows(IllegalStateException.class, () -> Odeint.odeint(f, y0, new double[] {0, 1}));
            assertThrows(TensorClosedException.class, () -> f.forward(0, y0));
            assertThrows(TensorClosedException.class, f::parameters);
        }
    }

    @Test
    void oneFieldSolvesOnSeveralThreadsAtOnce() throws Exception {
        try (NeuralField f = NeuralField.of(MLP, 2, DType.FLOAT64, 9);
                Tensor y0 = Tensor.of(new double[] {0.5, -1, 1.5, 0.25}, 2, 2);
                Solution ref = Odeint.odeint(f, y0, new double[] {0, 1, 2}, GradSupport.adaptive(1e-9))) {
            double[] want = ref.ys().toDoubleArray();
            java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(4);
            try {
                java.util.List<java.util.concurrent.Future<double[]>> results = new java.util.ArrayList<>();
                for (int i = 0; i < 16; i++) {
                    results.add(pool.submit(() -> {
                        try (Solution s = Odeint.odeint(f, y0, new double[] {0, 1, 2}, GradSupport.adaptive(1e-9))) {
                            return s.ys().toDoubleArray();
                        }
                    }));
                }
                for (java.util.concurrent.Future<double[]> r : results) assertArrayEquals(want, r.get(), 0.0);
            } finally {
                pool.shutdown();
            }
        }
    }

    @Test
    void float32GradientsAgreeWithFloat64() {
        for (io.jdyn.ode.Sensitivity mode : io.jdyn.ode.Sensitivity.values()) {
            try (NeuralField f64 = NeuralField.of(MLP, 2, DType.FLOAT64, 5);
                    NeuralField f32 = NeuralField.of(MLP, 2, DType.FLOAT32, 5);
                    Tensor y64 = Tensor.of(new double[] {0.5, -1}, 1, 2);
                    Tensor y32 = Tensor.of(new float[] {0.5f, -1f}, 1, 2);
                    Tensor c64 = Tensor.of(new double[] {1, -1, 0.5, 2}, 2, 1, 2);
                    Tensor c32 = Tensor.of(new float[] {1, -1, 0.5f, 2}, 2, 1, 2)) {
                for (int l = 0; l < 3; l++) f32.parameters().setLayerValues(l, f64.parameters().layerValues(l));
                f64.parameters().zeroGrad();
                f32.parameters().zeroGrad();
                io.jdyn.ode.GradOptions g = io.jdyn.ode.GradOptions.builder().sensitivity(mode).build();
                try (io.jdyn.ode.GradSolution a = Odeint.odeint(f64, y64, new double[] {0, 1}, GradSupport.adaptive(1e-7), g);
                        io.jdyn.ode.GradSolution b = Odeint.odeint(f32, y32, new double[] {0, 1}, GradSupport.adaptive(1e-5), g)) {
                    io.jdyn.ode.Gradients ga = a.backward(c64);
                    io.jdyn.ode.Gradients gb = b.backward(c32);
                    assertEquals(DType.FLOAT32, gb.y0().dtype());
                    assertArrayEquals(ga.y0().toDoubleArray(), gb.y0().toDoubleArray(), 1e-3, mode + " dL/dy0");
                    assertArrayEquals(f64.parameters().grad().toDoubleArray(), f32.parameters().grad().toDoubleArray(),
                            1e-3, mode + " dL/dtheta");
                    assertArrayEquals(ga.times(), gb.times(), 1e-3, mode + " dL/dt");
                }
            }
        }
    }

    @Test
    void aFieldWithoutParameters() {
        // dz/dt = tanh(z): no parameters; solves and gradients still work.
        try (NeuralField f = NeuralField.of(Sequential.of(new Tanh()), 2, DType.FLOAT64, 0);
                Tensor y0 = Tensor.of(new double[] {0.5, -1}, 1, 2);
                Tensor ct = Tensor.of(new double[] {0, 0, 1, 1}, 2, 1, 2);
                io.jdyn.ode.GradSolution s = Odeint.odeint(f, y0, new double[] {0, 1}, GradSupport.adaptive(1e-9),
                        io.jdyn.ode.GradOptions.builder().sensitivity("adjoint").build())) {
            assertEquals(0, f.numParams());
            assertThrows(IllegalStateException.class, () -> f.parameters().values());
            io.jdyn.ode.Gradients g = s.backward(ct);
            assertFalse(g.params().isPresent());
            // z' = tanh z: sinh z(t) = sinh(z0) e^t, so d z(1) / d z0 = cosh(z0) e / cosh(z(1)) per component.
            for (int d = 0; d < 2; d++) {
                double want = Math.cosh(y0.get(0, d)) * Math.E / Math.cosh(s.ys().get(1, 0, d));
                assertEquals(want, g.y0().get(0, d), 1e-7);
            }
        }
    }
}
