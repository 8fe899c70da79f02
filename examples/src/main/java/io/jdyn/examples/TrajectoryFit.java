package io.jdyn.examples;

import io.jdyn.DType;
import io.jdyn.Tensor;
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
import io.jdyn.train.loss.LossValue;
import io.jdyn.train.loss.MSELoss;
import io.jdyn.train.optim.Adam;
import java.util.Locale;

/**
 * Fitting a trajectory from data, after torchdiffeq's ode_demo: the spiral of the linear system
 * dz/dt = A z, A = [[-0.1, 2], [-2, -0.1]], from z0 = (2, 0), sampled at {@link #TIMES} times on
 * [0, {@link #T_END}] (its exact solution, z(t) = e^{-0.1 t} R(-2t) z0), is fitted by a NeuralODE field
 * Linear(2, 50) - Tanh - Linear(50, 2) (plain input, not the demo's cube) with a trajectory loss: the
 * MSE over every output time, its gradient handed to the adjoint as the cotangent of all of ys. Adam,
 * lr 0.01, dopri5 at rtol = atol = 1e-6, float64.
 */
public final class TrajectoryFit {
    /** The trajectory MSE at the start, at the end, and its lowest value over the iterations. */
    public record Result(double initialMse, double finalMse, double bestMse, int iterations, long lastForwardNfe) {}

    public static final int TIMES = 40;
    public static final double T_END = 5.0;

    private TrajectoryFit() {}

    public static void main(String[] args) {
        int iters = args.length > 0 ? Integer.parseInt(args[0]) : 1000;
        long start = System.nanoTime();
        Result r = run(iters, 1e-2, 0, (it, mse) -> {
            if (it % 100 == 0) System.out.printf(Locale.ROOT, "  iter %4d  trajectory MSE %.4g%n", it, mse);
        });
        System.out.printf(Locale.ROOT, "spiral fit, %d Adam iterations: trajectory MSE %.4g -> %.4g (best %.4g),"
                + " last forward solve %d evaluations, %.1f s%n", r.iterations(), r.initialMse(), r.finalMse(),
                r.bestMse(), r.lastForwardNfe(), (System.nanoTime() - start) / 1e9);
    }

    /** Observer of the loss per iteration. */
    @FunctionalInterface
    public interface Progress {
        void report(int iteration, double mse);
    }

    /** The observed times: linspace(0, T_END, TIMES). */
    public static double[] times() {
        double[] t = new double[TIMES];
        for (int i = 0; i < TIMES; i++) t[i] = T_END * i / (TIMES - 1);
        return t;
    }

    /** The true trajectory [TIMES, 1, 2] as a flat array. */
    public static double[] spiral(double[] t) {
        double[] z = new double[t.length * 2];
        for (int i = 0; i < t.length; i++) {
            double decay = Math.exp(-0.1 * t[i]);
            // z0 = (2, 0): z1 = 2 e^{-0.1t} cos 2t, z2 = -2 e^{-0.1t} sin 2t
            z[2 * i] = 2 * decay * Math.cos(2 * t[i]);
            z[2 * i + 1] = -2 * decay * Math.sin(2 * t[i]);
        }
        return z;
    }

    public static Result run(int iters, double lr, long seed, Progress progress) {
        double[] t = times();
        SolveOptions opts = SolveOptions.builder().method("dopri5").rtol(1e-6).atol(1e-6).build();
        GradOptions grad = GradOptions.builder().sensitivity(Sensitivity.ADJOINT).build();
        MSELoss mse = new MSELoss();
        double first = Double.NaN, last = Double.NaN, best = Double.POSITIVE_INFINITY;
        long nfe = 0;
        try (NeuralField f = NeuralField.of(Sequential.of(new Linear(2, 50), new Tanh(), new Linear(50, 2)), 2,
                        DType.FLOAT64, seed);
                Tensor y0 = Tensor.of(new double[] {2, 0}, 1, 2);
                Tensor target = Tensor.of(spiral(t), TIMES, 1, 2);
                Adam adam = Adam.of(f.parameters(), lr)) {
            for (int it = 0; it <= iters; it++) {
                try (GradSolution s = Odeint.odeint(f, y0, t, opts, grad);
                        LossValue loss = mse.compute(s.ys(), target)) {
                    if (it == 0) first = loss.value();
                    last = loss.value();
                    best = Math.min(best, last);
                    nfe = s.stats().nfe();
                    if (progress != null) progress.report(it, last);
                    if (it == iters) break; // the last pass only measures
                    adam.zeroGrad();
                    try (Gradients g = s.backward(loss.grad())) {
                        adam.step();
                    }
                }
            }
        }
        return new Result(first, last, best, iters, nfe);
    }
}
