package io.jdyn.examples;

import io.jdyn.DType;
import io.jdyn.Jdyn;
import io.jdyn.Tensor;
import io.jdyn.data.Dataset;
import io.jdyn.data.ToyDataset;
import io.jdyn.examples.plot.FlowPlots;
import io.jdyn.models.NeuralODE;
import io.jdyn.nn.Linear;
import io.jdyn.nn.Sequential;
import io.jdyn.nn.Tanh;
import io.jdyn.train.EarlyStopping;
import io.jdyn.train.LoggingCallback;
import io.jdyn.train.Mode;
import io.jdyn.train.Trainer;
import io.jdyn.train.loss.Metrics;
import io.jdyn.train.optim.Adam;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Locale;

/**
 * torchdyn's moons tutorial (the Neural ODE classifier of "Neural ODEs with PyTorch Lightning and
 * TorchDyn") on jdyn: 512 noisy moons, the field Linear(2, 64) - Tanh - Linear(64, 2), dopri5 with the
 * adjoint, Adam at lr 0.01 on full batches, trained until the accuracy reaches 0.97 (at most maxEpochs).
 * Prints the model summary, the final accuracy, NFE and wall time; writes the flows and the loss curve as
 * PNG. Exits 1 when the accuracy stays under 0.97.
 *
 * <p>Arguments: {@code --out PATH} (the flows PNG, default target/moons-flows.png; the loss curve goes
 * beside it as *-loss.png, the metrics log as *-metrics.csv), {@code --n N} (points, default 512),
 * {@code --epochs E} (at most, default 300), {@code --seed S}.
 */
public final class MoonsDemo {
    public static final double TARGET_ACCURACY = 0.97;

    /** The run's settings. */
    public record Options(int n, double noise, int maxEpochs, long seed, double lr, Path flowsPng, boolean progress) {
        public static Options defaults() {
            return new Options(512, 0.1, 300, 0, 1e-2, Path.of("target", "moons-flows.png"), true);
        }
    }

    /** What a run produced. */
    public record Outcome(double accuracy, int epochs, long nfeForward, long nfeBackward, double trainSeconds,
            Path flowsPng, Path lossPng, Path metricsCsv, String summary) {}

    private MoonsDemo() {}

