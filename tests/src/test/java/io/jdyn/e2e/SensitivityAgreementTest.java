package io.jdyn.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jdyn.DType;
import io.jdyn.Tensor;
import io.jdyn.e2e.GradSupport.Grads;
import io.jdyn.e2e.GradSupport.Problem;
import io.jdyn.e2e.GradSupport.Subject;
import io.jdyn.nn.Linear;
import io.jdyn.nn.NeuralField;
import io.jdyn.nn.Sequential;
import io.jdyn.nn.Tanh;
import io.jdyn.ode.GradOptions;
import io.jdyn.ode.GradSolution;
import io.jdyn.ode.Gradients;
import io.jdyn.ode.Odeint;
import io.jdyn.ode.Sensitivity;
import io.jdyn.ode.SolveOptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** How the sensitivity modes relate: agreement as the tolerance shrinks, cost of the seminorm, statistics, memory. */
class SensitivityAgreementTest {
    private static final double[] TIMES = {0.0, 0.4, 1.0, 1.5};

    private static Subject field() {
        return GradSupport.neural("Linear-Tanh-Linear", Sequential.of(new Linear(2, 16), new Tanh(), new Linear(16, 2)),
                2, 99);
    }

    private static GradOptions opts(Sensitivity s, boolean seminorm) {
        return GradOptions.builder().sensitivity(s).seminorm(seminorm).build();
    }

    @ParameterizedTest
    @EnumSource(value = Sensitivity.class, names = {"ADJOINT", "INTERPOLATED_ADJOINT"})
    void adjointApproachesAutogradAsTheToleranceShrinks(Sensitivity mode) {
        try (Subject s = field()) {
            Problem p = new Problem(4, 2, TIMES, 3);
            double prev = Double.POSITIVE_INFINITY;
            for (double tol : new double[] {1e-4, 1e-6, 1e-8}) {
                Grads a = GradSupport.gradients(s, p, GradSupport.adaptive(tol), opts(mode, true));
                Grads b = GradSupport.gradients(s, p, GradSupport.adaptive(tol), opts(Sensitivity.AUTOGRAD, true));
                double diff = 0, scale = 0;
                for (double[][] pair : new double[][][] {{a.params(), b.params()}, {a.y0(), b.y0()}, {a.times(), b.times()}}) {
                    for (int i = 0; i < pair[0].length; i++) {
                        diff = Math.max(diff, Math.abs(pair[0][i] - pair[1][i]));
                        scale = Math.max(scale, Math.abs(pair[1][i]));
                    }
                }
                // Both are within O(tol) of the exact gradient: their difference is too (the factor
                // 100 covers the tolerance's loose control of the global error).
                assertTrue(diff < 100 * tol * Math.max(1, scale), mode + " tol " + tol + ": max difference " + diff);
                assertTrue(diff < prev, mode + " tol " + tol + ": difference " + diff + " did not shrink from " + prev);
                prev = diff;
            }
        }
    }

    @ParameterizedTest
    @EnumSource(value = Sensitivity.class, names = {"ADJOINT", "INTERPOLATED_ADJOINT"})
    void theSeminormNeverCostsMoreBackwardEvaluations(Sensitivity mode) {
        try (Subject s = field()) {
            Problem p = new Problem(4, 2, TIMES, 5);
            for (double tol : new double[] {1e-4, 1e-6, 1e-8}) {
                Grads semi = GradSupport.gradients(s, p, GradSupport.adaptive(tol), opts(mode, true));
                Grads full = GradSupport.gradients(s, p, GradSupport.adaptive(tol), opts(mode, false));
                assertTrue(semi.backwardNfe() <= full.backwardNfe(),
                        mode + " tol " + tol + ": seminorm " + semi.backwardNfe() + " > full norm " + full.backwardNfe());
                // Same forward solve either way.
                assertEquals(semi.forwardNfe(), full.forwardNfe());
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Sensitivity.class)
    void forwardAndBackwardEvaluationsAreReportedSeparately(Sensitivity mode) {
        try (NeuralField f = NeuralField.of(Sequential.of(new Linear(2, 8), new Tanh(), new Linear(8, 2)), 2,
                        DType.FLOAT64, 1);
                Tensor y0 = Tensor.of(new double[] {0.5, -0.5, 1, 0}, 2, 2);
                Tensor ct = Tensor.of(new double[] {1, 1, 1, 1, 1, 1, 1, 1}, 2, 2, 2);
                GradSolution s = Odeint.odeint(f, y0, new double[] {0, 1}, GradSupport.adaptive(1e-6),
                        opts(mode, true))) {
            assertEquals(mode, s.sensitivity());
            long forward = s.stats().nfe();
            assertTrue(forward > 0);
            Gradients g = s.backward(ct);
            assertEquals(forward, g.forwardStats().nfe());
            assertTrue(g.backwardStats().nfe() > 0, g.backwardStats().toString());
            if (mode != Sensitivity.AUTOGRAD) {
                // The adjoints solve backwards with steps of their own; autograd replays the forward steps.
                assertTrue(g.backwardStats().accepted() > 0, g.backwardStats().toString());
            }
            assertTrue(g.toString().contains("backward nfe="), g.toString());
        }
    }

    @Test
    void theAdjointTapeDoesNotGrowWithTheStepsAutogradsDoes() {
        try (NeuralField f = NeuralField.of(Sequential.of(new Linear(2, 8), new Tanh(), new Linear(8, 2)), 2,
                DType.FLOAT64, 1)) {
            long[] adj = new long[2], auto = new long[2];
            int[] steps = {10, 1000};
            for (int k = 0; k < 2; k++) {
                SolveOptions o = SolveOptions.builder().method("rk4").dt(1.5 / steps[k]).build();
                adj[k] = tapeBytes(f, o, Sensitivity.ADJOINT);
                auto[k] = tapeBytes(f, o, Sensitivity.AUTOGRAD);
            }
            assertEquals(adj[0], adj[1], "adjoint tape bytes, 10 vs 1000 steps");
            assertTrue(auto[1] > 50 * auto[0], "autograd tape bytes " + auto[0] + " -> " + auto[1]);
        }
    }

    private static long tapeBytes(NeuralField f, SolveOptions o, Sensitivity mode) {
        try (Tensor y0 = Tensor.of(new double[] {0.5, -0.5}, 1, 2);
                GradSolution s = Odeint.odeint(f, y0, new double[] {0, 1.5}, o, opts(mode, true))) {
            if (mode == Sensitivity.AUTOGRAD) {
                assertEquals(s.tapeSteps() + 1, s.stepTimes().length);
                assertEquals(0, s.stepTimes()[0]);
                assertEquals(1.5, s.stepTimes()[s.stepTimes().length - 1], 1e-12);
            } else {
                assertEquals(0, s.stepTimes().length);
            }
            return s.tapeBytes();
        }
    }
}
