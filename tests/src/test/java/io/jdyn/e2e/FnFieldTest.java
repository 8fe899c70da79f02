package io.jdyn.e2e;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jdyn.DType;
import io.jdyn.Tensor;
import io.jdyn.fn.Fn;
import io.jdyn.fn.Init;
import io.jdyn.fn.Sym;
import io.jdyn.io.Checkpoint;
import io.jdyn.io.FormatException;
import io.jdyn.models.NeuralODE;
import io.jdyn.nn.Augmenter;
import io.jdyn.nn.Basis;
import io.jdyn.nn.DepthCat;
import io.jdyn.nn.ELU;
import io.jdyn.nn.GalLinear;
import io.jdyn.nn.Linear;
import io.jdyn.nn.NeuralField;
import io.jdyn.nn.ReLU;
import io.jdyn.nn.Sequential;
import io.jdyn.nn.SiLU;
import io.jdyn.nn.Sigmoid;
import io.jdyn.nn.Sin;
import io.jdyn.nn.Softplus;
import io.jdyn.nn.Tanh;
import io.jdyn.ode.Gradients;
import io.jdyn.train.optim.Adam;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Vector fields built from an {@link Fn}: the same network as a lambda, as a Sequential lowered to
 * graph ops and as a layer program gives the same parameters and the same training step; every layer
 * lowers to what its layer program computes; checkpoints by parameter name; NeuralODE's builder.
 */
class FnFieldTest {
    private static final Sequential MLP = Sequential.of(new Linear(2, 16), new Tanh(), new Linear(16, 2));
    private static final Fn MLP_FN = Fn.of((t, x, p) -> p.linear("2", p.linear("0", x, 16).tanh(), 2));

    private static double[] random(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        double[] v = new double[n];
        for (int i = 0; i < v.length; i++) v[i] = r.nextDouble(-1, 1);
        return v;
    }

    /** One training step's numbers: the output, dL/dx, dL/dtheta, the NFE, the parameters after Adam. */
    private record Step(double[] out, double[] gx, double[] gtheta, long forwardNfe, long backwardNfe, double[] after) {}

    private static Step step(NeuralODE m) {
        double[] x = random(16, 3), c = random(16, 4);
        try (Tensor xt = Tensor.of(x, 8, 2); Tensor ct = Tensor.of(c, 8, 2);
                Adam opt = Adam.of(m.parameters(), 0.01)) {
            m.zeroGrad();
            try (NeuralODE.Trace tr = m.trace(xt); Tensor gx = tr.backward(ct)) {
                double[] out = tr.output().toDoubleArray();
                double[] g = m.grad();
                opt.step();
                return new Step(out, gx.toDoubleArray(), g, m.forwardNfe(), m.backwardNfe(),
                        m.parameters().values().toDoubleArray());
            }
        }
    }

    @Test
    void aLambdaAndASequentialGiveTheSameParametersAndTrainingStep() {
        for (String sens : List.of("autograd", "adjoint", "interpolated_adjoint")) {
            try (NeuralODE a = NeuralODE.builder(MLP_FN, 2).dtype(DType.FLOAT64).seed(11).sensitivity(sens).build();
                    NeuralODE b = NeuralODE.builder(MLP, 2).dtype(DType.FLOAT64).seed(11).sensitivity(sens).build();
                    NeuralODE c = NeuralODE.builder((t, x, p) -> MLP.apply(t, x, p), 2).dtype(DType.FLOAT64).seed(11)
                            .sensitivity(sens).build()) {
                assertTrue(a.field().isFn());
                assertFalse(b.field().isFn());
                assertTrue(c.field().isFn());
                assertEquals(List.of("0.weight", "0.bias", "2.weight", "2.bias"), a.parameters().names());
                assertEquals(b.parameters().names(), a.parameters().names());
                assertEquals(b.parameters().names(), c.parameters().names());
                assertEquals(b.parameters().infos(), a.parameters().infos());
                assertEquals(b.numParams(), a.numParams());
                double[] pa = a.parameters().values().toDoubleArray(), pb = b.parameters().values().toDoubleArray();
                assertArrayEquals(pb, pa, 0.0, "the same draws for the same seed");
                assertArrayEquals(pb, c.parameters().values().toDoubleArray(), 0.0);
                Step sa = step(a), sb = step(b), sc = step(c);
                for (Step s : List.of(sa, sc)) {
                    assertArrayEquals(sb.out(), s.out(), 0.0, sens + ": outputs");
                    assertArrayEquals(sb.gx(), s.gx(), 0.0, sens + ": dL/dx");
                    assertArrayEquals(sb.gtheta(), s.gtheta(), 0.0, sens + ": dL/dtheta");
                    assertEquals(sb.forwardNfe(), s.forwardNfe(), sens + ": forward NFE");
                    assertEquals(sb.backwardNfe(), s.backwardNfe(), sens + ": backward NFE");
                    assertArrayEquals(sb.after(), s.after(), 0.0, sens + ": parameters after Adam");
                }
                assertTrue(sa.backwardNfe() > 0);
                assertTrue(a.toString().contains("0.weight [16, 2]"), a.toString());
            }
        }
    }

