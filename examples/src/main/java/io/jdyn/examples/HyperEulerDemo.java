package io.jdyn.examples;

import io.jdyn.DType;
import io.jdyn.Jdyn;
import io.jdyn.Tensor;
import io.jdyn.data.Dataset;
import io.jdyn.data.ToyDataset;
import io.jdyn.examples.plot.HyperPlots;
import io.jdyn.models.NeuralODE;
import io.jdyn.nn.Linear;
import io.jdyn.nn.NeuralField;
import io.jdyn.nn.Sequential;
import io.jdyn.nn.Tanh;
import io.jdyn.numerics.HyperEuler;
import io.jdyn.numerics.HyperField;
import io.jdyn.numerics.HyperMidpoint;
import io.jdyn.numerics.HyperRungeKutta4;
import io.jdyn.numerics.HyperSolver;
import io.jdyn.numerics.ResidualFit;
import io.jdyn.ode.Method;
import io.jdyn.ode.Odeint;
import io.jdyn.ode.Solution;
import io.jdyn.ode.SolveOptions;
import io.jdyn.train.EarlyStopping;
import io.jdyn.train.Mode;
import io.jdyn.train.Trainer;
import io.jdyn.train.loss.Metrics;
import io.jdyn.train.optim.Adam;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Seed 000's hypersolver section on jdyn: the moons Neural ODE of {@link MoonsDemo} (Linear(2, 64) -
 * Tanh - Linear(64, 2), dopri5, adjoint, Adam lr 0.01 until accuracy 0.97), then a HyperEuler whose
 * hypernet is Linear(5, 2) on [eps, z, f(z)] (12 parameters) fitted to Euler's local residuals along
 * dopri5 trajectories of the training points. Compares, at the end of the flow (s = 1), with dopri5 as
 * the model was trained: NFE, the terminal error |z(1) - z_dopri5(1)| (mean and max over points, on the
 * training points and on fresh moons), the classifier's accuracy; plain Euler at the same NFE; and (with
 * {@code --all}) HyperMidpoint and HyperRungeKutta4 against midpoint and rk4. Writes the flows of dopri5,
 * HyperEuler and Euler side by side (target/hypereuler-flows.png).
 *
 * <p>Arguments: {@code --out PATH}, {@code --n N} (points, default 512), {@code --steps K} (HyperEuler's
 * steps over [0, 1], default 16: under half of dopri5's 40-odd evaluations, the seed's "under 20"),
 * {@code --fit-epochs E} (default 1000), {@code --fit-lr LR} (Adam's, default 0.05), {@code --seed S}, {@code --all}.
 */
public final class HyperEulerDemo {
    /** The run's settings. */
    public record Options(int n, int maxEpochs, long seed, int steps, int fitEpochs, double fitLr, boolean all, Path png) {
        public static Options defaults() {
            return new Options(512, 300, 0, 16, 1000, 5e-2, false, Path.of("target", "hypereuler-flows.png"));
        }
    }

    /**
     * One solver's figures at s = 1 against dopri5 (the trained model's solver): NFE of one solve of the
     * batch, the mean and largest Euclidean distance over points, the classifier's accuracy; on fresh
     * (held-out) moons the same error.
     */
    public record Row(String solver, int steps, long nfe, double meanError, double maxError, double accuracy,
            double heldOutMeanError, double heldOutMaxError) {}

    /** What a run produced. */
    public record Outcome(double dopriAccuracy, long dopriNfe, double dopriMeanErrorVsTight, double meanNorm, List<Row> rows,
            ResidualFit.Result fit, long hypernetParams, Path png) {
        /** The row of the named solver. */
        public Row row(String name) {
            for (Row r : rows) {
                if (r.solver().equals(name)) return r;
            }
            throw new IllegalArgumentException("no row " + name + " in " + rows);
        }
    }

    private HyperEulerDemo() {}

    public static void main(String[] args) throws IOException {
        Options o = Options.defaults();
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            String v = i + 1 < args.length ? args[i + 1] : null;
            switch (a) {
                case "--out" -> { o = new Options(o.n(), o.maxEpochs(), o.seed(), o.steps(), o.fitEpochs(), o.fitLr(), o.all(), Path.of(need(a, v))); i++; }
                case "--n" -> { o = new Options(Integer.parseInt(need(a, v)), o.maxEpochs(), o.seed(), o.steps(), o.fitEpochs(), o.fitLr(), o.all(), o.png()); i++; }
                case "--steps" -> { o = new Options(o.n(), o.maxEpochs(), o.seed(), Integer.parseInt(need(a, v)), o.fitEpochs(), o.fitLr(), o.all(), o.png()); i++; }
                case "--fit-epochs" -> { o = new Options(o.n(), o.maxEpochs(), o.seed(), o.steps(), Integer.parseInt(need(a, v)), o.fitLr(), o.all(), o.png()); i++; }
                case "--fit-lr" -> { o = new Options(o.n(), o.maxEpochs(), o.seed(), o.steps(), o.fitEpochs(), Double.parseDouble(need(a, v)), o.all(), o.png()); i++; }
                case "--seed" -> { o = new Options(o.n(), o.maxEpochs(), Long.parseLong(need(a, v)), o.steps(), o.fitEpochs(), o.fitLr(), o.all(), o.png()); i++; }
                case "--all" -> o = new Options(o.n(), o.maxEpochs(), o.seed(), o.steps(), o.fitEpochs(), o.fitLr(), true, o.png());
                default -> {
                    System.err.println("usage: HyperEulerDemo [--out flows.png] [--n points] [--steps k] [--fit-epochs e] [--fit-lr lr] [--seed s] [--all]");
                    System.exit(2);
                }
            }
        }
        System.out.println("jdyn hypersolver demo (seed 000: HyperEuler on the moons Neural ODE)\n" + Jdyn.info());
        run(o, System.out);
    }

    private static String need(String flag, String v) {
        if (v == null) throw new IllegalArgumentException(flag + " needs a value");
        return v;
    }

    /** Trains the moons model, fits the hypersolvers, reports to out, writes the figure. */
    public static Outcome run(Options o, PrintStream out) throws IOException {
        Dataset moons = ToyDataset.moons(o.n(), 0.1, o.seed(), DType.FLOAT32);
        Dataset fresh = ToyDataset.moons(o.n(), 0.1, o.seed() + 1, DType.FLOAT32);
        Sequential f = Sequential.of(new Linear(2, 64), new Tanh(), new Linear(64, 2));
        try (NeuralODE model = NeuralODE.builder(f, 2).solver("dopri5").sensitivity("adjoint").seed(o.seed()).build();
             Tensor x = moons.x();
             Tensor xh = fresh.x()) {
            Trainer.Result fit = Trainer.builder().maxEpochs(o.maxEpochs()).batchSize(o.n()).seed(o.seed())
                    .optimizer(p -> Adam.of(p, 1e-2))
                    .callbacks(EarlyStopping.atThreshold("train_acc", Mode.MAX, MoonsDemo.TARGET_ACCURACY))
                    .progress(false).build().fit(model, moons);
            out.printf(Locale.ROOT, "moons model: %d points, trained %d epochs (dopri5, adjoint)%n", o.n(), fit.epochs());
            NeuralField field = model.field();
            double[] sPlot = MoonsDemo.linspace(0, 1, 41);
            double[] zD;
            double[] zDh;
            double dopriAcc;
            long dopriNfe;
            double[] dopriFlows;
            model.resetNfe();
            try (Tensor end = model.forward(x)) {
                dopriNfe = model.forwardNfe();
                zD = end.toDoubleArray();
                dopriAcc = Metrics.accuracy(end, moons.y());
            }
            try (Tensor end = model.forward(xh); Tensor tr = model.trajectory(x, sPlot)) {
                zDh = end.toDoubleArray();
                dopriFlows = tr.toDoubleArray();
            }
            double dopriVsTight;
            double scale = meanNorm(zD);
            try (NeuralField f64 = NeuralField.of(field.fn(), 2, DType.FLOAT64, 0);
                 Tensor x64 = Tensor.of(DType.FLOAT64, x.toDoubleArray(), x.shape())) {
                for (String name : field.parameters().names()) f64.parameters().set(name, field.parameters().get(name));
                try (Tensor tight = solve(f64, x64, Method.DOPRI5, 1)) {
                    dopriVsTight = errors(last(tight), zD)[0];
                }
            }
            out.printf(Locale.ROOT, "dopri5 (rtol = atol = 1e-4): NFE %d, accuracy %.4f, mean |z(1)| %.3f, its own mean"
                    + " terminal error against dopri5 at 1e-9 (float64): %.2e%n", dopriNfe, dopriAcc, scale, dopriVsTight);
            List<Row> rows = new ArrayList<>();
            List<HyperSolver> solvers = new ArrayList<>(List.of(new HyperEuler(new Linear(5, 2))));
            if (o.all()) {
                solvers.add(new HyperMidpoint(new Linear(5, 2)));
                solvers.add(new HyperRungeKutta4(new Linear(5, 2)));
            }
            ResidualFit.Result eulerFit = null;
            long hyperParams = 0;
            double[] hyperFlows = null;
            double[] eulerFlows = null;
            for (HyperSolver hs : solvers) {
                // the same number of field evaluations for every solver: K Euler steps = K / stages steps
                int steps = Math.max(1, Math.round((float) o.steps() / hs.stages()));
                try (HyperField hf = HyperField.of(hs, field, 1.0 / steps, DType.FLOAT32, o.seed())) {
                    ResidualFit.Result r = ResidualFit.fit(hf, field, x, 0, steps,
                            ResidualFit.Options.defaults().withEpochs(o.fitEpochs()).withLr(o.fitLr()));
                    out.printf(Locale.ROOT, "%s: %d steps of %.4g, hypernet %d parameters, residual loss %.3e -> %.3e"
                            + " in %d epochs (%.2f s)%n", hs.torchName(), steps, hf.eps(), hf.numHypernetParams(),
                            r.initialLoss(), r.finalLoss(), r.epochs(), r.seconds());
                    hf.resetNfe();
                    double[] flows;
                    Row row;
                    try (Tensor tr = hf.trajectory(x, 0, steps)) {
                        long nfe = hf.nfe();
                        flows = tr.toDoubleArray();
                        try (Tensor trh = hf.trajectory(xh, 0, steps)) {
                            row = row(hs.torchName(), steps, nfe, tr, trh, zD, zDh, moons.y());
                        }
                    }
                    rows.add(row);
                    try (Tensor tr = solve(field, x, hs.base(), steps); Tensor trh = solve(field, xh, hs.base(), steps)) {
                        rows.add(row(hs.base().torchName(), steps, (long) steps * hs.stages(), tr, trh, zD, zDh, moons.y()));
                        if (hs instanceof HyperEuler) {
                            eulerFit = r;
                            hyperParams = hf.numHypernetParams();
                            hyperFlows = flows;
                            eulerFlows = tr.toDoubleArray();
                        }
                    }
                }
            }
            out.printf(Locale.ROOT, "%-17s %5s %4s %12s %12s %9s %14s%n", "solver", "steps", "NFE", "mean |dz(1)|",
                    "max |dz(1)|", "accuracy", "held-out mean");
            out.printf(Locale.ROOT, "%-17s %5s %4d %12s %12s %9.4f %14s%n", "dopri5", "-", dopriNfe, "0 (ref)", "0 (ref)",
                    dopriAcc, "0 (ref)");
            for (Row r : rows) {
                out.printf(Locale.ROOT, "%-17s %5d %4d %12.3e %12.3e %9.4f %14.3e%n", r.solver(), r.steps(), r.nfe(),
                        r.meanError(), r.maxError(), r.accuracy(), r.heldOutMeanError());
            }
            Row he = rows.get(0);
            Row eu = rows.get(1);
            int steps = he.steps();
            Path png = HyperPlots.flows(o.png(), List.of(
                    new HyperPlots.Panel(String.format(Locale.ROOT, "dopri5 (NFE %d)", dopriNfe), dopriFlows, sPlot.length - 1),
                    new HyperPlots.Panel(String.format(Locale.ROOT, "HyperEuler (NFE %d, mean error %.1e)", he.nfe(), he.meanError()),
                            hyperFlows, steps),
                    new HyperPlots.Panel(String.format(Locale.ROOT, "Euler (NFE %d, mean error %.1e)", eu.nfe(), eu.meanError()),
                            eulerFlows, steps)), o.n(), 2, moons.y());
            out.println("flows plot: " + png);
            return new Outcome(dopriAcc, dopriNfe, dopriVsTight, scale, List.copyOf(rows), eulerFit, hyperParams, png);
        }
    }

    /**
     * The field solved by method over [0, 1]: fixed methods on steps equal steps, dopri5 at 1e-9 (the
     * tight reference). [steps + 1, B, D].
     */
    static Tensor solve(NeuralField field, Tensor x, Method method, int steps) {
        double[] t = MoonsDemo.linspace(0, 1, steps + 1);
        SolveOptions o = method.isAdaptive() ? SolveOptions.builder().method(method).rtol(1e-9).atol(1e-9).build()
                : SolveOptions.builder().method(method).grid(t).build();
        try (Solution s = Odeint.odeint(field, x, t, o)) {
            return s.ys().copy();
        }
    }

    private static Row row(String name, int steps, long nfe, Tensor tr, Tensor trh, double[] zD, double[] zDh, int[] y) {
        double[] end = last(tr);
        double[] e = errors(end, zD);
        double[] eh = errors(last(trh), zDh);
        double acc;
        try (Tensor logits = Tensor.of(DType.FLOAT64, end, zD.length / 2, 2)) {
            acc = Metrics.accuracy(logits, y);
        }
        return new Row(name, steps, nfe, e[0], e[1], acc, eh[0], eh[1]);
    }

    /** The last state of a [T, B, D] trajectory, flat. */
    static double[] last(Tensor tr) {
        double[] all = tr.toDoubleArray();
        int per = Math.toIntExact(tr.numel() / tr.size(0));
        return java.util.Arrays.copyOfRange(all, all.length - per, all.length);
    }

    /** The mean Euclidean norm of the rows (points of width 2): the scale terminal errors are measured against. */
    static double meanNorm(double[] a) {
        double sum = 0;
        for (int i = 0; i < a.length; i += 2) sum += Math.hypot(a[i], a[i + 1]);
        return sum / (a.length / 2);
    }

    /** Mean and largest Euclidean distance between the rows (points of width 2) of a and b. */
    static double[] errors(double[] a, double[] b) {
        double sum = 0;
        double max = 0;
        int n = a.length / 2;
        for (int i = 0; i < n; i++) {
            double d = Math.hypot(a[2 * i] - b[2 * i], a[2 * i + 1] - b[2 * i + 1]);
            sum += d;
            max = Math.max(max, d);
        }
        return new double[] {sum / n, max};
    }
}
