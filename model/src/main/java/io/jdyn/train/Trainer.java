package io.jdyn.train;

import io.jdyn.Tensor;
import io.jdyn.data.Batch;
import io.jdyn.data.Dataset;
import io.jdyn.models.NeuralODE;
import io.jdyn.nn.Parameters;
import io.jdyn.train.loss.CrossEntropyLoss;
import io.jdyn.train.loss.LossValue;
import io.jdyn.train.loss.Metrics;
import io.jdyn.train.optim.Adam;
import io.jdyn.train.optim.GradClip;
import io.jdyn.train.optim.LRScheduler;
import io.jdyn.train.optim.Optimizer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.function.Function;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * A PyTorch-Lightning-style training loop for a {@link NeuralODE}.
 *
 * <pre>{@code
 * Trainer trainer = Trainer.builder().maxEpochs(300).batchSize(512).seed(0)
 *         .optimizer(p -> Adam.of(p, 1e-2))
 *         .callbacks(EarlyStopping.atThreshold("train_acc", Mode.MAX, 0.97))
 *         .metricsLog(Path.of("target/metrics.csv")).build();
 * Trainer.Result r = trainer.fit(model, moons);     // cross-entropy of the final state as logits
 * }</pre>
 *
 * <p>Each epoch draws shuffled mini-batches with {@link Dataset#batches(int, long)} from
 * {@code seed + epoch} (one full batch when batchSize >= N); each step zeroes the gradients, traces the
 * model on the batch, computes the loss, runs the backward pass (dL/dtheta accumulates into
 * {@code model.parameters().grad()}), clips when asked and steps the optimizer. The scheduler, when
 * given, steps once per epoch. Validation (the model's forward pass, no tape) runs every
 * {@code valEvery} epochs. Epoch metrics: {@code train_loss}, {@code train_acc} (batch-size weighted
 * means of the steps, i.e. before each step's update), {@code val_loss}, {@code val_acc},
 * {@code nfe_forward}, {@code nfe_backward} (the epoch's totals), {@code lr}, {@code time} (seconds since
 * fit began).
 *
 * <p>The progress bar (me.tongfei:progressbar, on stderr) shows loss, accuracy and NFE per step; it is
 * drawn only when {@code progress(true)}, the JVM has a terminal and no {@code CI} variable is set.
 */
public final class Trainer {
    /** A loss over the model's output for a batch: its value and dL/doutput (shaped as the output). */
    @FunctionalInterface
    public interface LossFunction {
        LossValue compute(Tensor output, Batch batch);
    }

    /** What {@link #fit} returns: epochs run, steps, why it stopped (null: maxEpochs), the last epoch's metrics, seconds. */
    public record Result(int epochs, long steps, String stopReason, java.util.Map<String, Double> lastMetrics,
            double seconds, List<java.util.Map<String, Double>> history) {}

    private final int maxEpochs;
    private final int batchSize;
    private final long seed;
    private final Function<Parameters, Optimizer> optimizerFactory;
    private final Optimizer optimizerInstance;
    private final Function<Optimizer, LRScheduler> schedulerFactory;
    private final double clipNorm;
    private final int valEvery;
    private final List<Callback> callbacks;
    private final boolean progress;
    private final Path metricsLog;

    private Trainer(Builder b) {
        this.maxEpochs = b.maxEpochs;
        this.batchSize = b.batchSize;
        this.seed = b.seed;
        this.optimizerFactory = b.optimizerFactory;
        this.optimizerInstance = b.optimizerInstance;
        this.schedulerFactory = b.schedulerFactory;
        this.clipNorm = b.clipNorm;
        this.valEvery = b.valEvery;
        this.callbacks = List.copyOf(b.callbacks);
        this.progress = b.progress;
        this.metricsLog = b.metricsLog;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Classification: the final state is the logits, the loss torch's CrossEntropyLoss (mean), accuracy reported. */
    public Result fit(NeuralODE model, Dataset train) {
        return fit(model, train, null);
    }

    /** Classification as {@link #fit(NeuralODE, Dataset)}, validated on val (may be null). */
    public Result fit(NeuralODE model, Dataset train, Dataset val) {
        requireLabels(train, "train");
        if (val != null) requireLabels(val, "val");
        CrossEntropyLoss ce = new CrossEntropyLoss();
        return fit(model, train, val, (out, batch) -> ce.compute(out, batch.y()), true);
    }

    /**
     * The general form: loss maps the model's final state for a batch to a loss value and its gradient;
     * withAccuracy also reports classification accuracy of the final state against the labels.
     */
    public Result fit(NeuralODE model, Dataset train, Dataset val, LossFunction loss, boolean withAccuracy) {
        Objects.requireNonNull(model, "model");
        Objects.requireNonNull(train, "train");
        Objects.requireNonNull(loss, "loss");
        boolean ownsOptimizer = optimizerInstance == null;
        Optimizer opt = ownsOptimizer ? optimizerFactory.apply(model.parameters()) : optimizerInstance;
        List<Callback> all = new ArrayList<>(callbacks);
        MetricsLog log = metricsLog == null ? null : new MetricsLog(metricsLog);
        if (log != null) all.add(log);
        try {
            LRScheduler sched = schedulerFactory == null ? null : schedulerFactory.apply(opt);
            return loop(model, opt, sched, train, val, loss, withAccuracy, all);
        } finally {
            if (log != null) log.close();
            if (ownsOptimizer) opt.close();
        }
    }

    private Result loop(NeuralODE model, Optimizer opt, LRScheduler sched, Dataset train, Dataset val,
            LossFunction loss, boolean withAcc, List<Callback> all) {
        TrainerState st = new TrainerState(model, opt);
        long t0 = System.nanoTime();
        for (Callback c : all) c.onFitStart(st);
        int stepsPerEpoch = (train.size() + Math.min(batchSize, train.size()) - 1) / Math.min(batchSize, train.size());
        List<java.util.Map<String, Double>> history = new ArrayList<>();
        int epochsRun = 0;
        try (ProgressBar bar = progressBar((long) stepsPerEpoch * maxEpochs)) {
            for (int epoch = 0; epoch < maxEpochs && !st.stopRequested(); epoch++) {
                st.epoch = epoch;
                st.clearMetrics();
                double lossSum = 0, accSum = 0;
                long n = 0, nfeF = 0, nfeB = 0;
                double lr = opt.lr();
                for (Batch batch : train.batches(batchSize, seed + epoch)) {
                    long f0 = model.forwardNfe(), b0 = model.backwardNfe();
                    double stepLoss, stepAcc = Double.NaN;
                    opt.zeroGrad();
                    try (Tensor x = batch.x(); NeuralODE.Trace tr = model.trace(x);
                            LossValue lv = loss.compute(tr.output(), batch)) {
                        stepLoss = lv.value();
                        if (!Double.isFinite(stepLoss)) {
                            throw new IllegalStateException("the loss is " + stepLoss + " at epoch " + epoch
                                    + ", step " + st.step);
                        }
                        if (withAcc) stepAcc = Metrics.accuracy(tr.output(), batch.y());
                        try (Tensor dx = tr.backward(lv.grad())) {
                            // dL/dx unused
                        }
                    }
                    if (clipNorm > 0) GradClip.norm(model.parameters(), clipNorm);
                    opt.step();
                    long df = model.forwardNfe() - f0, db = model.backwardNfe() - b0;
                    nfeF += df;
                    nfeB += db;
                    lossSum += stepLoss * batch.size();
                    if (withAcc) accSum += stepAcc * batch.size();
                    n += batch.size();
                    StepMetrics sm = new StepMetrics(epoch, st.step, batch.size(), stepLoss, stepAcc, df, db, lr,
                            (System.nanoTime() - t0) * 1e-9);
                    st.step++;
                    for (Callback c : all) c.onStepEnd(st, sm);
                    if (bar != null) {
                        bar.step();
                        bar.setExtraMessage(String.format(Locale.ROOT, " epoch %d loss %.4f acc %.3f nfe %d/%d",
                                epoch + 1, stepLoss, stepAcc, df, db));
                    }
                }
                st.put("train_loss", lossSum / n);
                if (withAcc) st.put("train_acc", accSum / n);
                if (val != null && (epoch + 1) % valEvery == 0) {
                    long f0 = model.forwardNfe();
                    Batch vb = val.batches(val.size(), seed).get(0);   // the whole set as one batch
                    try (Tensor vx = vb.x(); Tensor out = model.forward(vx); LossValue lv = loss.compute(out, vb)) {
                        st.put("val_loss", lv.value());
                        if (withAcc) st.put("val_acc", Metrics.accuracy(out, vb.y()));
                    }
                    nfeF += model.forwardNfe() - f0;
                }
                st.put("nfe_forward", nfeF);
                st.put("nfe_backward", nfeB);
                st.put("lr", lr);
                st.put("time", (System.nanoTime() - t0) * 1e-9);
                if (sched != null) sched.step();
                history.add(java.util.Map.copyOf(st.metrics()));
                epochsRun = epoch + 1;
                for (Callback c : all) c.onEpochEnd(st);
            }
        }
        for (Callback c : all) c.onFitEnd(st);
        return new Result(epochsRun, st.step, st.stopReason(), st.metrics(), (System.nanoTime() - t0) * 1e-9,
                List.copyOf(history));
    }

    /** Whether a progress bar would be drawn here: the JVM has a terminal and no CI variable is set. */
    public static boolean progressBarAvailable() {
        return terminal() && System.getenv("CI") == null;
    }

    private ProgressBar progressBar(long total) {
        if (!progress || !progressBarAvailable()) return null;
        return new ProgressBarBuilder().setTaskName("train").setInitialMax(total)
                .setStyle(ProgressBarStyle.ASCII).setUpdateIntervalMillis(100)
                .setConsumer(new ConsoleProgressBarConsumer(System.err, 110)).continuousUpdate().build();
    }

    /** Whether stdin/stderr are a terminal: Console.isTerminal() on Java 22+, a non-null console before. */
    static boolean terminal() {
        java.io.Console c = System.console();
        if (c == null) return false;
        try {
            return (Boolean) java.io.Console.class.getMethod("isTerminal").invoke(c);
        } catch (ReflectiveOperationException e) {
            return true;
        }
    }

    private static void requireLabels(Dataset d, String what) {
        if (!d.hasLabels()) throw new IllegalArgumentException(what + " dataset has no labels: classification needs them");
    }

    public static final class Builder {
        private int maxEpochs = 100;
        private int batchSize = Integer.MAX_VALUE;
        private long seed = 0;
        private Function<Parameters, Optimizer> optimizerFactory = p -> Adam.of(p, 1e-3);
        private Optimizer optimizerInstance;
        private Function<Optimizer, LRScheduler> schedulerFactory;
        private double clipNorm = 0;
        private int valEvery = 1;
        private final List<Callback> callbacks = new ArrayList<>();
        private boolean progress = true;
        private Path metricsLog;

        private Builder() {}

        public Builder maxEpochs(int n) {
            if (n < 1) throw new IllegalArgumentException("maxEpochs must be >= 1, got " + n);
            maxEpochs = n;
            return this;
        }

        /** Samples per step; >= N means one full batch per epoch (the default). */
        public Builder batchSize(int n) {
            if (n < 1) throw new IllegalArgumentException("batchSize must be >= 1, got " + n);
            batchSize = n;
            return this;
        }

        /** The shuffling seed: epoch e draws its batches from seed + e. */
        public Builder seed(long s) {
            seed = s;
            return this;
        }

        /** Builds the optimizer over the model's parameters at fit (and closes it after); default Adam lr 1e-3. */
        public Builder optimizer(Function<Parameters, Optimizer> factory) {
            optimizerFactory = Objects.requireNonNull(factory, "factory");
            optimizerInstance = null;
            return this;
        }

        /** Uses this optimizer (the caller's: not closed by fit; it must be over the model's parameters). */
        public Builder optimizer(Optimizer instance) {
            optimizerInstance = Objects.requireNonNull(instance, "instance");
            return this;
        }

        /** An LR schedule built over the optimizer at fit, stepped once per epoch. */
        public Builder scheduler(Function<Optimizer, LRScheduler> factory) {
            schedulerFactory = factory;
            return this;
        }

        /** Clips the gradient's total 2-norm to maxNorm before each step (0: off). */
        public Builder gradClipNorm(double maxNorm) {
            if (!(maxNorm >= 0)) throw new IllegalArgumentException("gradClipNorm must be >= 0, got " + maxNorm);
            clipNorm = maxNorm;
            return this;
        }

        /** Validates every n epochs (when fit is given a validation set). */
        public Builder valEvery(int n) {
            if (n < 1) throw new IllegalArgumentException("valEvery must be >= 1, got " + n);
            valEvery = n;
            return this;
        }

        public Builder callbacks(Callback... cs) {
            for (Callback c : cs) callbacks.add(Objects.requireNonNull(c, "callback"));
            return this;
        }

        public Builder progress(boolean on) {
            progress = on;
            return this;
        }

        /** Writes a CSV metrics log ({@link MetricsLog}) to path. */
        public Builder metricsLog(Path path) {
            metricsLog = path;
            return this;
        }

        public Trainer build() {
            return new Trainer(this);
        }
    }
}
