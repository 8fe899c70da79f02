package io.jdyn.spark;

import io.jdyn.Tensor;
import io.jdyn.ode.Solution;
import io.jdyn.ode.SolveStats;
import java.io.Serializable;
import java.math.BigDecimal;
import java.math.MathContext;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Objects;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * Ensemble solves with Spark: many initial states (or parameter sets, carried in the state, see
 * {@link FieldSpec}) through one field, each partition solving its items natively as one batch (or in
 * batches of {@link Options#itemsPerSolve(int)}), with the field compiled once per executor JVM.
 * Results keep the input's partitioning and order, so {@code states.zip(results)} pairs them up.
 *
 * <pre>{@code
 * FieldSpec f = FieldSpec.of(oscillator, 4, DType.FLOAT64, 0, SolveSpec.adaptive("dopri5", 1e-8, 1e-8));
 * JavaRDD<EnsembleResult> r = Ensemble.solve(states, f, new double[] {0, 10}, Ensemble.options());
 * Ensemble.Summary s = Ensemble.summarize(r);                   // mean and std of the final states, nfe
 * }</pre>
 */
public final class Ensemble {
    private Ensemble() {}

    /** How an ensemble is solved. */
    public static final class Options implements Serializable {
        private static final long serialVersionUID = 1L;
        private int itemsPerSolve;
        private boolean trajectory;

        /** Items per native solve (default 0: a partition's items in one solve; 1: every item its own steps and statistics). */
        public Options itemsPerSolve(int n) {
            if (n < 0) throw new IllegalArgumentException("itemsPerSolve must be >= 0, got " + n);
            itemsPerSolve = n;
            return this;
        }

        /** Keep the states at every evaluation time (default: the final state only). */
        public Options trajectory(boolean keep) {
            trajectory = keep;
            return this;
        }
    }

    public static Options options() {
        return new Options();
    }

    /** Solves every initial state of y0s (each as wide as the field) evaluated at times t. */
    public static JavaRDD<EnsembleResult> solve(JavaRDD<double[]> y0s, FieldSpec field, double[] t, Options options) {
        Objects.requireNonNull(y0s, "y0s");
        Objects.requireNonNull(field, "field");
        Objects.requireNonNull(options, "options");
        double[] times = checkTimes(t);
        return y0s.mapPartitionsWithIndex((i, it) -> solvePartition(i, it, field, times, options), true);
    }

    /**
     * A DataFrame version: the array&lt;double&gt; column {@code column} of states holds the initial
     * states; the result has columns {@code y0}, {@code final} (array&lt;double&gt;), {@code nfe},
     * {@code accepted}, {@code rejected} (long), {@code t_reached} (double) and {@code solve_size} (int).
     */
    public static Dataset<Row> solve(Dataset<Row> states, String column, FieldSpec field, double[] t, Options options) {
        Objects.requireNonNull(states, "states");
        Objects.requireNonNull(column, "column");
        if (!java.util.Arrays.asList(states.columns()).contains(column)) {
            throw new IllegalArgumentException("the DataFrame has no column \"" + column + "\"; it has "
                    + java.util.Arrays.toString(states.columns()));
        }
        Objects.requireNonNull(field, "field");
        Objects.requireNonNull(options, "options");
        double[] times = checkTimes(t);
        JavaRDD<Row> rows = states.select(column).javaRDD().mapPartitionsWithIndex((i, it) -> {
            List<double[]> y0 = new ArrayList<>();
            while (it.hasNext()) y0.add(Rows.doubles(it.next(), 0, column));
            Iterator<EnsembleResult> res = solvePartition(i, y0.iterator(), field, times, options);
            List<Row> out = new ArrayList<>(y0.size());
            for (double[] y : y0) {
                EnsembleResult r = res.next();
                out.add(RowFactory.create(y, r.finalState(), r.nfe(), r.accepted(), r.rejected(), r.tReached(),
                        r.solveSize()));
            }
            return out.iterator();
        }, true);
        StructType schema = new StructType()
                .add("y0", DataTypes.createArrayType(DataTypes.DoubleType, false), false)
                .add("final", DataTypes.createArrayType(DataTypes.DoubleType, false), false)
                .add("nfe", DataTypes.LongType, false)
                .add("accepted", DataTypes.LongType, false)
                .add("rejected", DataTypes.LongType, false)
                .add("t_reached", DataTypes.DoubleType, false)
                .add("solve_size", DataTypes.IntegerType, false);
        return SparkSession.active().createDataFrame(rows, schema);
    }

    /** The task side: a partition's items, solved in batches by this JVM's compiled field. */
    static Iterator<EnsembleResult> solvePartition(int partition, Iterator<double[]> it, FieldSpec spec, double[] t,
            Options options) {
        List<double[]> items = new ArrayList<>();
        int dim = spec.dim();
        while (it.hasNext()) {
            double[] y = it.next();
            String where = "item " + items.size() + " of partition " + partition;
            if (y == null) throw new IllegalArgumentException(where + " is null");
            if (y.length != dim) throw new IllegalArgumentException(where + " has width " + y.length + ", the field's state has width " + dim);
            for (int j = 0; j < dim; j++) {
                if (!Double.isFinite(y[j])) throw new IllegalArgumentException(where + " has component " + j + " = " + y[j]);
            }
            items.add(y);
        }
        List<EnsembleResult> out = new ArrayList<>(items.size());
        if (items.isEmpty()) return out.iterator();
        FieldSpec.Compiled c = ExecutorModels.borrow(spec.id(), spec::build);
        try {
            int step = options.itemsPerSolve > 0 ? options.itemsPerSolve : items.size();
            for (int from = 0; from < items.size(); from += step) {
                batch(c, items.subList(from, Math.min(items.size(), from + step)), t, dim, options.trajectory, out);
            }
            ExecutorModels.release(spec.id(), c);
        } catch (RuntimeException | Error e) {
            ExecutorModels.discard(c);
            throw e;
        }
        return out.iterator();
    }

    private static void batch(FieldSpec.Compiled c, List<double[]> items, double[] t, int dim, boolean keepTrajectory,
            List<EnsembleResult> out) {
        int n = items.size();
        double[] y0 = new double[n * dim];
        for (int i = 0; i < n; i++) System.arraycopy(items.get(i), 0, y0, i * dim, dim);
        try (Tensor x = Tensor.of(c.field().dtype(), y0, n, dim); Solution s = c.solve(x, t)) {
            double[] ys = s.ys().toDoubleArray(); // [T, n, dim]
            int nt = t.length;
            SolveStats st = s.stats();
            for (int i = 0; i < n; i++) {
                double[] last = new double[dim];
                System.arraycopy(ys, ((nt - 1) * n + i) * dim, last, 0, dim);
                double[][] traj = null;
                if (keepTrajectory) {
                    traj = new double[nt][dim];
                    for (int k = 0; k < nt; k++) System.arraycopy(ys, (k * n + i) * dim, traj[k], 0, dim);
                }
                out.add(new EnsembleResult(last, traj, st.nfe(), st.accepted(), st.rejected(), st.tReached(), n));
            }
        }
    }

    /** At least two finite, strictly monotone times (checked here, on the driver, before any task runs). */
    static double[] checkTimes(double[] t) {
        Objects.requireNonNull(t, "t");
        if (t.length < 2) throw new IllegalArgumentException("t needs at least two times, got " + t.length);
        double dir = Math.signum(t[1] - t[0]);
        for (int i = 0; i < t.length; i++) {
            if (!Double.isFinite(t[i])) throw new IllegalArgumentException("t[" + i + "] is " + t[i]);
            if (i > 0 && (dir == 0 || Math.signum(t[i] - t[i - 1]) != dir)) {
                throw new IllegalArgumentException("t must be strictly monotone, got " + java.util.Arrays.toString(t));
            }
        }
        return t.clone();
    }

    /** Ensemble statistics: the count, the mean and standard deviation of each final-state component, field evaluations. */
    public record Summary(long count, double[] mean, double[] std, long solves, long nfe, double minTReached) {
        @Override
        public double[] mean() {
            return mean.clone();
        }

        @Override
        public double[] std() {
            return std.clone();
        }
    }

    /**
     * The summary of results by a tree aggregation of exact sums (so it does not depend on the tree or
     * on task order); std is the population standard deviation. Refuses an empty ensemble.
     */
    public static Summary summarize(JavaRDD<EnsembleResult> results) {
        Moments m;
        try {
            m = results.mapPartitions(it -> {
                Moments p = new Moments();
                while (it.hasNext()) p.add(it.next());
                return List.of(p).iterator();
            }).treeAggregate(new Moments(), Moments::merge, Moments::merge);
        } catch (Exception e) {
            throw SparkFailures.translate(e);
        }
        if (m.count == 0) throw new IllegalArgumentException("the ensemble is empty: nothing to summarise");
        int d = m.sum.length;
        double[] mean = new double[d];
        double[] std = new double[d];
        BigDecimal n = BigDecimal.valueOf(m.count);
        for (int j = 0; j < d; j++) {
            BigDecimal mu = m.sum[j].divide(n, MathContext.DECIMAL128);
            BigDecimal var = m.sumSq[j].divide(n, MathContext.DECIMAL128).subtract(mu.multiply(mu, MathContext.DECIMAL128));
            mean[j] = mu.doubleValue();
            std[j] = Math.sqrt(Math.max(0, var.doubleValue()));
        }
        return new Summary(m.count, mean, std, m.solves, m.nfe, m.minT);
    }

    /** Exact running sums of final states and their squares. */
    static final class Moments implements Serializable {
        private static final long serialVersionUID = 1L;
        long count;
        BigDecimal[] sum = new BigDecimal[0];
        BigDecimal[] sumSq = new BigDecimal[0];
        /** Solves counted once each: an item of a solve of k items adds 1/k of it, summed as k per solve. */
        long solves;
        long nfe;
        double minT = Double.POSITIVE_INFINITY;
        private int leftInSolve;

        void add(EnsembleResult r) {
            double[] y = r.finalState();
            if (sum.length == 0) {
                sum = zeros(y.length);
                sumSq = zeros(y.length);
            }
            for (int j = 0; j < y.length; j++) {
                BigDecimal v = new BigDecimal(y[j]);
                sum[j] = sum[j].add(v);
                sumSq[j] = sumSq[j].add(v.multiply(v));
            }
            count++;
            // results of one solve are adjacent in their partition: count the solve at its first item
            if (leftInSolve == 0) {
                solves++;
                nfe += r.nfe();
                leftInSolve = r.solveSize();
            }
            leftInSolve--;
            minT = Math.min(minT, r.tReached());
        }

        Moments merge(Moments o) {
            if (sum.length == 0) {
                sum = o.sum.clone();
                sumSq = o.sumSq.clone();
            } else if (o.sum.length > 0) {
                for (int j = 0; j < sum.length; j++) {
                    sum[j] = sum[j].add(o.sum[j]);
                    sumSq[j] = sumSq[j].add(o.sumSq[j]);
                }
            }
            count += o.count;
            solves += o.solves;
            nfe += o.nfe;
            minT = Math.min(minT, o.minT);
            return this;
        }

        private static BigDecimal[] zeros(int n) {
            BigDecimal[] z = new BigDecimal[n];
            java.util.Arrays.fill(z, BigDecimal.ZERO);
            return z;
        }
    }
}
