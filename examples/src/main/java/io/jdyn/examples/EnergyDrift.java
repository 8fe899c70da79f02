package io.jdyn.examples;

import io.jdyn.DType;
import io.jdyn.Tensor;
import io.jdyn.examples.plot.EnergyPlots;
import io.jdyn.fn.Fn;
import io.jdyn.models.HNN;
import io.jdyn.models.LNN;
import io.jdyn.nn.Linear;
import io.jdyn.nn.NeuralField;
import io.jdyn.nn.Sequential;
import io.jdyn.nn.Softplus;
import io.jdyn.nn.Tanh;
import io.jdyn.ode.Odeint;
import io.jdyn.ode.Solution;
import io.jdyn.ode.SolveOptions;
import io.jdyn.train.loss.LossValue;
import io.jdyn.train.loss.MSELoss;
import io.jdyn.train.optim.Adam;
import java.nio.file.Path;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Energy conservation of learned dynamics (torchdyn's HNN tutorial, with an LNN beside it): the
 * mass-spring system H = (q^2 + p^2) / 2 (m = k = 1, so p = qdot and the same data serve the LNN's
 * [q, qdot]). Training data: {@code trajectories} trajectories of the closed form q = r cos(t + phi),
 * p = -r sin(t + phi) with r in [0.5, 1.5], sampled on [0, trainHorizon]; at each sample the exact
 * derivative (p, -q) is the target, and each model's field is fitted to it by MSE with Adam (field
 * fitting, as torchdyn's tutorial does, rather than fitting integrated segments). The models share the
 * hidden width: a plain Neural ODE field Linear(2, h) - Tanh - Linear(h, 2), {@link HNN} of
 * Linear(2, h) - Tanh - Linear(h, 1) and {@link LNN} of Linear(2, h) - Softplus - Linear(h, 1).
 *
 * <p>Then each learned field is integrated (dopri5, rtol = atol = 1e-9: solver drift negligible) from
 * test states on the unit circle over 10 training horizons (the training horizon is one period), and the
 * TRUE energy E is followed along. HNN conserves its learned H exactly, so the true energy only wobbles
 * along the orbit by the fit's error (a bounded oscillation, back to where it started every period); a
 * plain field's small non-conservative error accumulates. The drift is that secular change: the mean of E
 * over the last training horizon minus its mean over the first, relative to E(x0) (averaging over a whole
 * period takes the wobble out), averaged over the test states. The largest deviation |E(t) - E(x0)| / E(x0)
 * over the run, wobble included, is reported beside it.
 */
public final class EnergyDrift {
    /** Sizes of one run. */
    public record Config(int hidden, int trajectories, int samplesPerTrajectory, double trainHorizon, int steps,
            double lr, int testStates, int outputsPerHorizon, long seed) {
        /** The example's full size. */
        public static Config full() {
            return new Config(32, 32, 25, 2 * Math.PI, 3000, 5e-3, 8, 40, 0);
        }
    }

    /** The final training MSE of a model and the drift of the true energy over 10 training horizons. */
    public record ModelResult(String name, double trainMse, double drift, double maxDeviation, double[] energy) {}

    /** The times of the test run and the mean relative energy error per time, per model. */
    public record Result(double[] times, ModelResult plain, ModelResult hnn, ModelResult lnn) {}

    /** The test horizon in training horizons. */
    public static final int HORIZONS = 10;

    private EnergyDrift() {}

    public static void main(String[] args) throws Exception {
        Config c = Config.full();
        int steps = args.length > 0 ? Integer.parseInt(args[0]) : c.steps();
        c = new Config(c.hidden(), c.trajectories(), c.samplesPerTrajectory(), c.trainHorizon(), steps, c.lr(),
                c.testStates(), c.outputsPerHorizon(), c.seed());
        long start = System.nanoTime();
        Result r = run(c);
        for (ModelResult m : new ModelResult[] {r.plain(), r.hnn(), r.lnn()}) {
            System.out.printf(Locale.ROOT, "%-10s train MSE %.3g   energy drift over %d training horizons %.3g"
                    + "   (largest |E - E0| / E0 %.3g)%n", m.name(), m.trainMse(), HORIZONS, m.drift(), m.maxDeviation());
        }
        System.out.printf(Locale.ROOT, "drift ratio plain / HNN = %.1f, plain / LNN = %.1f (%.1f s)%n",
                r.plain().drift() / r.hnn().drift(), r.plain().drift() / r.lnn().drift(),
                (System.nanoTime() - start) / 1e9);
        Path png = EnergyPlots.drift(Path.of(args.length > 1 ? args[1] : "energy-drift.png"), r.times(),
                r.plain().energy(), r.hnn().energy(), r.lnn().energy());
        System.out.println("plot: " + png);
    }

    /** The true energy of the mass-spring system. */
    static double energy(double q, double p) {
        return 0.5 * (q * q + p * p);
    }

    /** Training states [N, 2] and their exact derivatives [N, 2], flat. */
    static double[][] data(Config c) {
        SplittableRandom rnd = new SplittableRandom(c.seed() + 1);
        int n = c.trajectories() * c.samplesPerTrajectory();
        double[] x = new double[2 * n], dx = new double[2 * n];
        for (int k = 0, i = 0; k < c.trajectories(); k++) {
            double r = rnd.nextDouble(0.5, 1.5), phi = rnd.nextDouble(0, 2 * Math.PI);
            for (int s = 0; s < c.samplesPerTrajectory(); s++, i++) {
                double t = c.trainHorizon() * s / (c.samplesPerTrajectory() - 1);
                double q = r * Math.cos(t + phi), p = -r * Math.sin(t + phi);
                x[2 * i] = q;
                x[2 * i + 1] = p;
                dx[2 * i] = p;
                dx[2 * i + 1] = -q;
            }
        }
        return new double[][] {x, dx};
    }

    public static Result run(Config c) {
        double[][] d = data(c);
        int n = d[0].length / 2, h = c.hidden();
        Fn plain = Sequential.of(new Linear(2, h), new Tanh(), new Linear(h, 2));
        Fn hnn = new HNN(Sequential.of(new Linear(2, h), new Tanh(), new Linear(h, 1)));
        Fn lnn = new LNN(Sequential.of(new Linear(2, h), new Softplus(), new Linear(h, 1)));
        double[] times = testTimes(c);
        try (Tensor x = Tensor.of(d[0], n, 2); Tensor dx = Tensor.of(d[1], n, 2)) {
            return new Result(times, fitAndTest("NeuralODE", plain, c, x, dx, times),
                    fitAndTest("HNN", hnn, c, x, dx, times), fitAndTest("LNN", lnn, c, x, dx, times));
        }
    }

    static double[] testTimes(Config c) {
        int m = HORIZONS * c.outputsPerHorizon() + 1;
        double[] t = new double[m];
        for (int i = 0; i < m; i++) t[i] = HORIZONS * c.trainHorizon() * i / (m - 1);
        return t;
    }

    /** Fits fn's field to the derivatives, then measures the true energy along its solves. */
    static ModelResult fitAndTest(String name, Fn fn, Config c, Tensor x, Tensor dx, double[] times) {
        MSELoss mse = new MSELoss();
        double last = Double.NaN;
        try (NeuralField f = NeuralField.of(fn, 2, DType.FLOAT64, c.seed()); Adam adam = Adam.of(f.parameters(), c.lr())) {
            for (int it = 0; it < c.steps(); it++) {
                try (Tensor out = f.forward(0, x); LossValue loss = mse.compute(out, dx)) {
                    last = loss.value();
                    adam.zeroGrad();
                    try (NeuralField.Vjp v = f.vjp(0, x, loss.grad())) {
                        adam.step();
                    }
                }
            }
            try (Tensor out = f.forward(0, x)) {
                last = mse.value(out, dx);
            }
            return test(name, f, c, times, last);
        }
    }

    static ModelResult test(String name, NeuralField f, Config c, double[] times, double trainMse) {
        int b = c.testStates();
        double[] y0 = new double[2 * b];
        for (int i = 0; i < b; i++) {
            double a = 2 * Math.PI * (i + 0.5) / b; // radius 1: inside the training radii
            y0[2 * i] = Math.cos(a);
            y0[2 * i + 1] = Math.sin(a);
        }
        SolveOptions o = SolveOptions.builder().method("dopri5").rtol(1e-9).atol(1e-9).maxSteps(1_000_000).build();
        double[] err = new double[times.length];
        double drift = 0, maxDeviation = 0;
        int per = c.outputsPerHorizon(), lastWindow = (HORIZONS - 1) * per;
        try (Tensor y = Tensor.of(y0, b, 2); Solution s = Odeint.odeint(f, y, times, o)) {
            double[] ys = s.ys().toDoubleArray();
            double[] worst = new double[b], first = new double[b], last = new double[b];
            for (int k = 0; k < times.length; k++) {
                double sum = 0;
                for (int i = 0; i < b; i++) {
                    double e0 = energy(y0[2 * i], y0[2 * i + 1]);
                    int at = (k * b + i) * 2;
                    double e = energy(ys[at], ys[at + 1]), rel = Math.abs(e - e0) / e0;
                    sum += rel;
                    worst[i] = Math.max(worst[i], rel);
                    // per samples spaced evenly over one training horizon (one period) each
                    if (k < per) first[i] += e / per;
                    if (k >= lastWindow && k < lastWindow + per) last[i] += e / per;
                }
                err[k] = sum / b;
            }
            for (int i = 0; i < b; i++) {
                drift += Math.abs(last[i] - first[i]) / energy(y0[2 * i], y0[2 * i + 1]) / b;
                maxDeviation += worst[i] / b;
            }
        }
        return new ModelResult(name, trainMse, drift, maxDeviation, err);
    }
}
