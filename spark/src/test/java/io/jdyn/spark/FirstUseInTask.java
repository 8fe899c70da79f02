package io.jdyn.spark;

import io.jdyn.DType;
import io.jdyn.Jdyn;
import java.util.Arrays;
import java.util.List;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;

/**
 * The child JVM of {@link NativeLoadInTaskTest}: starts local[2] Spark and touches jdyn for the first
 * time inside tasks (an ensemble solve, then Jdyn.info() from a task), printing what the tasks saw.
 */
public final class FirstUseInTask {
    private FirstUseInTask() {}

    public static void main(String[] args) {
        // a bare SparkContext: Spark SQL is not needed here and costs seconds to start
        JavaSparkContext sc = new JavaSparkContext(new SparkConf().setMaster("local[2]").setAppName("FirstUseInTask")
                .set("spark.ui.enabled", "false").set("spark.driver.host", "127.0.0.1")
                .set("spark.driver.bindAddress", "127.0.0.1"));
        try {
            FieldSpec f = FieldSpec.of(Oscillators.FIELD, 4, DType.FLOAT64, 0, SolveSpec.fixed("rk4", 0.01));
            List<EnsembleResult> r = Ensemble.solve(sc.parallelize(Arrays.asList(Oscillators.items(4, 7)), 2), f,
                    new double[] {0, 1}, Ensemble.options()).collect();
            double[] exact = Oscillators.exact(Oscillators.items(4, 7)[3], 1);
            System.out.println("error " + Math.abs(r.get(3).finalState()[0] - exact[0]));
            List<String> info = sc.parallelize(List.of(1, 2), 2).map(i -> Thread.currentThread().getName() + ": "
                    + Jdyn.info().lines().filter(l -> l.startsWith("native:")).findFirst().orElse("none")).collect();
            info.forEach(System.out::println);
        } finally {
            sc.stop();
        }
    }
}
