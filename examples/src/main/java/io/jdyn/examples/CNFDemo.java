package io.jdyn.examples;

import io.jdyn.DType;
import io.jdyn.Tensor;
import io.jdyn.data.Dataset;
import io.jdyn.data.ToyDataset;
import io.jdyn.examples.plot.DensityPlots;
import io.jdyn.models.CNF;
import io.jdyn.models.CNFDensity;
import io.jdyn.models.NeuralODE;
import io.jdyn.models.TraceEstimator;
import io.jdyn.nn.DepthCat;
import io.jdyn.nn.Linear;
import io.jdyn.nn.Sequential;
import io.jdyn.nn.Tanh;
import io.jdyn.train.loss.LossValue;
import io.jdyn.train.optim.Adam;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Locale;

/**
 * FFJORD on its 8-gaussians density, torchdyn's CNF tutorial in Java: the field
 * f(t, z) = Linear(64, 2)(tanh(Linear(64, 64)(tanh(Linear(64, 64)(tanh(Linear(3, 64)([z, t]))))))) inside a
 * {@link CNF} (exact trace by default, or Hutchinson's), one native program solved by dopri5 over [0, 1]
 * with the adjoint; a fresh batch of the data every step, Adam, the loss the negative log-likelihood under
 * a standard normal base ({@link CNFDensity#nll}). Prints the NLL of a fixed held-out set every
 * {@code every} steps and writes the learned density and samples as PNGs.
 *
 * <p>{@code CNFDemo [steps] [exact|hutch|rademacher] [8gaussians|pinwheel]}: 1000 steps, exact trace, 8
 * gaussians by default; PNGs in target/ (cnf-density.png, cnf-samples.png; for pinwheel cnf-pinwheel-*.png).
 */
public final class CNFDemo {
    /** What to run; {@link #defaults()} is the example's full size. */
    public record Config(int steps, int batch, int width, double lr, double tol, TraceEstimator estimator,
            CNF.NoiseDist noise, int testSize, long seed, String dataset) {
        public Config(int steps, int batch, int width, double lr, double tol, TraceEstimator estimator,
                CNF.NoiseDist noise, int testSize, long seed) {
            this(steps, batch, width, lr, tol, estimator, noise, testSize, seed, "8gaussians");
        }

        public static Config defaults() {
            return new Config(1000, 512, 64, 5e-3, 1e-5, TraceEstimator.AUTOGRAD_TRACE, null, 2048, 0);
        }

        /** The density: ToyDataset's "8gaussians" (default) or "pinwheel". */
        public Config dataset(String name) {
            if (!name.equals("8gaussians") && !name.equals("pinwheel")) {
                throw new IllegalArgumentException("the density: 8gaussians or pinwheel, got " + name);
            }
            return new Config(steps, batch, width, lr, tol, estimator, noise, testSize, seed, name);
        }

        Dataset draw(int n, long drawSeed) {
            return ToyDataset.generate(dataset, n, drawSeed, DType.FLOAT32);
        }

        public Config steps(int s) {
            return new Config(s, batch, width, lr, tol, estimator, noise, testSize, seed, dataset);
        }

        public Config batch(int b) {
            return new Config(steps, b, width, lr, tol, estimator, noise, testSize, seed, dataset);
        }

        public Config width(int w) {
            return new Config(steps, batch, w, lr, tol, estimator, noise, testSize, seed, dataset);
        }

        public Config hutchinson(CNF.NoiseDist dist) {
            return new Config(steps, batch, width, lr, tol, TraceEstimator.HUTCH_TRACE, dist, testSize, seed, dataset);
        }
    }

    /**
     * Held-out NLL (nats) before and after training, the mean training step time, the forward NFE of the
     * last step, and the learned density's mass on the plotted window [-4, 4]^2 (a Riemann sum of p on the
     * 100 x 100 grid: close to 1 for a normalised density whose mass stays near the data).
     */
    public record Result(double initialNll, double finalNll, double msPerStep, long lastNfe, double windowMass,
            Path densityPng, Path samplesPng) {}

    /** Observer of the held-out NLL. */
    @FunctionalInterface
    public interface Progress {
        void report(int step, double testNll, long nfe);
    }

    /** The density's grid: GRID x GRID cells over [-LIM, LIM]^2. */
    static final int GRID = 100;
    static final double LIM = 4.0;

    private CNFDemo() {}

    public static void main(String[] args) {
        Config c = Config.defaults();
        if (args.length > 0) c = c.steps(Integer.parseInt(args[0]));
        if (args.length > 2) c = c.dataset(args[2]);
        if (args.length > 1) {
            c = switch (args[1]) {
                case "exact" -> c;
                case "hutch" -> c.hutchinson(CNF.NoiseDist.GAUSSIAN);
                case "rademacher" -> c.hutchinson(CNF.NoiseDist.RADEMACHER);
                default -> throw new IllegalArgumentException("the trace: exact, hutch (Gaussian noise) or rademacher, got "
                        + args[1]);
            };
        }
        long t0 = System.nanoTime();
        Result r = run(c, 100, (s, nll, nfe) -> System.out.printf(Locale.ROOT, "  step %4d  test NLL %.4f nats  (forward NFE %d)%n",
                s, nll, nfe), png(c, "density"), png(c, "samples"));
        System.out.printf(Locale.ROOT, "%s, %s, %d steps of %d: test NLL %.3f -> %.3f nats, %.1f ms a step, %.1f s;"
                + " mass of p on [-4, 4]^2 %.4f; wrote %s and %s%n", c.dataset(), c.estimator(), c.steps(), c.batch(), r.initialNll(),
                r.finalNll(), r.msPerStep(), (System.nanoTime() - t0) / 1e9, r.windowMass(), r.densityPng(), r.samplesPng());
    }