    public static void main(String[] args) throws IOException {
        Options o = Options.defaults();
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            String v = i + 1 < args.length ? args[i + 1] : null;
            switch (a) {
                case "--out" -> { o = new Options(o.n(), o.noise(), o.maxEpochs(), o.seed(), o.lr(), Path.of(need(a, v)), o.progress()); i++; }
                case "--n" -> { o = new Options(Integer.parseInt(need(a, v)), o.noise(), o.maxEpochs(), o.seed(), o.lr(), o.flowsPng(), o.progress()); i++; }
                case "--epochs" -> { o = new Options(o.n(), o.noise(), Integer.parseInt(need(a, v)), o.seed(), o.lr(), o.flowsPng(), o.progress()); i++; }
                case "--seed" -> { o = new Options(o.n(), o.noise(), o.maxEpochs(), Long.parseLong(need(a, v)), o.lr(), o.flowsPng(), o.progress()); i++; }
                case "--no-progress" -> o = new Options(o.n(), o.noise(), o.maxEpochs(), o.seed(), o.lr(), o.flowsPng(), false);
                default -> {
                    System.err.println("usage: MoonsDemo [--out flows.png] [--n points] [--epochs max] [--seed s] [--no-progress]");
                    System.exit(2);
                }
            }
        }
        long t0 = System.nanoTime();
        System.out.println("jdyn moons demo (torchdyn's Neural ODE classifier)\n" + Jdyn.info());
        Outcome r = run(o, System.out);
        System.out.printf(Locale.ROOT, "wall time %.2f s (training %.2f s)%n", (System.nanoTime() - t0) * 1e-9,
                r.trainSeconds());
        if (r.accuracy() < TARGET_ACCURACY) {
            System.out.printf(Locale.ROOT, "FAILED: accuracy %.4f < %.2f%n", r.accuracy(), TARGET_ACCURACY);
            System.exit(1);
        }
        System.out.println("ok");
    }

    private static String need(String flag, String v) {
        if (v == null) throw new IllegalArgumentException(flag + " needs a value");
        return v;
    }

    /** Trains, reports to out, writes the figures. */
    public static Outcome run(Options o, PrintStream out) throws IOException {
        Dataset moons = ToyDataset.moons(o.n(), o.noise(), o.seed(), DType.FLOAT32);
        Sequential f = Sequential.of(new Linear(2, 64), new Tanh(), new Linear(64, 2));
        try (NeuralODE model = NeuralODE.builder(f, 2).solver("dopri5").sensitivity("adjoint").seed(o.seed()).build()) {
            out.println(model);
            out.printf(Locale.ROOT, "%d moons points (noise %.2f), full batch, Adam lr %g, until accuracy >= %.2f"
                    + " (at most %d epochs)%n", o.n(), o.noise(), o.lr(), TARGET_ACCURACY, o.maxEpochs());
            Path png = o.flowsPng();
            String stem = png.getFileName().toString().replaceFirst("\\.png$", "");
            Path lossPng = png.resolveSibling(stem + "-loss.png");
            Path csv = png.resolveSibling(stem + "-metrics.csv");
            Trainer.Builder tb = Trainer.builder().maxEpochs(o.maxEpochs()).batchSize(o.n()).seed(o.seed())
                    .optimizer(p -> Adam.of(p, o.lr()))
                    .callbacks(EarlyStopping.atThreshold("train_acc", Mode.MAX, TARGET_ACCURACY))
                    .progress(o.progress()).metricsLog(csv);
            // a line every 10 epochs where no live progress bar (stderr, terminals only) shows the steps
            if (!(o.progress() && Trainer.progressBarAvailable())) tb.callbacks(new LoggingCallback(out, 10));
            Trainer trainer = tb.build();
            Trainer.Result fit = trainer.fit(model, moons);
            double acc;
            double[] s = linspace(0, 1, 40);
            double[] traj;
            try (Tensor x = moons.x(); Tensor logits = model.forward(x); Tensor tr = model.trajectory(x, s)) {
                acc = Metrics.accuracy(logits, moons.y());
                traj = tr.toDoubleArray();
            }
            out.printf(Locale.ROOT, "trained %d epochs in %.2f s%s%n", fit.epochs(), fit.seconds(),
                    fit.stopReason() == null ? " (maxEpochs reached)" : " (" + fit.stopReason() + ")");
            out.printf(Locale.ROOT, "final accuracy %.4f on the %d points (after the last update)%n", acc, o.n());
            out.printf(Locale.ROOT, "NFE: forward %d, backward %d in all (last epoch: forward %d, backward %d)%n",
                    model.forwardNfe(), model.backwardNfe(), (long) fit.lastMetrics().get("nfe_forward").doubleValue(),
                    (long) fit.lastMetrics().get("nfe_backward").doubleValue());
            Path flows = FlowPlots.flows(png, s, traj, o.n(), 2, moons.y());
            Path curve = FlowPlots.curves(lossPng, fit.history());
            out.println("flows plot: " + flows);
            out.println("loss curve: " + curve);
            out.println("metrics log: " + csv.toAbsolutePath());
            return new Outcome(acc, fit.epochs(), model.forwardNfe(), model.backwardNfe(), fit.seconds(), flows, curve,
                    csv.toAbsolutePath(), model.toString());
        }
    }

    static double[] linspace(double a, double b, int n) {
        double[] v = new double[n];
        for (int i = 0; i < n; i++) v[i] = a + (b - a) * i / (n - 1);
        return v;
    }
}