    @Test
    void everyLayerLowersToWhatItsLayerProgramComputes() {
        Sequential net = Sequential.of(new DepthCat(), new Linear(3, 8), new Tanh(),
                new GalLinear(8, 6, Basis.fourier(1.5), 3), new Softplus(2, 1.5), new Linear(6, 5, false), new ELU(0.5),
                new SiLU(), new Sigmoid(), new Sin(), new ReLU(), new GalLinear(5, 1, Basis.polynomial(), 2, false),
                new Augmenter(1));
        Fn lowered = (t, x, p) -> net.apply(t, x, p);
        try (NeuralField ref = NeuralField.of(net, 2, DType.FLOAT64, 21);
                NeuralField fn = NeuralField.of(lowered, 2, DType.FLOAT64, 21);
                Tensor z = Tensor.of(random(12, 5), 6, 2); Tensor v = Tensor.of(random(12, 6), 6, 2)) {
            assertEquals(ref.parameters().infos(), fn.parameters().infos());
            assertEquals(List.of("1.weight", "1.bias", "3.coeffs_weight", "3.coeffs_bias", "5.weight", "11.coeffs_weight"),
                    fn.parameters().names());
            assertArrayEquals(ref.parameters().values().toDoubleArray(), fn.parameters().values().toDoubleArray(), 0.0);
            for (double t : new double[] {0.0, 0.3, -1.7}) {
                try (Tensor a = ref.forward(t, z); Tensor b = fn.forward(t, z)) {
                    assertArrayEquals(a.toDoubleArray(), b.toDoubleArray(), 1e-14, "forward at t = " + t);
                }
                ref.parameters().zeroGrad();
                fn.parameters().zeroGrad();
                try (NeuralField.Vjp a = ref.vjp(t, z, v); NeuralField.Vjp b = fn.vjp(t, z, v)) {
                    assertArrayEquals(a.gz().toDoubleArray(), b.gz().toDoubleArray(), 1e-13, "v^T df/dz at t = " + t);
                    assertEquals(a.gt(), b.gt(), 1e-13, "v^T df/dt at t = " + t);
                    assertArrayEquals(ref.parameters().grad().toDoubleArray(), fn.parameters().grad().toDoubleArray(),
                            1e-13, "v^T df/dtheta at t = " + t);
                }
            }
        }
    }

    @Test
    void checkpointsOfAnFnFieldSaveAndLoadByName(@TempDir Path dir) throws Exception {
        Fn scaled = MLP_FN.andThen((t, x, p) -> x.mul(p.param("scale", Init.constant(0.5), 2)));
        try (NeuralField a = NeuralField.of(scaled, 2, DType.FLOAT32, 1)) {
            assertEquals(List.of("0.weight", "0.bias", "2.weight", "2.bias", "scale"), a.parameters().names());
            assertArrayEquals(new double[] {0.5, 0.5}, a.parameters().get("scale"), 0.0);
            Path file = dir.resolve("fn.safetensors");
            Checkpoint.save(file, a, java.util.Map.of("epoch", "3"));
            assertEquals("3", Checkpoint.metadata(file).get("epoch"));
            assertTrue(Checkpoint.metadata(file).get(Checkpoint.ARCHITECTURE_KEY).contains("\"jdyn.fn_field\""));
            FormatException e = assertThrows(FormatException.class, () -> Checkpoint.load(file));
            assertTrue(e.getMessage().contains("Checkpoint.load(path, field)"), e.getMessage());
            try (NeuralField b = NeuralField.of(scaled, 2, DType.FLOAT32, 999)) {
                assertFalse(java.util.Arrays.equals(a.parameters().values().toFloatArray(),
                        b.parameters().values().toFloatArray()));
                Checkpoint.load(file, b);
                assertArrayEquals(a.parameters().values().toFloatArray(), b.parameters().values().toFloatArray(), 0f);
            }
            // Names are the contract: a layer program of the same net loads what the Fn saved (all but "scale").
            try (NeuralField c = NeuralField.of(MLP, 2, DType.FLOAT32, 5)) {
                FormatException extra = assertThrows(FormatException.class, () -> Checkpoint.load(file, c));
                assertTrue(extra.getMessage().contains("\"scale\""), extra.getMessage());
            }
        }
        // A Sequential's checkpoint loads into the same network written as an Fn, and back.
        try (NeuralField seq = NeuralField.of(MLP, 2, DType.FLOAT64, 8); NeuralField fn = NeuralField.of(MLP_FN, 2,
                DType.FLOAT64, 9)) {
            Path file = dir.resolve("seq.safetensors");
            Checkpoint.save(file, seq);
            Checkpoint.load(file, fn);
            assertArrayEquals(seq.parameters().values().toDoubleArray(), fn.parameters().values().toDoubleArray(), 0.0);
            try (NeuralField loaded = Checkpoint.load(file)) {
                assertEquals(MLP, loaded.net());
            }
            assertTrue(Files.size(file) > 0);
        }
    }

