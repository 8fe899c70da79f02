package io.jdyn.bench;

import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;

/** The Spark of the Spark benchmarks: local[2] (two task threads in this JVM), no UI, loopback only. */
final class SparkBench {
    static final String MASTER = "local[2]";

    private SparkBench() {}

    static SparkSession start(String name) {
        SparkSession s = SparkSession.builder().master(MASTER).appName(name)
                .config("spark.ui.enabled", "false")
                .config("spark.ui.showConsoleProgress", "false")
                .config("spark.driver.host", "127.0.0.1")
                .config("spark.driver.bindAddress", "127.0.0.1")
                .getOrCreate();
        s.sparkContext().setLogLevel("WARN");
        return s;
    }

    static JavaSparkContext context(SparkSession s) {
        return JavaSparkContext.fromSparkContext(s.sparkContext());
    }
}
