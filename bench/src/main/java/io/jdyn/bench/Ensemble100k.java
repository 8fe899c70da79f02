package io.jdyn.bench;

import io.jdyn.DType;
import io.jdyn.Tensor;
import io.jdyn.fn.Sym;
import io.jdyn.ode.Solution;
import io.jdyn.spark.Ensemble;
import io.jdyn.spark.FieldSpec;
import io.jdyn.spark.SerializableFn;
import io.jdyn.spark.SolveSpec;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.function.Consumer;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;

/**
 * ensemble-100k: 100,000 damped oscillators x'' + 2 zeta w x' + w^2 x = 0, each with its own initial
 * state and parameters (the state [x, v, w, zeta], w in [0.5, 2], zeta in [0.05, 0.5]), dopri5 at rtol
 * = atol = 1e-6 over [0, 10], float64, through {@link Ensemble} in Spark local[2] with two partitions
 * of 50,000 (each one native batch solve), median ms of the job (results counted on the driver),
 * and items/s. Baseline: the same two batch solves in one process on one thread, with the final states
 * copied out as the tasks do.
 */
final class Ensemble100k implements Benchmark {
    static final int N = 100_000;
    static final int PARTITIONS = 2;
    static final double[] T = {0, 10};
    static final double TOL = 1e-6;

    static final SerializableFn OSCILLATORS = (t, s, p) -> {
        Sym x = s.select(1, 0), v = s.select(1, 1), w = s.select(1, 2), z = s.select(1, 3);
        Sym zero = x.zerosLike();
        return Sym.stack(1, v, w.square().mul(x).neg().sub(z.mul(w).mul(v).mul(2.0)), zero, zero);
    };

    /** Partition p's N / PARTITIONS items: x0, v0 in [-1, 1], w in [0.5, 2], zeta in [0.05, 0.5]. */
    static List<double[]> items(int p) {
        Random r = new Random(42 + p);
        List<double[]> items = new ArrayList<>(N / PARTITIONS);
        for (int i = 0; i < N / PARTITIONS; i++) {
            items.add(new double[] {2 * r.nextDouble() - 1, 2 * r.nextDouble() - 1, 0.5 + 1.5 * r.nextDouble(),
                0.05 + 0.45 * r.nextDouble()});
        }
        return items;
    }

    @Override
    public String unit() {
        return "ms";
    }

    @Override
    public void run(Consumer<Json> out) throws Exception {
        FieldSpec spec = FieldSpec.of(OSCILLATORS, 4, DType.FLOAT64, 0, SolveSpec.adaptive("dopri5", TOL, TOL));
        SparkSession spark = SparkBench.start("ensemble-100k");
        try (FieldSpec.Compiled local = spec.build()) {
            JavaSparkContext sc = SparkBench.context(spark);
            // the items are drawn on the executors, a seed per partition (as a parameter sweep would be), and cached
            JavaRDD<double[]> rdd = sc.parallelize(List.of(0, 1), PARTITIONS).flatMap(p -> items(p).iterator()).cache();
            if (rdd.count() != N) throw new IllegalStateException("expected " + N + " items");
            long[] nfe = new long[2];
            // the same batches as the partitions, for the baseline
            List<double[]> halves = new ArrayList<>();
            for (int p = 0; p < PARTITIONS; p++) {
                List<double[]> part = items(p);
                double[] flat = new double[part.size() * 4];
                for (int i = 0; i < part.size(); i++) System.arraycopy(part.get(i), 0, flat, i * 4, 4);
                halves.add(flat);
            }
            Timing.Result[] res = Timing.interleaved(new String[] {"spark local[2]", "one process"}, 1, 5,
                    () -> {
                        // each partition reports its item count and its solve's nfe: the results stay on the executors
                        List<long[]> parts = Ensemble.solve(rdd, spec, T, Ensemble.options()).mapPartitions(it -> {
                            long count = 0, evals = 0;
                            while (it.hasNext()) {
                                evals = it.next().nfe();
                                count++;
                            }
                            return List.of(new long[] {count, evals}).iterator();
                        }).collect();
                        if (parts.stream().mapToLong(c -> c[0]).sum() != N) throw new IllegalStateException("items lost");
                        nfe[0] = parts.stream().mapToLong(c -> c[1]).sum();
                    },
                    () -> {
                        long sum = 0;
                        for (double[] h : halves) {
                            try (Tensor y0 = Tensor.of(DType.FLOAT64, h, h.length / 4, 4); Solution s = local.solve(y0, T)) {
                                double[] ys = s.ys().toDoubleArray();
                                if (ys.length != 2 * h.length) throw new IllegalStateException("unexpected output size");
                                sum += s.stats().nfe();
                            }
                        }
                        nfe[1] = sum;
                    });
            double ms = res[0].medianNs() / 1e6;
            BenchMain.log(String.format(Locale.ROOT, "  %d items: %.1f ms (%.0f items/s) vs %.1f ms in one process;"
                    + " nfe %d vs %d", N, ms, N / (ms / 1e3), res[1].medianNs() / 1e6, nfe[0], nfe[1]));
            out.accept(res[0].describe(Json.bench("ensemble-100k").num("value", ms).str("unit", "ms")
                    .num("items", N).num("items_per_s", N / (ms / 1e3)).str("master", SparkBench.MASTER)
                    .num("partitions", PARTITIONS).num("nfe_per_partition_sum", nfe[0])
                    .str("baseline", "the same two batch solves in one process, one thread")
                    .num("baseline_value", res[1].medianNs() / 1e6)
                    .num("baseline_items_per_s", N / (res[1].medianNs() / 1e9))
                    .num("ratio", res[0].medianNs() / res[1].medianNs())
                    .str("field", "damped oscillators [x, v, w, zeta]").str("method", "dopri5").num("rtol", TOL)
                    .num("atol", TOL).str("span", Arrays.toString(T)).str("dtype", "float64")));
        } finally {
            spark.stop();
        }
    }
}
