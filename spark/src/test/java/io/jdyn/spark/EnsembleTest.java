package io.jdyn.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jdyn.DType;
import io.jdyn.Tensor;
import io.jdyn.models.NeuralODE;
import io.jdyn.nn.DepthCat;
import io.jdyn.nn.Linear;
import io.jdyn.nn.Sequential;
import io.jdyn.nn.Tanh;
import io.jdyn.ode.Solution;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Ensembles through Spark against the same solves one by one in this process, and against the exact solution. */
class EnsembleTest {
    static final double[] T = {0, 0.5, 1, 1.5, 2};
    static SparkSession spark;
    static JavaSparkContext sc;

    @BeforeAll
    static void start() {
        spark = LocalSpark.start("EnsembleTest");
        sc = LocalSpark.context(spark);
    }

    @AfterAll
    static void stop() {
        spark.stop();
    }

    static FieldSpec oscillators(SolveSpec solve) {
        return FieldSpec.of(Oscillators.FIELD, 4, DType.FLOAT64, 0, solve);
    }

    /** Each item solved alone, here, by the same compiled field: [item][T][dim], and each solve's nfe. */
    static double[][][] oneByOne(FieldSpec spec, double[][] items, long[] nfe) {
        double[][][] out = new double[items.length][T.length][];
        try (FieldSpec.Compiled c = spec.build()) {
            for (int i = 0; i < items.length; i++) {
                try (Tensor y0 = Tensor.of(DType.FLOAT64, items[i], 1, items[i].length); Solution s = c.solve(y0, T)) {
                    double[] ys = s.ys().toDoubleArray();
                    int d = items[i].length;
                    for (int k = 0; k < T.length; k++) out[i][k] = Arrays.copyOfRange(ys, k * d, (k + 1) * d);
                    if (nfe != null) nfe[i] = s.stats().nfe();
                }
            }
        }
        return out;
    }

    @Test
    void fixedStepEnsembleEqualsOneByOneAndTheExactSolution() {
        double[][] items = Oscillators.items(50, 1);
        FieldSpec spec = oscillators(SolveSpec.fixed("rk4", 0.01));
        List<EnsembleResult> r = Ensemble.solve(sc.parallelize(Arrays.asList(items), 3), spec, T,
                Ensemble.options().trajectory(true)).collect();
        double[][][] ref = oneByOne(spec, items, null);
        assertEquals(items.length, r.size());
        for (int i = 0; i < items.length; i++) {
            double[][] traj = r.get(i).trajectory();
            for (int k = 0; k < T.length; k++) {
                // fixed steps: an item's arithmetic does not depend on its batch; 1e-14 leaves room for a
                // vectorised loop that groups operations differently at another batch size
                for (int j = 0; j < 4; j++) assertEquals(ref[i][k][j], traj[k][j], 1e-14, "item " + i + " t " + T[k]);
                // rk4 with h = 0.01 over t <= 2, |w| <= 2: global error ~ (w h)^4 t = 3e-8 at most
                double[] exact = Oscillators.exact(items[i], T[k]);
                assertEquals(exact[0], traj[k][0], 1e-7, "x of item " + i);
                assertEquals(exact[1], traj[k][1], 1e-7, "v of item " + i);
            }
            assertArrayEquals(traj[T.length - 1], r.get(i).finalState());
            assertEquals(items[i][2], r.get(i).finalState()[2], 0.0, "the parameters stay put");
            assertEquals(2.0, r.get(i).tReached(), 1e-12);
        }
        // parallelize slices 50 items into partitions of 16, 17 and 17, each one solve
        assertEquals(List.of(16, 17, 17), List.of(r.get(0).solveSize(), r.get(16).solveSize(), r.get(49).solveSize()));
        assertEquals(800, r.get(0).nfe(), "rk4: 4 evaluations per step, 200 steps");
    }

