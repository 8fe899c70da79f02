package io.jdyn.e2e;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jdyn.Tensor;
import io.jdyn.e2e.GradSupport.Problem;
import io.jdyn.e2e.GradSupport.Subject;
import io.jdyn.nn.Linear;
import io.jdyn.nn.Sequential;
import io.jdyn.nn.Tanh;
import io.jdyn.ode.BatchView;
import io.jdyn.ode.DifferentiableVectorField;
import io.jdyn.ode.GradOptions;
import io.jdyn.ode.GradSolution;
import io.jdyn.ode.Gradients;
import io.jdyn.ode.IntegralLoss;
import io.jdyn.ode.Odeint;
import io.jdyn.ode.ParamView;
import io.jdyn.ode.Sensitivity;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/** torchdyn's integral_loss: its value, and gradients of loss = integral + sum_k <c_k, y(t_k)> against finite differences. */
class IntegralLossTest {
    /** l(t, z) = 0.5 sum z^2 (1 + t) over the batch: depends on t explicitly. */
    static final IntegralLoss HALF_SQUARE_T = (t, z, grad) -> {
        double s = 0;
        for (int i = 0; i < z.batch() * z.dim(); i++) {
            double v = z.get(i);
            s += 0.5 * v * v * (1 + t);
            grad.set(i, v * (1 + t));
        }
        return s;
    };

    /** l(z) = 0.5 sum z^2 + 0.1 sum z over the batch. */
    static final IntegralLoss HALF_SQUARE = (t, z, grad) -> {
        double s = 0;
        for (int i = 0; i < z.batch() * z.dim(); i++) {
            double v = z.get(i);
            s += 0.5 * v * v + 0.1 * v;
            grad.set(i, v + 0.1);
        }
        return s;
    };

    static List<Arguments> cases() {
        List<Arguments> out = new ArrayList<>();
        for (Sensitivity mode : Sensitivity.values()) {
            out.add(Arguments.of(mode, "l(z)", HALF_SQUARE, true));
            // jdyn_integral_fn returns l and dl/dz but not dl/dt; autograd, which differentiates through
            // the stage times inside each step, takes dl/dt by a central difference of the callback
            // (about 1e-10 relative), the adjoints need only l(t_k): all checked in full.
            out.add(Arguments.of(mode, "l(t, z)", HALF_SQUARE_T, true));
        }
        return out;
    }

    @ParameterizedTest(name = "{0}, {1}, output-time gradients checked: {3}")
    @MethodSource("cases")
    void neuralFieldGradientsWithAnIntegralLoss(Sensitivity mode, String name, IntegralLoss l, boolean times) {
        try (Subject s = GradSupport.neural("Linear-Tanh-Linear",
                Sequential.of(new Linear(2, 6), new Tanh(), new Linear(6, 2)), 2, 21)) {
            GradSupport.check(s, new Problem(3, 2, new double[] {0.0, 0.6, 1.2}, 9), mode,
                    GradOptions.builder().integralLoss(l), times);
        }
    }

    @ParameterizedTest(name = "{0}, {1}, output-time gradients checked: {3}")
    @MethodSource("cases")
    void javaFieldGradientsWithAnIntegralLoss(Sensitivity mode, String name, IntegralLoss l, boolean times) {
        try (Subject s = GradSupport.java("Java TanhField", new GradSupport.TanhField(2, 4))) {
            GradSupport.check(s, new Problem(2, 2, new double[] {0.0, 0.6, 1.2}, 13), mode,
                    GradOptions.builder().integralLoss(l), times);
        }
    }

    /** dz/dt = -z, written in Java with its VJP. */
    static final class Decay implements DifferentiableVectorField {
        @Override
        public int numParams() {
            return 0;
        }

        @Override
        public void evaluate(double t, BatchView z, BatchView dz) {
            for (int i = 0; i < z.batch() * z.dim(); i++) dz.set(i, -z.get(i));
        }

        @Override
        public double vjp(double t, BatchView z, BatchView v, BatchView gz, ParamView gp) {
            for (int i = 0; i < z.batch() * z.dim(); i++) gz.set(i, -v.get(i));
            return 0;
        }
    }

    @ParameterizedTest
    @EnumSource(Sensitivity.class)
    void integralAloneHasItsClosedFormAndGradient(Sensitivity mode) {
        // z = z0 e^-(t - t0), l = 0.5 |z|^2: integral over [t0, T] = 0.25 |z0|^2 (1 - e^-2(T - t0)),
        // d/dz0 = 0.5 z0 (1 - e^-2T), d/dT = l(T) = 0.5 |z0|^2 e^-2T, d/dt0 = -d/dT (the whole
        // trajectory moves with t0), at t0 = 0.
        IntegralLoss l = (t, z, grad) -> {
            double s = 0;
            for (int i = 0; i < z.batch() * z.dim(); i++) {
                s += 0.5 * z.get(i) * z.get(i);
                grad.set(i, z.get(i));
            }
            return s;
        };
        double[] z0 = {0.3, -1.2, 0.7, 2.0};
        double sq = Arrays.stream(z0).map(v -> v * v).sum();
        double tEnd = 1.3;
        try (Tensor y0 = Tensor.of(z0, 2, 2);
                GradSolution s = Odeint.odeint(new Decay(), y0, new double[] {0, 0.5, tEnd}, GradSupport.adaptive(1e-10),
                        GradOptions.builder().sensitivity(mode).integralLoss(l).build())) {
            assertEquals(0.25 * sq * (1 - Math.exp(-2 * tEnd)), s.integralValue().getAsDouble(), 1e-8);
            Gradients g = s.backward();
            double[] gy0 = g.y0().toDoubleArray();
            for (int i = 0; i < z0.length; i++) {
                assertEquals(0.5 * z0[i] * (1 - Math.exp(-2 * tEnd)), gy0[i], 1e-7, "dL/dy0[" + i + "]");
            }
            double[] gt = g.times();
            assertEquals(-0.5 * sq * Math.exp(-2 * tEnd), gt[0], 1e-7, "dL/dt0");
            assertEquals(0, gt[1], 1e-7, "dL/dt1 (an interior time does not move the integral)");
            assertEquals(0.5 * sq * Math.exp(-2 * tEnd), gt[2], 1e-7, "dL/dT");
            assertFalse(g.params().isPresent(), "no parameters, no parameter gradient");
        }
    }

    @Test
    void noIntegralLossNoIntegralValue() {
        try (Tensor y0 = Tensor.of(new double[] {1, 2}, 1, 2);
                GradSolution s = Odeint.odeint(new Decay(), y0, new double[] {0, 1}, GradSupport.adaptive(1e-8),
                        GradOptions.defaults())) {
            assertTrue(s.integralValue().isEmpty());
            try (Tensor ct = Tensor.of(new double[] {0, 0, 1, 1}, 2, 1, 2)) {
                assertArrayEquals(new double[] {Math.exp(-1), Math.exp(-1)}, s.backward(ct).y0().toDoubleArray(), 1e-7);
            }
        }
    }
}