    @Test
    void neuralOdeOfOrderTwoFromAnFnMatchesTheSequentialOne() {
        Fn acc = (t, z, p) -> p.linear("0", z, 1);
        Sequential net = Sequential.of(new Linear(2, 1));
        double[] x = random(8, 9), c = random(8, 10);
        try (NeuralODE a = NeuralODE.builder(acc, 2).order(2).dtype(DType.FLOAT64).seed(4).build();
                NeuralODE b = NeuralODE.builder(net, 2).order(2).dtype(DType.FLOAT64).seed(4).build();
                Tensor xt = Tensor.of(x, 4, 2); Tensor ct = Tensor.of(c, 4, 2)) {
            assertEquals(2, a.order());
            assertEquals(b.numParams(), a.numParams());
            assertArrayEquals(b.parameters().values().toDoubleArray(), a.parameters().values().toDoubleArray(), 0.0);
            try (NeuralODE.Trace ta = a.trace(xt); NeuralODE.Trace tb = b.trace(xt); Tensor ga = ta.backward(ct);
                    Tensor gb = tb.backward(ct)) {
                assertArrayEquals(tb.output().toDoubleArray(), ta.output().toDoubleArray(), 1e-12);
                assertArrayEquals(gb.toDoubleArray(), ga.toDoubleArray(), 1e-10);
                assertArrayEquals(b.grad(), a.grad(), 1e-10);
                Gradients g = ta.gradients();
                assertTrue(g.backwardStats().nfe() > 0);
            }
            assertTrue(a.toString().contains("order: 2"), a.toString());
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> NeuralODE.builder((t, z, p) -> p.linear("0", z, 2), 2).order(2).build());
        assertTrue(e.getMessage().contains("acceleration [-1, 1]") && e.getMessage().contains("[-1, 2]"), e.getMessage());
    }

    @Test
    void aFieldOfTheWrongShapeIsRefusedNamingBothShapes() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> NeuralField.of((t, x, p) -> p.linear("0", x, 3), 2, DType.FLOAT64));
        assertTrue(e.getMessage().contains("[-1, 2]") && e.getMessage().contains("[-1, 3]"), e.getMessage());
        // A layer that does not fit: the Sequential names the layer, the native core the op and the shapes.
        IllegalArgumentException l = assertThrows(IllegalArgumentException.class,
                () -> NeuralField.of((t, x, p) -> Sequential.of(new Linear(3, 2)).apply(t, x, p), 2, DType.FLOAT64));
        assertTrue(l.getMessage().contains("layer 0 (Linear(in_features=3") && l.getMessage().contains("LINEAR"),
                l.getMessage());
        IllegalArgumentException d = assertThrows(IllegalArgumentException.class,
                () -> NeuralField.of(MLP_FN.andThen(MLP_FN), 2, DType.FLOAT64));
        assertTrue(d.getMessage().contains("duplicate parameter"), d.getMessage());
        // Syms of another graph.
        try (io.jdyn.fn.Graph other = new io.jdyn.fn.Graph()) {
            Sym foreign = other.arg(-1, 2);
            IllegalArgumentException g = assertThrows(IllegalArgumentException.class,
                    () -> NeuralField.of((t, x, p) -> x.add(foreign), 2, DType.FLOAT64));
            assertTrue(g.getMessage().contains("different graphs"), g.getMessage());
        }
    }
}
