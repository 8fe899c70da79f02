package io.jdyn.e2e;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jdyn.DType;
import io.jdyn.Tensor;
import io.jdyn.nn.Linear;
import io.jdyn.nn.NeuralField;
import io.jdyn.nn.Parameters;
import io.jdyn.nn.ReLU;
import io.jdyn.nn.Sequential;
import io.jdyn.ode.BatchView;
import io.jdyn.ode.DifferentiableVectorField;
import io.jdyn.ode.GradOptions;
import io.jdyn.ode.GradSolution;
import io.jdyn.ode.Gradients;
import io.jdyn.ode.Odeint;
import io.jdyn.ode.ParamView;
import io.jdyn.ode.Sensitivity;
import java.util.Arrays;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Parameters the loss does not depend on get gradients of zero, in a gradient of the full size
 * (torchdyn issue 206: unused parameters had no gradient at all and the adjoint failed), and
 * gradients accumulate across backward passes until zeroGrad().
 */
class UnusedParametersTest {
    private static final double[] T = {0, 0.5, 1};

    private static GradOptions opts(Sensitivity s) {
        return GradOptions.builder().sensitivity(s).build();
    }

    @ParameterizedTest
    @EnumSource(Sensitivity.class)
    void aDeadReluLayerAndWhatItFeedsGetZeros(Sensitivity mode) {
        // Linear(2,3) with bias -10 and small weights: every pre-activation stays below 0 on the
        // trajectory, so ReLU outputs 0: layer 0 (W, b) and layer 2's W do not affect the loss; only
        // layer 2's bias (the constant velocity) does.
        try (NeuralField f = NeuralField.of(Sequential.of(new Linear(2, 3), new ReLU(), new Linear(3, 2)), 2,
                        DType.FLOAT64, 5);
                Tensor y0 = Tensor.of(new double[] {0.2, -0.3, 0.5, 0.1}, 2, 2);
                Tensor ct = Tensor.of(new double[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, 3, 2, 2)) {
            Parameters p = f.parameters();
            double[] w0 = p.layerValues(0);
            for (int i = 0; i < 6; i++) w0[i] *= 0.1;
            for (int i = 6; i < 9; i++) w0[i] = -10;
            p.setLayerValues(0, w0);
            p.zeroGrad();
            try (GradSolution s = Odeint.odeint(f, y0, T, GradSupport.adaptive(1e-8), opts(mode))) {
                Gradients g = s.backward(ct);
                assertEquals(f.numParams(), g.params().orElseThrow().numel());
                assertEquals(9 + 6 + 2, f.numParams());
                assertArrayEquals(new double[9], p.layerGrad(0), 0.0, "dead layer 0");
                assertEquals(0, p.count(1), "ReLU has no parameters");
                double[] g2 = p.layerGrad(2);
                assertArrayEquals(new double[6], Arrays.copyOf(g2, 6), 0.0, "layer 2 weights see only zeros");
                // dL/db2 = sum over outputs and rows of c_k * (t_k - t_0): per component 0.5 * (5+7) + 1 * (9+11), ...
                assertEquals(0.5 * (5 + 7) + (9 + 11), g2[6], 1e-6, "layer 2 bias, component 0");
                assertEquals(0.5 * (6 + 8) + (10 + 12), g2[7], 1e-6, "layer 2 bias, component 1");
                assertArrayEquals(p.grad().toDoubleArray(), g.params().get().toDoubleArray(),
                        "Gradients.params() is the field's accumulator");
            }
        }
    }

    /** The Java test field with three more parameters that it never uses. */
    static final class Padded implements DifferentiableVectorField {
        final GradSupport.TanhField inner = new GradSupport.TanhField(2, 3);

        @Override
        public int numParams() {
            return inner.numParams() + 3;
        }

        @Override
        public void evaluate(double t, BatchView z, BatchView dz) {
            inner.evaluate(t, z, dz);
        }

        @Override
        public double vjp(double t, BatchView z, BatchView v, BatchView gz, ParamView gp) {
            return inner.vjp(t, z, v, gz, gp);
        }
    }

    @ParameterizedTest
    @EnumSource(Sensitivity.class)
    void javaFieldParametersItNeverTouchesAreZero(Sensitivity mode) {
        Padded f = new Padded();
        try (Tensor y0 = Tensor.of(new double[] {0.2, -0.3}, 1, 2);
                Tensor ct = Tensor.of(new double[] {1, 1, 1, 1, 1, 1}, 3, 1, 2);
                GradSolution s = Odeint.odeint(f, y0, T, GradSupport.adaptive(1e-8), opts(mode))) {
            double[] g = s.backward(ct).params().orElseThrow().toDoubleArray();
            assertEquals(f.numParams(), g.length);
            int used = f.inner.numParams();
            assertArrayEquals(new double[3], Arrays.copyOfRange(g, used, used + 3), 0.0);
            assertTrue(Arrays.stream(g, 0, used).anyMatch(v -> Math.abs(v) > 1e-6), Arrays.toString(g));
        }
    }

    @ParameterizedTest
    @EnumSource(Sensitivity.class)
    void gradientsAccumulateUntilZeroGrad(Sensitivity mode) {
        try (NeuralField f = NeuralField.of(Sequential.of(new Linear(2, 4), new ReLU(), new Linear(4, 2)), 2,
                        DType.FLOAT64, 8);
                Tensor y0 = Tensor.of(new double[] {0.2, -0.3}, 1, 2);
                Tensor ct = Tensor.of(new double[] {0.5, 1, -1, 2, 0.3, 0.1}, 3, 1, 2)) {
            f.parameters().zeroGrad();
            double[] once = backward(f, y0, ct, mode);
            double[] twice = backward(f, y0, ct, mode);
            for (int i = 0; i < once.length; i++) assertEquals(2 * once[i], twice[i], 1e-12 * (1 + Math.abs(once[i])));
            f.parameters().zeroGrad();
            assertArrayEquals(new double[once.length], f.parameters().grad().toDoubleArray(), 0.0);
        }
    }

    @ParameterizedTest
    @EnumSource(Sensitivity.class)
    void frozenLayersKeepZeroGradientsOfTheirOwnShape(Sensitivity mode) {
        try (NeuralField f = NeuralField.of(Sequential.of(new Linear(2, 4), new ReLU(), new Linear(4, 2)), 2,
                        DType.FLOAT64, 8);
                Tensor y0 = Tensor.of(new double[] {0.2, -0.3}, 1, 2);
                Tensor ct = Tensor.of(new double[] {0.5, 1, -1, 2, 0.3, 0.1}, 3, 1, 2)) {
            Parameters p = f.parameters();
            p.zeroGrad();
            double[] all = backward(f, y0, ct, mode);
            p.zeroGrad();
            p.freeze(0);
            double[] frozen = backward(f, y0, ct, mode);
            assertEquals(all.length, frozen.length);
            int end0 = (int) (p.offset(0) + p.count(0));
            // The frozen first Linear: zeros of its full size; the second Linear: as before.
            assertArrayEquals(new double[end0], Arrays.copyOfRange(frozen, 0, end0), 0.0);
            assertArrayEquals(Arrays.copyOfRange(all, end0, all.length),
                    Arrays.copyOfRange(frozen, end0, frozen.length), 1e-12);
            assertTrue(Arrays.stream(all, 0, end0).anyMatch(v -> Math.abs(v) > 1e-6), "layer 0 has gradients when trained");
            p.unfreeze(0);
            assertTrue(!p.isFrozen(0));
        }
    }

    private static double[] backward(NeuralField f, Tensor y0, Tensor ct, Sensitivity mode) {
        try (GradSolution s = Odeint.odeint(f, y0, T, GradSupport.adaptive(1e-8), opts(mode))) {
            s.backward(ct);
            return f.parameters().grad().toDoubleArray();
        }
    }
}