    @Test
    void adaptiveItemsSolvedAloneMatchOneByOneWithTheirOwnStatistics() {
        double[][] items = Oscillators.items(20, 2);
        FieldSpec spec = oscillators(SolveSpec.adaptive("dopri5", 1e-8, 1e-8));
        List<EnsembleResult> r = Ensemble.solve(sc.parallelize(Arrays.asList(items), 2), spec, T,
                Ensemble.options().itemsPerSolve(1)).collect();
        long[] nfe = new long[items.length];
        double[][][] ref = oneByOne(spec, items, nfe);
        for (int i = 0; i < items.length; i++) {
            assertArrayEquals(ref[i][T.length - 1], r.get(i).finalState(), "item " + i + ": the same solve, the same bits");
            assertEquals(nfe[i], r.get(i).nfe(), "item " + i + " nfe");
            assertEquals(1, r.get(i).solveSize());
            assertNull(r.get(i).trajectory());
            double[] exact = Oscillators.exact(items[i], 2);
            // dopri5 at rtol = atol = 1e-8 over two time units: global error well under 1e-6
            assertEquals(exact[0], r.get(i).finalState()[0], 1e-6);
        }
        assertTrue(Arrays.stream(nfe).distinct().count() > 1, "items take their own steps: " + Arrays.toString(nfe));

        // perSample reaches the native solves (whose engine may still share the step across the batch):
        // either way every item meets the tolerance
        SolveSpec own = SolveSpec.adaptive("dopri5", 1e-8, 1e-8).perSample(true);
        assertTrue(own.options(T).perSample());
        List<EnsembleResult> batch = Ensemble.solve(sc.parallelize(Arrays.asList(items), 2), oscillators(own), T,
                Ensemble.options()).collect();
        for (int i = 0; i < items.length; i++) {
            assertEquals(Oscillators.exact(items[i], 2)[0], batch.get(i).finalState()[0], 1e-6, "per-sample item " + i);
        }
    }

    @Test
    void summaryMatchesTheCollectedResults() {
        double[][] items = Oscillators.items(40, 3);
        JavaRDD<EnsembleResult> r = Ensemble.solve(sc.parallelize(Arrays.asList(items), 4),
                oscillators(SolveSpec.fixed("rk4", 0.05)), T, Ensemble.options()).cache();
        Ensemble.Summary s = Ensemble.summarize(r);
        List<EnsembleResult> all = r.collect();
        assertEquals(40, s.count());
        assertEquals(4, s.solves(), "one solve per partition");
        assertEquals(4 * all.get(0).nfe(), s.nfe());
        for (int j = 0; j < 4; j++) {
            final int c = j;
            double mean = all.stream().mapToDouble(e -> e.finalState()[c]).average().orElseThrow();
            double var = all.stream().mapToDouble(e -> (e.finalState()[c] - mean) * (e.finalState()[c] - mean)).sum() / 40;
            // the summary sums exactly; the two-pass reference here rounds at each of 40 terms
            assertEquals(mean, s.mean()[j], 1e-14);
            assertEquals(Math.sqrt(var), s.std()[j], 1e-12);
        }
        var empty = assertThrows(IllegalArgumentException.class,
                () -> Ensemble.summarize(sc.parallelize(List.<EnsembleResult>of(), 2)));
        assertTrue(empty.getMessage().contains("empty"), empty.getMessage());
    }

