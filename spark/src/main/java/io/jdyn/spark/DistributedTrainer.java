package io.jdyn.spark;

import io.jdyn.models.NeuralODE;
import io.jdyn.train.optim.Optimizer;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;

/**
 * Data-parallel training of a NeuralODE with Spark. The driver holds the model and its optimizer; each
 * round broadcasts the parameters, every partition computes its summed loss and its share of the mean
 * loss's gradient natively with the executor's copy of the model (rebuilt once per executor JVM from a
 * {@link ModelSpec}; the backward pass gets the cotangent of the mean over all the data, counted once per
 * RDD, as a single process would give it), a {@code treeAggregate} sums loss, gradient and sample count
 * exactly, the driver divides the loss by the count (the single-process
 * {@link io.jdyn.train.loss.Reduction#MEAN} loss) and steps the optimizer natively on its own model.
 *
 * <pre>{@code
 * try (NeuralODE model = NeuralODE.builder(net, 2).dtype(DType.FLOAT64).solver("rk4").dt(0.1).build();
 *      Adam adam = Adam.of(model.parameters(), 1e-2)) {
 *     DistributedTrainer trainer = new DistributedTrainer(sc, model, SampleLoss.CROSS_ENTROPY, adam);
 *     JavaRDD<Sample> data = sc.parallelize(samples, 4).cache();
 *     for (int i = 0; i < 100; i++) System.out.println(trainer.step(data).loss());
 * }
 * }</pre>
 *
 * <p>The result is deterministic for a given partitioning: the exact sums make it independent of the
 * tree and of the order tasks finish. Against one process on the whole batch it agrees to rounding
 * when every sample's solve is independent of the others in its batch: fixed steps (a fixed-step solver,
 * or {@code dt}), since an adaptive batch solve shares one step size across its batch, so a different
 * split into partitions takes different steps.
 *
 * <p>The model's architecture and settings are taken when the trainer is made: change them on the
 * driver's model (sSpan, tolerances) and make a new trainer.
 */
public final class DistributedTrainer {
    private final JavaSparkContext sc;
    private final NeuralODE model;
    private final SampleLoss loss;
    private final Optimizer optimizer;
    private final ModelSpec spec;
    private int depth = 2;
    private int partitionBatch;
    private long rounds;
    /** Sample counts by RDD id: the mean's denominator, known before the round so that partitions scale their cotangents. */
    private final java.util.Map<Integer, Long> counts = new java.util.HashMap<>();

    public DistributedTrainer(JavaSparkContext sc, NeuralODE model, SampleLoss loss, Optimizer optimizer) {
        this.sc = Objects.requireNonNull(sc, "sc");
        this.model = Objects.requireNonNull(model, "model");
        this.loss = Objects.requireNonNull(loss, "loss");
        this.optimizer = Objects.requireNonNull(optimizer, "optimizer");
        if (loss == SampleLoss.CROSS_ENTROPY && model.inFeatures() < 2) {
            throw new IllegalArgumentException("CROSS_ENTROPY needs a state of at least 2 classes, the model's has width "
                    + model.inFeatures());
        }
        this.spec = ModelSpec.of(model);
    }

    /** The depth of the tree aggregation (default 2, Spark's). */
    public DistributedTrainer depth(int d) {
        if (d < 1) throw new IllegalArgumentException("depth must be >= 1, got " + d);
        depth = d;
        return this;
    }

    /** At most this many samples per native solve inside a partition (default 0: the whole partition at once). */
    public DistributedTrainer partitionBatch(int n) {
        if (n < 0) throw new IllegalArgumentException("partitionBatch must be >= 0, got " + n);
        partitionBatch = n;
        return this;
    }

    /** What a round computed: the mean loss (before the step), the samples, and where the time went. */
    public record Round(long round, double loss, long samples, long roundNanos, long nativeNanosSum,
            long nativeNanosMax) {
        /**
         * The time of the round not spent in jdyn's native solves and backward passes of its slowest
         * partition: broadcast, scheduling, (de)serialisation, aggregation and the optimizer step.
         */
        public long sparkNanos() {
            return Math.max(0, roundNanos - nativeNanosMax);
        }
    }

    /** The mean loss and its gradient over data at the driver model's current parameters. */
    public record LossAndGradient(double loss, double[] gradient, long samples, long nativeNanosSum,
            long nativeNanosMax) {
        @Override
        public double[] gradient() {
            return gradient.clone();
        }
    }

    /** Evaluates the mean loss and gradient over data at the model's current parameters (no step). */
    public LossAndGradient lossAndGradient(JavaRDD<Sample> data) {
        Objects.requireNonNull(data, "data");
        long n = count(data);
        long units = loss.units(n, model.inFeatures());
        double scale = 1.0 / units;
        double[] params = model.parameters().values().toDoubleArray();
        Broadcast<double[]> b = sc.broadcast(params);
        PartialSum total;
        try {
            ModelSpec s = spec;
            SampleLoss l = loss;
            int batch = partitionBatch;
            total = data.mapPartitionsWithIndex((i, rows) -> List.of(PartitionGradient.compute(i, rows, s, b.value(), l,
                    batch, scale)).iterator(), false).treeAggregate(PartialSum.empty(), PartialSum::merge, PartialSum::merge, depth);
        } catch (Exception e) {
            throw SparkFailures.translate(e);
        } finally {
            b.destroy();
        }
        if (total.count() != n) {
            throw new IllegalStateException("the data held " + n + " samples when first counted and " + total.count()
                    + " now: cache it (or make it deterministic), the mean needs a fixed count");
        }
        double mean = total.loss(units);
        if (!Double.isFinite(mean)) throw new IllegalStateException("the loss over " + n + " samples is " + mean);
        // the partitions' gradients are already shares of the mean loss's gradient (see PartitionGradient)
        return new LossAndGradient(mean, total.grad(1), n, total.nativeNanosSum(), total.nativeNanosMax());
    }

    /** The sample count of data, counted once per RDD (a Spark job) and remembered by its id. */
    private long count(JavaRDD<Sample> data) {
        Long n = counts.get(data.id());
        if (n == null) {
            try {
                n = data.count();
            } catch (Exception e) {
                throw SparkFailures.translate(e);
            }
            if (n == 0) throw new IllegalArgumentException("the training data is empty: no samples in any partition");
            counts.put(data.id(), n);
        }
        return n;
    }

    /**
     * One round: the loss and gradient over data, then one step of the optimizer on the driver's model.
     * Cache data (it is read every round).
     */
    public Round step(JavaRDD<Sample> data) {
        long start = System.nanoTime();
        LossAndGradient lg = lossAndGradient(data);
        double[] g = lg.gradient;
        model.parameters().grad().nativeBuffer().copyFrom(g, 0, 0, g.length);
        optimizer.step();
        return new Round(++rounds, lg.loss(), lg.samples(), System.nanoTime() - start, lg.nativeNanosSum(),
                lg.nativeNanosMax());
    }

    /** n rounds over data; the rounds' records in order. */
    public List<Round> fit(JavaRDD<Sample> data, int n) {
        if (n < 0) throw new IllegalArgumentException("rounds must be >= 0, got " + n);
        List<Round> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) out.add(step(data));
        return out;
    }

    /** The spec executors rebuild the model from. */
    public ModelSpec spec() {
        return spec;
    }
}
