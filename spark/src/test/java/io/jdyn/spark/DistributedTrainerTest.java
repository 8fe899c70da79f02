package io.jdyn.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jdyn.DType;
import io.jdyn.Tensor;
import io.jdyn.models.NeuralODE;
import io.jdyn.nn.Linear;
import io.jdyn.nn.Sequential;
import io.jdyn.nn.Tanh;
import io.jdyn.train.loss.CrossEntropyLoss;
import io.jdyn.train.loss.LossValue;
import io.jdyn.train.loss.MSELoss;
import io.jdyn.train.optim.Adam;
import io.jdyn.train.optim.Optimizer;
import io.jdyn.train.optim.SGD;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.Function;
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

/**
 * Data-parallel training against the same computation in one process. Fixed steps (rk4, dt 0.1) make
 * every sample's solve independent of the rest of its batch, so a split into partitions changes only
 * the order of floating-point sums: the gradients agree to rounding, hence the 1e-12 bound (values are
 * O(1), the sums have 48 terms, each off by a few ulps).
 */
class DistributedTrainerTest {
    static final int N = 48;
    static SparkSession spark;
    static JavaSparkContext sc;

    @BeforeAll
    static void start() {
        spark = LocalSpark.start("DistributedTrainerTest");
        sc = LocalSpark.context(spark);
    }

    @AfterAll
    static void stop() {
        spark.stop();
    }

    static NeuralODE model(long seed) {
        return NeuralODE.builder(Sequential.of(new Linear(2, 12), new Tanh(), new Linear(12, 2)), 2).dtype(DType.FLOAT64)
                .seed(seed).solver("rk4").dt(0.1).build();
    }

    static List<Sample> classification(long seed) {
        Random r = new Random(seed);
        List<Sample> out = new ArrayList<>();
        for (int i = 0; i < N; i++) {
            int label = i % 2;
            out.add(Sample.of(new double[] {r.nextGaussian() + (label == 0 ? -1 : 1), r.nextGaussian()}, label));
        }
        return out;
    }

    static List<Sample> regression(long seed) {
        Random r = new Random(seed);
        List<Sample> out = new ArrayList<>();
        for (int i = 0; i < N; i++) {
            double a = r.nextGaussian(), b = r.nextGaussian();
            out.add(new Sample(new double[] {a, b}, new double[] {Math.sin(a) + b, 0.5 * a * b}));
        }
        return out;
    }

    static double[] features(List<Sample> s) {
        double[] x = new double[s.size() * 2];
        for (int i = 0; i < s.size(); i++) System.arraycopy(s.get(i).features(), 0, x, 2 * i, 2);
        return x;
    }

    /** The single-process reference: mean loss over the whole batch, one solve, one backward pass. */
    static double singleProcess(NeuralODE m, List<Sample> data, SampleLoss loss) {
        m.zeroGrad();
        try (Tensor x = Tensor.of(DType.FLOAT64, features(data), data.size(), 2);
             NeuralODE.Trace tr = m.trace(x);
             LossValue l = meanLoss(tr.output(), data, loss)) {
            tr.backward(l.grad()).close();
            return l.value();
        }
    }

    static LossValue meanLoss(Tensor out, List<Sample> data, SampleLoss loss) {
        if (loss == SampleLoss.CROSS_ENTROPY) {
            int[] labels = data.stream().mapToInt(s -> (int) s.target()[0]).toArray();
            return new CrossEntropyLoss().compute(out, labels);
        }
        double[] t = new double[data.size() * 2];
        for (int i = 0; i < data.size(); i++) System.arraycopy(data.get(i).target(), 0, t, 2 * i, 2);
        try (Tensor target = Tensor.of(DType.FLOAT64, t, data.size(), 2)) {
            return new MSELoss().compute(out, target);
        }
    }

    static void close(double expected, double actual, double tol, String what) {
        assertTrue(Math.abs(expected - actual) <= tol * Math.max(1, Math.abs(expected)),
                what + ": expected " + expected + ", got " + actual);
    }

    static void close(double[] expected, double[] actual, double tol, String what) {
        assertEquals(expected.length, actual.length, what + ": length");
        for (int i = 0; i < expected.length; i++) close(expected[i], actual[i], tol, what + "[" + i + "]");
    }

