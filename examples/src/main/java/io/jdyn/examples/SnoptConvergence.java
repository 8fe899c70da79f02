package io.jdyn.examples;

import io.jdyn.DType;
import io.jdyn.Tensor;
import io.jdyn.data.Dataset;
import io.jdyn.data.ToyDataset;
import io.jdyn.models.NeuralODE;
import io.jdyn.nn.Linear;
import io.jdyn.nn.Sequential;
import io.jdyn.nn.Tanh;
import io.jdyn.train.loss.CrossEntropyLoss;
import io.jdyn.train.loss.LossValue;
import io.jdyn.train.loss.MSELoss;
import io.jdyn.train.loss.Metrics;
import io.jdyn.train.optim.Adam;
import io.jdyn.train.optim.Optimizer;
import io.jdyn.train.optim.SGD;
import io.jdyn.train.optim.SNOpt;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Wall-clock to a target for SNOpt (preconditioning plain SGD), Adam and SGD on one task, full batch,
 * dopri5 with the adjoint (SNOpt needs it; the others use the same), float64, one seed for all:
 * <ul>
 *   <li>moons: 256 points, noise 0.1, field Linear(2, 64) - Tanh - Linear(64, 2) on the 2-d state read
 *       as logits; target training accuracy 0.97.</li>
 *   <li>spirals: torchdyn's spirals, 2 x 128 points, noise 0.5, state augmented with 2 zeros (a 2-d flow
 *       cannot untangle them), field Linear(4, 64) - Tanh - Linear(64, 4), logits the first 2 components;
 *       target training accuracy 0.95.</li>
 *   <li>trajectory: TrajectoryFit's damped spiral (40 times on [0, 5] from (2, 0)), field
 *       Linear(2, 50) - Tanh - Linear(50, 2); target MSE 0.01.</li>
 * </ul>
 * The metric is read on each iteration's forward pass (before its update); the clock covers the whole
 * loop (forward, backward, SNOpt's collection and eigendecompositions, the step).
 */
public final class SnoptConvergence {
    public enum Task { MOONS, SPIRALS, TRAJECTORY }

    public enum Opt { SNOPT, ADAM, SGD }

    /** reached: whether the target was met; iters and seconds up to that point (or all of them). */
    public record Outcome(Task task, Opt opt, double lr, boolean reached, int iters, double seconds, double metric,
            double loss, double target, List<double[]> curve) {}

    private SnoptConvergence() {}

    /** The learning rate each optimizer uses on each task (the best of a short sweep of 2-4 values each at seed 0, bench/README.md). */
    public static double lr(Task task, Opt opt) {
        return switch (opt) {
            case SNOPT -> task == Task.MOONS ? 0.5 : task == Task.SPIRALS ? 0.3 : 0.02;
            case ADAM -> task == Task.MOONS ? 0.05 : task == Task.SPIRALS ? 0.02 : 0.05;
            case SGD -> task == Task.MOONS ? 1.0 : task == Task.SPIRALS ? 0.5 : 0.05;
        };
    }

    public static double target(Task task) {
        return switch (task) {
            case MOONS -> 0.97;
            case SPIRALS -> 0.95;
            case TRAJECTORY -> 0.01;
        };
    }

    public static Outcome run(Task task, Opt opt, int maxIters, long seed) {
        return run(task, opt, lr(task, opt), maxIters, seed);
    }

    public static Outcome run(Task task, Opt opt, double lr, int maxIters, long seed) {
        int dim = task == Task.SPIRALS ? 4 : 2;
        int width = task == Task.TRAJECTORY ? 50 : 64;
        Sequential net = Sequential.of(new Linear(dim, width), new Tanh(), new Linear(width, dim));
        double target = target(task);
        try (NeuralODE model = NeuralODE.builder(net, dim).dtype(DType.FLOAT64).seed(seed).solver("dopri5")
                .sensitivity("adjoint").rtol(1e-4).atol(1e-4).build()) {
            Problem p = Problem.of(task, seed, dim);
            try (Tensor x = Tensor.of(p.x, p.rows, dim); Optimizer o = optimizer(opt, model, lr)) {
                SNOpt precond = opt == Opt.SNOPT ? new SNOpt(model, 0.05, 100, 0.75, false) : null;
                List<double[]> curve = new ArrayList<>();
                long t0 = System.nanoTime();
                double metric = Double.NaN, loss = Double.NaN;
                for (int it = 0; it < maxIters; it++) {
                    if (precond != null) precond.trainItrSetup();
                    o.zeroGrad();
                    if (task == Task.TRAJECTORY) {
                        try (NeuralODE.Trace tr = model.trace(x, p.times);
                                Tensor y = Tensor.of(p.target, p.times.length, 1, dim);
                                LossValue l = new MSELoss().compute(tr.output(), y)) {
                            loss = l.value();
                            metric = loss;
                            if (metric <= target) {
                                return done(task, opt, lr, true, it, t0, metric, loss, target, curve);
                            }
                            tr.backward(l.grad());
                        }
                    } else {
                        try (NeuralODE.Trace tr = model.trace(x)) {
                            double[] out = tr.output().toDoubleArray();
                            double[] logits = new double[p.rows * 2];
                            for (int i = 0; i < p.rows; i++) {
                                logits[2 * i] = out[i * dim];
                                logits[2 * i + 1] = out[i * dim + 1];
                            }
                            try (Tensor lg = Tensor.of(logits, p.rows, 2);
                                    LossValue l = new CrossEntropyLoss().compute(lg, p.labels)) {
                                loss = l.value();
                                metric = Metrics.accuracy(lg, p.labels);
                                if (metric >= target) {
                                    return done(task, opt, lr, true, it, t0, metric, loss, target, curve);
                                }
                                double[] g = l.grad().toDoubleArray();
                                double[] full = new double[p.rows * dim];
                                for (int i = 0; i < p.rows; i++) {
                                    full[i * dim] = g[2 * i];
                                    full[i * dim + 1] = g[2 * i + 1];
                                }
                                try (Tensor ct = Tensor.of(full, p.rows, dim)) {
                                    tr.backward(ct);
                                }
                            }
                        }
                    }
                    if (precond != null) precond.step();
                    o.step();
                    curve.add(new double[] {(System.nanoTime() - t0) * 1e-9, loss, metric});
                }
                return done(task, opt, lr, false, maxIters, t0, metric, loss, target, curve);
            }
        }
    }

    private static Outcome done(Task task, Opt opt, double lr, boolean reached, int iters, long t0, double metric,
            double loss, double target, List<double[]> curve) {
        return new Outcome(task, opt, lr, reached, iters, (System.nanoTime() - t0) * 1e-9, metric, loss, target, curve);
    }

    private static Optimizer optimizer(Opt opt, NeuralODE model, double lr) {
        return switch (opt) {
            case SNOPT, SGD -> SGD.of(model.parameters(), lr);
            case ADAM -> Adam.of(model.parameters(), lr);
        };
    }

    /** The data of a task: inputs [rows, dim] (or y0 [1, dim] and the times), labels or the target trajectory. */
    private record Problem(double[] x, int rows, int[] labels, double[] times, double[] target) {
        static Problem of(Task task, long seed, int dim) {
            switch (task) {
                case TRAJECTORY: {
                    double[] t = TrajectoryFit.times();
                    return new Problem(new double[] {2, 0}, 1, null, t, TrajectoryFit.spiral(t));
                }
                default: {
                    Dataset d = task == Task.MOONS ? ToyDataset.moons(256, 0.1, seed, DType.FLOAT64)
                            : ToyDataset.spirals(128, 0.5, seed, DType.FLOAT64);
                    double[] f = d.features();
                    int n = d.y().length;
                    double[] x = new double[n * dim];
                    for (int i = 0; i < n; i++) {
                        x[i * dim] = f[2 * i];
                        x[i * dim + 1] = f[2 * i + 1];
                    }
                    return new Problem(x, n, d.y(), null, null);
                }
            }
        }
    }

    public static void main(String[] args) {
        int iters = args.length > 0 ? Integer.parseInt(args[0]) : 300;
        for (Task task : Task.values()) {
            for (Opt opt : Opt.values()) {
                Outcome o = run(task, opt, iters, 0);
                System.out.printf(Locale.ROOT, "%-10s %-6s lr %-6g reached %-5b iters %4d  %.2f s  metric %.4f loss %.4f%n",
                        task, opt, o.lr(), o.reached(), o.iters(), o.seconds(), o.metric(), o.loss());
            }
        }
    }
}
