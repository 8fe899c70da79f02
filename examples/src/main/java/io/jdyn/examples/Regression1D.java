package io.jdyn.examples;

import io.jdyn.DType;
import io.jdyn.examples.plot.RegressionPlots;
import io.jdyn.Tensor;
import io.jdyn.nn.DepthCat;
import io.jdyn.nn.Linear;
import io.jdyn.nn.NeuralField;
import io.jdyn.nn.Parameters;
import io.jdyn.nn.Sequential;
import io.jdyn.nn.Tanh;
import io.jdyn.ode.GradOptions;
import io.jdyn.ode.GradSolution;
import io.jdyn.ode.Gradients;
import io.jdyn.ode.Odeint;
import io.jdyn.ode.Sensitivity;
import io.jdyn.ode.Solution;
import io.jdyn.ode.SolveOptions;
import io.jdyn.train.loss.Cotangents;
import io.jdyn.train.loss.LossValue;
import io.jdyn.train.loss.MSELoss;
import io.jdyn.train.optim.SGD;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Random;

/**
 * The 1-D regression of "Neural ODEs from scratch" (chapter 3 of the NeurIPS 2020 tutorial): inputs
 * linspace(-2, 2, 10), targets x^3 + 0.1 x, fitted by
 * <ul>
 *   <li>an ODE net: dz/dt = f([z, t]) with f = Linear(2, 20) - Tanh - Linear(20, 1) (DepthCat appends
 *   t), integrated over [0, 1] with dopri5, gradients by the adjoint, the prediction being z(1);</li>
 *   <li>the chapter's residual network: z + Linear(20, 1)(tanh(Linear(1, 20)(z))), written by hand
 *   below (forward and backward in plain Java; the chapter's loop adds the same block to the same
 *   input each time, so its depth-3 network is one residual block).</li>
 * </ul>
 * Both start from the chapter's initialisation (every weight and bias N(0, 1), scale 1.0; seeded
 * java.util.Random rather than NumPy's stream) and are trained the same way: plain gradient descent
 * with step 0.01 for 1000 iterations on the mean squared error.
 *
 * <p>Afterwards both models are evaluated on a fine grid over [-2, 2] and the fit is drawn as the
 * chapter's figure (training points, target curve, both predictions) to a PNG.
 *
 * <p>Arguments: {@code [ITERS]} or {@code --iters N} (default 1000), {@code --out PATH} (the PNG,
 * default target/regression-fit.png).
 */
public final class Regression1D {
    /** Final (and initial) mean squared errors of both models, and the ODE net's last forward NFE. */
    public record Result(double odeMse, double resnetMse, double odeInitialMse, double resnetInitialMse,
            long odeNfe, int iterations, double[] grid, double[] odeFit, double[] resnetFit, Path png) {}

    static final int N = 10;
    static final int HIDDEN = 20;
    /** Points of the fine grid on [-2, 2] on which the fitted models are drawn. */
    static final int GRID = 200;

    private Regression1D() {}