    @Test
    void gradientEqualsSingleProcessForBothLosses() {
        for (SampleLoss loss : SampleLoss.values()) {
            List<Sample> data = loss == SampleLoss.MSE ? regression(3) : classification(3);
            try (NeuralODE m = model(11); SGD sgd = SGD.of(m.parameters(), 0.1)) {
                double ref = singleProcess(m, data, loss);
                double[] g = m.grad();
                // 5 uneven partitions (48 = 10+10+10+9+9), one of them in batches of 4
                DistributedTrainer t = new DistributedTrainer(sc, m, loss, sgd);
                DistributedTrainer.LossAndGradient lg = t.lossAndGradient(sc.parallelize(data, 5));
                assertEquals(N, lg.samples());
                close(ref, lg.loss(), 1e-12, loss + " loss");
                close(g, lg.gradient(), 1e-12, loss + " gradient");
                DistributedTrainer.LossAndGradient chunked = t.partitionBatch(4).lossAndGradient(sc.parallelize(data, 5));
                close(g, chunked.gradient(), 1e-12, loss + " gradient in batches of 4");
                assertTrue(lg.nativeNanosMax() > 0 && lg.nativeNanosSum() >= lg.nativeNanosMax(), "native time measured");
            }
        }
    }

    @Test
    void adaptiveAdjointInOnePartitionIsTheSingleProcessSolve() {
        // one partition holds the whole batch: the same adaptive solve and adjoint backward pass as one process
        List<Sample> data = classification(12);
        try (NeuralODE m = NeuralODE.builder(Sequential.of(new Linear(2, 12), new Tanh(), new Linear(12, 2)), 2)
                .dtype(DType.FLOAT64).seed(3).solver("dopri5").rtol(1e-6).atol(1e-6).sensitivity("adjoint").build();
             SGD sgd = SGD.of(m.parameters(), 0.1)) {
            double ref = singleProcess(m, data, SampleLoss.CROSS_ENTROPY);
            double[] g = m.grad();
            DistributedTrainer.LossAndGradient lg = new DistributedTrainer(sc, m, SampleLoss.CROSS_ENTROPY, sgd)
                    .lossAndGradient(sc.parallelize(data, 1));
            close(ref, lg.loss(), 1e-12, "loss");
            close(g, lg.gradient(), 1e-12, "gradient");
        }
    }

    @Test
    void resultsAreBitIdenticalAcrossRunsAndTreeDepths() {
        List<Sample> data = classification(5);
        try (NeuralODE m = model(2); SGD sgd = SGD.of(m.parameters(), 0.1)) {
            DistributedTrainer t = new DistributedTrainer(sc, m, SampleLoss.CROSS_ENTROPY, sgd);
            JavaRDD<Sample> rdd = sc.parallelize(data, 8).cache();
            double[] first = t.lossAndGradient(rdd).gradient();
            for (int depth = 1; depth <= 3; depth++) {
                assertArrayEquals(first, t.depth(depth).lossAndGradient(rdd).gradient(), "depth " + depth);
            }
        }
    }

    @Test
    void roundsEqualSingleProcessSteps() {
        List<Sample> data = classification(9);
        roundsMatch(data, m -> SGD.builder(m.parameters()).lr(0.2).momentum(0.9).build(), 1e-12);
        // Adam divides by sqrt(v): still smooth in the gradient away from 0, the rounding stays small.
        roundsMatch(data, m -> Adam.of(m.parameters(), 0.05), 1e-10);
    }

    private static void roundsMatch(List<Sample> data, Function<NeuralODE, Optimizer> opt, double tol) {
        try (NeuralODE dist = model(21); NeuralODE single = model(21);
             Optimizer od = opt.apply(dist); Optimizer os = opt.apply(single)) {
            assertArrayEquals(single.parameters().values().toDoubleArray(), dist.parameters().values().toDoubleArray());
            DistributedTrainer t = new DistributedTrainer(sc, dist, SampleLoss.CROSS_ENTROPY, od);
            List<DistributedTrainer.Round> rounds = t.fit(sc.parallelize(data, 3).cache(), 4);
            for (int i = 0; i < 4; i++) {
                double loss = singleProcess(single, data, SampleLoss.CROSS_ENTROPY);
                os.step();
                close(loss, rounds.get(i).loss(), tol, od + " round " + (i + 1) + " loss");
            }
            assertTrue(rounds.get(3).loss() < rounds.get(0).loss(), "training lowers the loss: " + rounds);
            close(single.parameters().values().toDoubleArray(), dist.parameters().values().toDoubleArray(), tol,
                    od + " parameters after 4 rounds");
        }
    }

