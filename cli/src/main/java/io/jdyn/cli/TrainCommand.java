package io.jdyn.cli;

import io.jdyn.DType;
import io.jdyn.Tensor;
import io.jdyn.data.Dataset;
import io.jdyn.data.ToyDataset;
import io.jdyn.examples.plot.FlowPlots;
import io.jdyn.models.NeuralODE;
import io.jdyn.nn.Linear;
import io.jdyn.nn.Sequential;
import io.jdyn.nn.Tanh;
import io.jdyn.train.Callback;
import io.jdyn.train.EarlyStopping;
import io.jdyn.train.LoggingCallback;
import io.jdyn.train.ModelCheckpoint;
import io.jdyn.train.Mode;
import io.jdyn.train.Trainer;
import io.jdyn.train.loss.Metrics;
import io.jdyn.train.optim.Adam;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code jdyn train DATASET}: a Neural ODE classifier on one of torchdyn's toy data sets, as the moons demo
 * (io.jdyn.examples.MoonsDemo) does it: the field Linear(D, 64) - Tanh - Linear(64, D) solved by dopri5,
 * Adam on full batches through {@link Trainer}, until the accuracy reaches --target or --epochs run out.
 * Data sets with more classes than dimensions (gaussians: 7 blobs in 2-D) are zero-padded to as many
 * dimensions as classes (an augmented Neural ODE), so the final state is the logits.
 */
@Command(name = "train", mixinStandardHelpOptions = true,
        description = "Train a Neural ODE classifier on a toy data set and print its final accuracy.")
final class TrainCommand implements Callable<Integer> {
    enum Data { moons, spirals, gaussians }