    @Test
    void shippedNeuralOdeEnsembleEqualsTheModelsOwnBatchSolve() {
        try (NeuralODE m = NeuralODE.builder(Sequential.of(new DepthCat(), new Linear(3, 8), new Tanh(), new Linear(8, 2)), 2)
                .dtype(DType.FLOAT64).seed(5).solver("rk4").dt(0.05).build()) {
            double[][] items = new double[30][];
            for (int i = 0; i < items.length; i++) items[i] = new double[] {Math.cos(i), Math.sin(0.3 * i)};
            List<EnsembleResult> r = Ensemble.solve(sc.parallelize(Arrays.asList(items), 3), FieldSpec.of(ModelSpec.of(m)),
                    T, Ensemble.options()).collect();
            double[] flat = new double[60];
            for (int i = 0; i < 30; i++) System.arraycopy(items[i], 0, flat, 2 * i, 2);
            try (Tensor x = Tensor.of(DType.FLOAT64, flat, 30, 2); Tensor traj = m.trajectory(x, T)) {
                double[] ys = traj.toDoubleArray();
                for (int i = 0; i < 30; i++) {
                    double[] want = Arrays.copyOfRange(ys, (4 * 30 + i) * 2, (4 * 30 + i) * 2 + 2);
                    // fixed steps: batch-independent up to the GEMM's blocking (a few ulps)
                    assertArrayEquals(want, r.get(i).finalState(), 1e-13, "item " + i);
                }
            }
        }
    }

    @Test
    void dataFrameEnsembleEqualsTheRddOne() {
        double[][] items = Oscillators.items(12, 4);
        List<Row> rows = new ArrayList<>();
        for (double[] y : items) rows.add(RowFactory.create((Object) y));
        Dataset<Row> df = spark.createDataFrame(rows,
                new StructType().add("y0", DataTypes.createArrayType(DataTypes.DoubleType), false)).repartition(1);
        FieldSpec spec = oscillators(SolveSpec.fixed("rk4", 0.05));
        List<Row> out = Ensemble.solve(df, "y0", spec, T, Ensemble.options()).collectAsList();
        List<EnsembleResult> ref = Ensemble.solve(sc.parallelize(Arrays.asList(items), 1), spec, T, Ensemble.options()).collect();
        assertEquals(12, out.size());
        for (int i = 0; i < 12; i++) {
            double[] fin = out.get(i).getList(1).stream().mapToDouble(v -> (Double) v).toArray();
            assertArrayEquals(ref.get(i).finalState(), fin, 1e-14);
            assertEquals(ref.get(i).nfe(), out.get(i).getLong(2));
            assertEquals(12, out.get(i).getInt(6));
        }
    }

    @Test
    void refusesBadItemsAndTimes() {
        FieldSpec spec = oscillators(SolveSpec.fixed("rk4", 0.1));
        List<double[]> wide = new ArrayList<>(Arrays.asList(Oscillators.items(6, 5)));
        wide.set(4, new double[] {1, 2, 3});
        var width = assertThrows(IllegalArgumentException.class, () -> Ensemble.summarize(
                Ensemble.solve(sc.parallelize(wide, 2), spec, T, Ensemble.options())));
        assertTrue(width.getMessage().contains("item 1 of partition 1 has width 3, the field's state has width 4"),
                width.getMessage());

        List<double[]> nan = new ArrayList<>(Arrays.asList(Oscillators.items(6, 5)));
        nan.set(0, new double[] {0, Double.NaN, 1, 0.1});
        // the results are a lazy RDD: the caller's own action fails with Spark's exception, caused by the refusal
        Exception bad = assertThrows(Exception.class,
                () -> Ensemble.solve(sc.parallelize(nan, 1), spec, T, Ensemble.options()).collect());
        Throwable cause = bad;
        while (cause != null && !(cause instanceof IllegalArgumentException)) cause = cause.getCause();
        assertTrue(cause != null && cause.getMessage().contains("item 0 of partition 0 has component 1 = NaN"),
                bad.toString());

        var times = assertThrows(IllegalArgumentException.class,
                () -> Ensemble.solve(sc.parallelize(nan, 1), spec, new double[] {0, 1, 1}, Ensemble.options()));
        assertTrue(times.getMessage().contains("strictly monotone"), times.getMessage());
        var solver = assertThrows(IllegalArgumentException.class, () -> SolveSpec.fixed("nonesuch", 0.1));
        assertTrue(solver.getMessage().contains("nonesuch"), solver.getMessage());
    }
}