    private static Path png(Config c, String what) {
        return Path.of("target", c.dataset().equals("8gaussians") ? "cnf-" + what + ".png" : "cnf-" + c.dataset() + "-" + what + ".png");
    }

    /** The field net: [z, t] -> 64 -> 64 -> 64 -> 2, tanh. */
    public static Sequential net(int width) {
        return Sequential.of(new DepthCat(), new Linear(3, width), new Tanh(), new Linear(width, width), new Tanh(),
                new Linear(width, width), new Tanh(), new Linear(width, 2));
    }

    /** The flow model: the CNF of {@link #net} as one native program, dopri5 at tol, adjoint, float32. */
    public static NeuralODE model(Config c) {
        CNF cnf = new CNF(net(c.width()), c.estimator(), c.noise());
        return NeuralODE.builder(cnf, 3).solver("dopri5").rtol(c.tol()).atol(c.tol()).sensitivity("adjoint")
                .rtolAdjoint(c.tol()).atolAdjoint(c.tol()).seed(c.seed()).build();
    }

    /** Trains; every {@code every} steps (and at the end) reports the held-out NLL; PNG paths may be null. */
    public static Result run(Config c, int every, Progress progress, Path densityPng, Path samplesPng) {
        Dataset test = c.draw(c.testSize(), c.seed() + 1_000_003);
        double first, last;
        long totalNs = 0, nfe = 0;
        // Held-out figures, the density and the samples come from the exact trace (a Hutchinson estimate of
        // log p is unbiased but noisy): a twin of the flow, updated before each use.
        try (NeuralODE flow = model(c); NeuralODE exact = CNFDensity.withExactTrace(flow); Tensor testX = test.x();
                Adam adam = Adam.of(flow.parameters(), c.lr())) {
            first = testNll(exact, testX);
            if (progress != null) progress.report(0, first, 0);
            for (int step = 1; step <= c.steps(); step++) {
                Dataset batch = c.draw(c.batch(), c.seed() * 1_000_000_007L + step);
                long t0 = System.nanoTime();
                try (Tensor x = batch.x(); Tensor a = CNFDensity.augment(x); NeuralODE.Trace tr = flow.trace(a);
                        LossValue loss = CNFDensity.nll(tr.output())) {
                    adam.zeroGrad();
                    tr.backward(loss.grad()).close();
                    adam.step();
                    nfe = tr.solution().stats().nfe();
                }
                totalNs += System.nanoTime() - t0;
                if (progress != null && (step % every == 0 || step == c.steps())) {
                    CNFDensity.copyParameters(flow, exact);
                    progress.report(step, testNll(exact, testX), nfe);
                }
            }
            CNFDensity.copyParameters(flow, exact);
            last = testNll(exact, testX);
            Path d = null, s = null;
            double[] lp = grid(exact, GRID, LIM);
            double mass = 0, cell = 2 * LIM / GRID;
            for (double v : lp) mass += Math.exp(v) * cell * cell;
            try {
                if (densityPng != null) d = DensityPlots.density(densityPng, lp, GRID, 5);
                if (samplesPng != null) {
                    try (Tensor smp = CNFDensity.sample(exact, 2000, c.seed() + 7)) {
                        Dataset data = c.draw(2000, c.seed() + 11);
                        s = DensityPlots.samples(samplesPng, data.features(), smp.toDoubleArray(), LIM);
                    }
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            return new Result(first, last, c.steps() == 0 ? 0 : totalNs / 1e6 / c.steps(), nfe, mass, d, s);
        }
    }

    /** -mean log p over the held-out set (one forward solve). */
    public static double testNll(NeuralODE flow, Tensor x) {
        double[] lp = CNFDensity.logProb(flow, x);
        double s = 0;
        for (double v : lp) s += v;
        return -s / lp.length;
    }

    /** log p on a g x g grid over [-lim, lim]^2, row-major with row 0 at the top (y = lim). */
    public static double[] grid(NeuralODE flow, int g, double lim) {
        double[] pts = new double[2 * g * g];
        for (int r = 0; r < g; r++) {
            for (int c = 0; c < g; c++) {
                pts[2 * (r * g + c)] = -lim + (c + 0.5) * 2 * lim / g;
                pts[2 * (r * g + c) + 1] = lim - (r + 0.5) * 2 * lim / g;
            }
        }
        try (Tensor x = Tensor.of(flow.dtype(), pts, (long) g * g, 2)) {
            return CNFDensity.logProb(flow, x);
        }
    }
}