    enum Sens { adjoint, autograd, interpolated_adjoint }

    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "DATASET", description = "One of: ${COMPLETION-CANDIDATES}.")
    Data data;

    @Option(names = "--epochs", defaultValue = "300", description = "At most this many epochs (default: ${DEFAULT-VALUE}).")
    int epochs;

    @Option(names = "--lr", defaultValue = "0.01", description = "Adam's learning rate (default: ${DEFAULT-VALUE}).")
    double lr;

    @Option(names = "--sensitivity", defaultValue = "adjoint",
            description = "How gradients are computed: ${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE}).")
    Sens sensitivity;

    @Option(names = "--n", defaultValue = "512", description = "Points in the data set (default: ${DEFAULT-VALUE}).")
    int n;

    @Option(names = "--noise", description = "Noise of the data (default: 0.1 for moons and spirals, torchdyn's 1e-3 for gaussians).")
    Double noise;

    @Option(names = "--target", defaultValue = "0.97",
            description = "Stop once the training accuracy reaches this (default: ${DEFAULT-VALUE}; above 1: run every epoch).")
    double target;

    @Option(names = "--seed", defaultValue = "0", description = "Seed of the data, the initial parameters and the batches (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--checkpoint", paramLabel = "DIR",
            description = "Write best.safetensors (best training accuracy) and last.safetensors in DIR after each epoch.")
    Path checkpoint;

    @Option(names = "--plot", paramLabel = "PATH",
            description = "Write the flows through depth as PNG (two-class data sets), the loss curve beside it (*-loss.png).")
    Path plot;

    @Option(names = "--metrics", paramLabel = "PATH", description = "Write the per-epoch metrics as CSV.")
    Path metrics;

    @Option(names = "--no-progress", negatable = false, description = "No live progress bar (a line every 10 epochs instead).")
    boolean noProgress;

    @Override
    public Integer call() throws IOException {
        if (epochs < 1) throw new ParameterException(spec.commandLine(), "--epochs must be at least 1, got " + epochs);
        if (n < 4) throw new ParameterException(spec.commandLine(), "--n must be at least 4, got " + n);
        if (!(lr > 0) || !Double.isFinite(lr)) throw new ParameterException(spec.commandLine(), "--lr must be positive, got " + lr);
        if (noise != null && !(noise >= 0)) throw new ParameterException(spec.commandLine(), "--noise must be >= 0, got " + noise);
        if (plot != null && data == Data.gaussians) {
            throw new ParameterException(spec.commandLine(), "--plot draws two-class data sets (moons, spirals), not gaussians");
        }
        PrintWriter w = spec.commandLine().getOut();
        PrintStream out = new PrintStream(new WriterStream(w), true, StandardCharsets.UTF_8);
        Dataset ds = dataset();
        int dim = ds.dim();
        Sequential f = Sequential.of(new Linear(dim, 64), new Tanh(), new Linear(64, dim));
        try (NeuralODE model = NeuralODE.builder(f, dim).solver("dopri5").sensitivity(sensitivity.name()).seed(seed).build()) {
            out.println(model);
            out.printf(Locale.ROOT, "%s: %d points of dimension %d, %d classes; full batch, Adam lr %s, %s, until accuracy"
                    + " >= %.2f (at most %d epochs)%n", data, ds.size(), dim, classes(ds), SolveCommand.num(lr),
                    sensitivity, target, epochs);
            List<Callback> cbs = new ArrayList<>();
            cbs.add(EarlyStopping.atThreshold("train_acc", Mode.MAX, target));
            ModelCheckpoint ckpt = checkpoint == null ? null : new ModelCheckpoint(checkpoint, "train_acc", Mode.MAX, true);
            if (ckpt != null) cbs.add(ckpt);
            boolean progress = !noProgress;
            if (!(progress && Trainer.progressBarAvailable())) cbs.add(new LoggingCallback(out, 10));
            Trainer.Builder tb = Trainer.builder().maxEpochs(epochs).batchSize(ds.size()).seed(seed)
                    .optimizer(p -> Adam.of(p, lr)).callbacks(cbs.toArray(Callback[]::new)).progress(progress);
            if (metrics != null) tb.metricsLog(metrics);
            Trainer.Result fit = tb.build().fit(model, ds);
            double acc;
            double[] s = linspace(0, 1, 40);
            double[] traj = null;
            try (Tensor x = ds.x(); Tensor logits = model.forward(x)) {
                acc = Metrics.accuracy(logits, ds.y());
                if (plot != null) {
                    try (Tensor tr = model.trajectory(x, s)) {
                        traj = tr.toDoubleArray();
                    }
                }
            }
            out.printf(Locale.ROOT, "trained %d epochs in %.2f s%s%n", fit.epochs(), fit.seconds(),
                    fit.stopReason() == null ? " (--epochs reached)" : " (" + fit.stopReason() + ")");
            out.printf(Locale.ROOT, "NFE: forward %d, backward %d%n", model.forwardNfe(), model.backwardNfe());
            out.printf(Locale.ROOT, "final accuracy %.4f%n", acc);
            if (ckpt != null) {
                out.println("checkpoint: " + ckpt.lastPath().toAbsolutePath() + " (best: " + ckpt.bestPath().toAbsolutePath()
                        + String.format(Locale.ROOT, ", accuracy %.4f at epoch %d)", ckpt.best(), ckpt.bestEpoch() + 1));
            }
            if (plot != null) {
                String stem = plot.getFileName().toString().replaceFirst("\\.png$", "");
                Path flows = FlowPlots.flows(plot, s, traj, ds.size(), dim, ds.y());
                Path curve = FlowPlots.curves(plot.resolveSibling(stem + "-loss.png"), fit.history());
                out.println("flows plot: " + flows);
                out.println("loss curve: " + curve);
            }
            if (metrics != null) out.println("metrics log: " + metrics.toAbsolutePath());
        }
        out.flush();
        return 0;
    }

    private Dataset dataset() {
        return switch (data) {
            case moons -> ToyDataset.moons(n, noise != null ? noise : 0.1, seed, DType.FLOAT32);
            case spirals -> {
                // torchdyn's spirals reach a radius of about 13.6: scaled into [-1, 1] for the tanh field
                Dataset raw = ToyDataset.spirals(Math.max(1, n / 2), noise != null ? noise : 0.1, seed, DType.FLOAT64);
                double[] x = raw.features();
                double m = Arrays.stream(x).map(Math::abs).max().orElse(1);
                for (int i = 0; i < x.length; i++) x[i] /= m;
                yield new Dataset(x, raw.size(), raw.dim(), raw.y(), DType.FLOAT32);
            }
            case gaussians -> {
                int k = 7;
                Dataset raw = ToyDataset.gaussians(Math.max(1, n / k), k, 2, 0.5, 0.1, noise != null ? noise : 1e-3,
                        seed, DType.FLOAT64);
                // zero-padded to one dimension per class: the final state is the logits
                double[] x = raw.features(), padded = new double[raw.size() * k];
                for (int i = 0; i < raw.size(); i++) {
                    padded[i * k] = x[i * 2];
                    padded[i * k + 1] = x[i * 2 + 1];
                }
                yield new Dataset(padded, raw.size(), k, raw.y(), DType.FLOAT32);
            }
        };
    }

    private static int classes(Dataset ds) {
        return Arrays.stream(ds.y()).max().orElse(0) + 1;
    }

    private static double[] linspace(double a, double b, int n) {
        double[] v = new double[n];
        for (int i = 0; i < n; i++) v[i] = a + (b - a) * i / (n - 1);
        return v;
    }
}