    public static void main(String[] args) {
        int iters = 1000;
        Path out = Path.of("target", "regression-fit.png");
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if ((a.equals("--out") || a.equals("--iters")) && i + 1 >= args.length) usage(a + " needs a value");
            switch (a) {
                case "--out" -> out = Path.of(args[++i]);
                case "--iters" -> iters = parseIters(args[++i]);
                default -> {
                    if (a.startsWith("-")) usage("unknown option " + a);
                    iters = parseIters(a);
                }
            }
        }
        long start = System.nanoTime();
        Result r = run(iters, 0.01, 0, out);
        System.out.printf(Locale.ROOT, "1-D regression, %d iterations of gradient descent (lr 0.01), MSE:%n", r.iterations());
        System.out.printf(Locale.ROOT, "  ODE net: %.3g -> %.3g (last forward solve: %d evaluations)%n",
                r.odeInitialMse(), r.odeMse(), r.odeNfe());
        System.out.printf(Locale.ROOT, "  ResNet : %.3g -> %.3g%n", r.resnetInitialMse(), r.resnetMse());
        System.out.printf(Locale.ROOT, "  (%.1f s)%n", (System.nanoTime() - start) / 1e9);
        System.out.println("fit plot: " + r.png());
    }

    private static int parseIters(String v) {
        try {
            int n = Integer.parseInt(v);
            if (n < 0) usage("iterations must be >= 0: " + v);
            return n;
        } catch (NumberFormatException e) {
            usage("not a number of iterations: " + v);
            return 0;
        }
    }

    private static void usage(String why) {
        System.err.println(why);
        System.err.println("usage: Regression1D [ITERS | --iters N] [--out fit.png]");
        System.exit(2);
    }

    static double[] inputs() {
        double[] x = new double[N];
        for (int i = 0; i < N; i++) x[i] = -2.0 + 4.0 * i / (N - 1);
        return x;
    }

    static double[] targets(double[] x) {
        double[] y = new double[x.length];
        for (int i = 0; i < x.length; i++) y[i] = x[i] * x[i] * x[i] + 0.1 * x[i];
        return y;
    }

    static double[] randn(Random rng, int n) {
        double[] v = new double[n];
        for (int i = 0; i < n; i++) v[i] = rng.nextGaussian();
        return v;
    }

    /** The fine grid: GRID points evenly spaced over [-2, 2]. */
    static double[] grid() {
        double[] g = new double[GRID];
        for (int i = 0; i < GRID; i++) g[i] = -2.0 + 4.0 * i / (GRID - 1);
        return g;
    }

    /**
     * Trains both models for {@code iters} steps of gradient descent with step {@code lr} and evaluates
     * them on the fine grid; draws nothing (the result's png is null).
     */
    public static Result run(int iters, double lr, long seed) {
        return run(iters, lr, seed, null);
    }

    /**
     * As {@link #run(int, double, long)}, then, when {@code png} is not null, writes the fit (training
     * points, target curve, both predictions on the fine grid) there.
     */
    public static Result run(int iters, double lr, long seed, Path png) {
        double[] x = inputs();
        double[] y = targets(x);
        double[] g = grid();
        double[] odeFit = new double[GRID], resFit = new double[GRID];
        double[] ode = trainOdeNet(x, y, iters, lr, seed, g, odeFit);
        double[] res = trainResNet(x, y, iters, lr, seed, g, resFit);
        Path written = null;
        if (png != null) {
            try {
                written = RegressionPlots.fit(png, x, y, g, targets(g), odeFit, resFit);
            } catch (IOException e) {
                throw new UncheckedIOException("could not write " + png, e);
            }
        }
        return new Result(ode[1], res[1], ode[0], res[0], (long) ode[2], iters, g, odeFit, resFit, written);
    }

    /**
     * {initial MSE, final MSE, last forward NFE} of the ODE net; its trained prediction z(1) at each
     * point of grid goes into fit.
     */
    static double[] trainOdeNet(double[] x, double[] y, int iters, double lr, long seed, double[] grid, double[] fit) {
        Sequential net = Sequential.of(new DepthCat(), new Linear(2, HIDDEN), new Tanh(), new Linear(HIDDEN, 1));
        SolveOptions opts = SolveOptions.builder().method("dopri5").rtol(1e-7).atol(1e-7).build();
        GradOptions grad = GradOptions.builder().sensitivity(Sensitivity.ADJOINT).build();
        double[] ts = {0, 1};
        MSELoss mse = new MSELoss();
        double first = Double.NaN, last = Double.NaN;
        long nfe = 0;
        try (NeuralField f = NeuralField.of(net, 1, DType.FLOAT64, seed);
                Tensor x0 = Tensor.of(x, N, 1);
                Tensor target = Tensor.of(y, N, 1);
                SGD sgd = SGD.of(f.parameters(), lr)) {
            Parameters p = f.parameters();
            Random rng = new Random(seed);
            for (int layer = 0; layer < p.numLayers(); layer++) {
                if (p.count(layer) > 0) p.setLayerValues(layer, randn(rng, (int) p.count(layer)));
            }
            for (int it = 0; it <= iters; it++) {
                try (GradSolution s = Odeint.odeint(f, x0, ts, opts, grad);
                        Tensor pred = Cotangents.lastState(s.ys());
                        LossValue loss = mse.compute(pred, target)) {
                    if (it == 0) first = loss.value();
                    last = loss.value();
                    nfe = s.stats().nfe();
                    if (it == iters) break; // the last pass only measures
                    sgd.zeroGrad();
                    try (Tensor cot = Cotangents.atLastTime(loss.grad(), ts.length); Gradients g = s.backward(cot)) {
                        sgd.step();
                    }
                }
            }
            try (Tensor g0 = Tensor.of(grid, grid.length, 1);
                    Solution s = Odeint.odeint(f, g0, ts, opts);
                    Tensor pred = Cotangents.lastState(s.ys())) {
                double[] v = pred.toDoubleArray();
                System.arraycopy(v, 0, fit, 0, grid.length);
            }
        }
        return new double[] {first, last, nfe};
    }

    /**
     * {initial MSE, final MSE} of the residual network pred = x + W2 tanh(W1 x + b1) + b2; its trained
     * prediction at each point of grid goes into fit.
     */
    static double[] trainResNet(double[] x, double[] y, int iters, double lr, long seed, double[] grid, double[] fit) {
        Random rng = new Random(seed + 1);
        double[] w1 = randn(rng, HIDDEN), b1 = randn(rng, HIDDEN), w2 = randn(rng, HIDDEN);
        double b2 = rng.nextGaussian();
        double[] h = new double[HIDDEN];
        double first = Double.NaN, last = Double.NaN;
        for (int it = 0; it <= iters; it++) {
            double[] gw1 = new double[HIDDEN], gb1 = new double[HIDDEN], gw2 = new double[HIDDEN];
            double gb2 = 0, loss = 0;
            for (int n = 0; n < x.length; n++) {
                double out = x[n] + b2;
                for (int j = 0; j < HIDDEN; j++) {
                    h[j] = Math.tanh(w1[j] * x[n] + b1[j]);
                    out += w2[j] * h[j];
                }
                double d = out - y[n];
                loss += d * d / x.length;
                double g = 2 * d / x.length; // dL/dout
                gb2 += g;
                for (int j = 0; j < HIDDEN; j++) {
                    gw2[j] += g * h[j];
                    double gpre = g * w2[j] * (1 - h[j] * h[j]);
                    gw1[j] += gpre * x[n];
                    gb1[j] += gpre;
                }
            }
            if (it == 0) first = loss;
            last = loss;
            if (it == iters) break;
            for (int j = 0; j < HIDDEN; j++) {
                w1[j] -= lr * gw1[j];
                b1[j] -= lr * gb1[j];
                w2[j] -= lr * gw2[j];
            }
            b2 -= lr * gb2;
        }
        for (int n = 0; n < grid.length; n++) {
            double out = grid[n] + b2;
            for (int j = 0; j < HIDDEN; j++) out += w2[j] * Math.tanh(w1[j] * grid[n] + b1[j]);
            fit[n] = out;
        }
        return new double[] {first, last};
    }
}