    @Test
    void shippedModelRebuildsBitIdentically() {
        try (NeuralODE m = model(4); ModelSpec.Built b = ModelSpec.of(m).build();
             Tensor x = Tensor.of(DType.FLOAT64, features(classification(1)), N, 2);
             Tensor y1 = m.forward(x); Tensor y2 = b.model().forward(x)) {
            assertArrayEquals(y1.toDoubleArray(), y2.toDoubleArray());
            assertEquals(m.solver(), b.model().solver());
        }
    }

    @Test
    void dataFrameSamplesTrainAsTheRdd() {
        List<Sample> data = regression(8);
        List<Row> rows = new ArrayList<>();
        for (Sample s : data) rows.add(RowFactory.create(s.features(), s.target()));
        StructType schema = new StructType()
                .add("x", DataTypes.createArrayType(DataTypes.DoubleType), false)
                .add("y", DataTypes.createArrayType(DataTypes.DoubleType), false);
        Dataset<Row> df = spark.createDataFrame(rows, schema).repartition(1);
        try (NeuralODE m = model(6); SGD sgd = SGD.of(m.parameters(), 0.1)) {
            double ref = singleProcess(m, data, SampleLoss.MSE);
            double[] g = m.grad();
            DistributedTrainer.LossAndGradient lg = new DistributedTrainer(sc, m, SampleLoss.MSE, sgd)
                    .lossAndGradient(Samples.fromDataFrame(df, "x", "y"));
            close(ref, lg.loss(), 1e-12, "loss");
            close(g, lg.gradient(), 1e-12, "gradient");
        }
    }

    @Test
    void refusesBadData() {
        try (NeuralODE m = model(1); SGD sgd = SGD.of(m.parameters(), 0.1)) {
            DistributedTrainer t = new DistributedTrainer(sc, m, SampleLoss.CROSS_ENTROPY, sgd);
            var empty = assertThrows(IllegalArgumentException.class, () -> t.step(sc.parallelize(List.<Sample>of(), 2)));
            assertTrue(empty.getMessage().contains("empty"), empty.getMessage());

            List<Sample> wide = new ArrayList<>(classification(1));
            wide.set(30, Sample.of(new double[] {1, 2, 3}, 0));
            var width = assertThrows(IllegalArgumentException.class, () -> t.step(sc.parallelize(wide, 2)));
            assertTrue(width.getMessage().contains("has 3 features, but the model's state has width 2"), width.getMessage());

            List<Sample> badLabel = new ArrayList<>(classification(1));
            badLabel.set(0, Sample.of(new double[] {1, 2}, 2));
            var label = assertThrows(IllegalArgumentException.class, () -> t.step(sc.parallelize(badLabel, 2)));
            assertTrue(label.getMessage().contains("class index in [0, 2)"), label.getMessage());

            var nan = assertThrows(IllegalArgumentException.class, () -> Sample.of(new double[] {1, Double.NaN}, 0));
            assertTrue(nan.getMessage().contains("feature 1 of a sample is NaN"), nan.getMessage());

            // a non-finite value read from a DataFrame is refused by the task that reads it
            StructType schema = new StructType().add("x", DataTypes.createArrayType(DataTypes.DoubleType), false)
                    .add("y", DataTypes.DoubleType, false);
            Dataset<Row> df = spark.createDataFrame(List.of(RowFactory.create(new double[] {1, Double.POSITIVE_INFINITY}, 1.0)),
                    schema);
            var inf = assertThrows(IllegalArgumentException.class, () -> t.step(Samples.fromDataFrame(df, "x", "y")));
            assertTrue(inf.getMessage().contains("feature 1 of a sample is Infinity"), inf.getMessage());
            var column = assertThrows(IllegalArgumentException.class, () -> Samples.fromDataFrame(df, "features", "y"));
            assertTrue(column.getMessage().contains("no column \"features\""), column.getMessage());
        }
    }
}
