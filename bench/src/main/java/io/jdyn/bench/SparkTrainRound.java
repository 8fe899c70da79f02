package io.jdyn.bench;

import io.jdyn.DType;
import io.jdyn.Tensor;
import io.jdyn.models.NeuralODE;
import io.jdyn.spark.DistributedTrainer;
import io.jdyn.spark.Sample;
import io.jdyn.spark.SampleLoss;
import io.jdyn.train.loss.CrossEntropyLoss;
import io.jdyn.train.loss.LossValue;
import io.jdyn.train.optim.Adam;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;

/**
 * spark-train-round: one data-parallel training round of the moons NeuralODE (Linear(2, 64) - Tanh -
 * Linear(64, 2), float32, dopri5 rtol = atol = 1e-4, adjoint with the seminorm, softmax cross-entropy
 * of the final state, Adam lr 1e-2) through {@link DistributedTrainer} in Spark local[2] with two
 * partitions, median ms, at batch 512 and 8192. Spark's share is the round time minus the native
 * loss + gradient time of the slowest partition (measured inside the task, around the solve, the
 * backward pass and the loss), i.e. broadcast, scheduling, task (de)serialisation, the exact tree
 * aggregation and the driver's Adam step. Baseline: the same round in one process on one thread (one
 * solve and backward over the whole batch, then the Adam step). Each timed round first restores the
 * parameters, so every round does the same work. trivial_job_ms is the floor of any Spark job here:
 * a map and reduce over two cached integers in two tasks, timed in the same alternation.
 */
final class SparkTrainRound implements Benchmark {
    static final int[] BATCHES = {512, 8192};
    static final int PARTITIONS = 2;

    @Override
    public String unit() {
        return "ms";
    }

    static NeuralODE model() {
        return NeuralODE.builder(MoonsWorkload.moonsNet(), 2).dtype(DType.FLOAT32).seed(MoonsWorkload.INIT_SEED)
                .solver("dopri5").rtol(MoonsWorkload.TOL).atol(MoonsWorkload.TOL).sensitivity("adjoint").build();
    }

    @Override
    public void run(Consumer<Json> out) throws Exception {
        SparkSession spark = SparkBench.start("spark-train-round");
        try {
            JavaSparkContext sc = SparkBench.context(spark);
            // Spark's own code paths (scheduler, serialisers, block manager) are cold in a fresh JVM: run small
            // jobs for a while first, so the first batch size is not charged for their JIT compilation
            JavaRDD<Integer> warm = sc.parallelize(List.of(0, 1), PARTITIONS).cache();
            long end = System.nanoTime() + 3_000_000_000L;
            while (System.nanoTime() < end) warm.map(i -> i + 1).reduce(Integer::sum);
            for (int n : BATCHES) round(sc, n, out);
        } finally {
            spark.stop();
        }
    }

    private static void round(JavaSparkContext sc, int n, Consumer<Json> out) throws Exception {
        MoonsWorkload data = MoonsWorkload.make(n, MoonsWorkload.NOISE, MoonsWorkload.DATA_SEED);
        List<Sample> samples = new ArrayList<>(n);
        int[] labels = data.labels;
        double[] x = data.x;
        for (int i = 0; i < n; i++) samples.add(Sample.of(new double[] {x[2 * i], x[2 * i + 1]}, labels[i]));
        try (NeuralODE dist = model(); NeuralODE single = model(); Adam ad = Adam.of(dist.parameters(), MoonsWorkload.LR);
             Adam as = Adam.of(single.parameters(), MoonsWorkload.LR); Tensor y0 = data.y0(DType.FLOAT32)) {
            double[] init = dist.parameters().values().toDoubleArray();
            DistributedTrainer trainer = new DistributedTrainer(sc, dist, SampleLoss.CROSS_ENTROPY, ad);
            JavaRDD<Sample> rdd = sc.parallelize(samples, PARTITIONS).cache();
            rdd.count();
            List<DistributedTrainer.Round> rounds = new ArrayList<>();
            double[] loss = new double[1];
            JavaRDD<Integer> trivial = sc.parallelize(List.of(0, 1), PARTITIONS).cache();
            trivial.count();
            Timing.Result[] r = Timing.interleaved(new String[] {"spark local[2], batch " + n, "one process, batch " + n,
                "a trivial 2-task Spark job"},
                    10, n > 1000 ? 10 : 20,
                    () -> {
                        dist.parameters().values().nativeBuffer().copyFrom(init, 0, 0, init.length);
                        rounds.add(trainer.step(rdd));
                    },
                    () -> {
                        single.parameters().values().nativeBuffer().copyFrom(init, 0, 0, init.length);
                        single.zeroGrad();
                        try (NeuralODE.Trace tr = single.trace(y0);
                             LossValue l = new CrossEntropyLoss().compute(tr.output(), labels)) {
                            tr.backward(l.grad()).close();
                            loss[0] = l.value();
                        }
                        as.step();
                    },
                    () -> trivial.map(i -> i + 1).reduce(Integer::sum));
            // the timed rounds are the last ones recorded
            List<DistributedTrainer.Round> timed = rounds.subList(rounds.size() - r[0].iterations(), rounds.size());
            double nativeMs = Timing.median(timed.stream().mapToDouble(d -> d.nativeNanosMax() / 1e6).toArray());
            double nativeSumMs = Timing.median(timed.stream().mapToDouble(d -> d.nativeNanosSum() / 1e6).toArray());
            double sparkMs = Timing.median(timed.stream().mapToDouble(d -> d.sparkNanos() / 1e6).toArray());
            double roundMs = r[0].medianNs() / 1e6;
            BenchMain.log(String.format(Locale.ROOT, "  batch %d: round %.2f ms, native (slowest partition) %.2f ms,"
                    + " Spark %.2f ms (%.0f%%), loss %.4f vs %.4f in one process", n, roundMs, nativeMs, sparkMs,
                    100 * sparkMs / roundMs, timed.get(timed.size() - 1).loss(), loss[0]));
            out.accept(r[0].describe(Json.bench("spark-train-round").num("value", roundMs).str("unit", "ms")
                    .num("batch", n).str("master", SparkBench.MASTER).num("partitions", PARTITIONS)
                    .num("native_ms", nativeMs).num("native_sum_ms", nativeSumMs).num("spark_ms", sparkMs)
                    .num("spark_share", sparkMs / roundMs)
                    .num("trivial_job_ms", r[2].medianNs() / 1e6)
                    .str("baseline", "the same round in one process, one thread")
                    .num("baseline_value", r[1].medianNs() / 1e6).num("ratio", r[0].medianNs() / r[1].medianNs())
                    .str("workload", "moons").str("dtype", "float32").str("field", "Linear(2, 64) - Tanh - Linear(64, 2)")
                    .str("method", "dopri5").num("rtol", MoonsWorkload.TOL).str("sensitivity", "adjoint")
                    .str("optimizer", "Adam lr 1e-2")));
        }
    }
}
