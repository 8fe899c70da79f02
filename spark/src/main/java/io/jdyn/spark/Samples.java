package io.jdyn.spark;

import java.util.Arrays;
import java.util.Objects;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/** Training samples from a DataFrame. */
public final class Samples {
    private Samples() {}

    /**
     * The rows of data as samples: features from an array&lt;double&gt; column, the target from an
     * array&lt;double&gt; column (regression) or a numeric one (a class index). Bad rows (non-finite
     * values, a fractional class) are refused by the task that reads them, with the column's name.
     */
    public static JavaRDD<Sample> fromDataFrame(Dataset<Row> data, String features, String target) {
        Objects.requireNonNull(data, "data");
        for (String c : new String[] {Objects.requireNonNull(features, "features"), Objects.requireNonNull(target, "target")}) {
            if (!Arrays.asList(data.columns()).contains(c)) {
                throw new IllegalArgumentException("the DataFrame has no column \"" + c + "\"; it has " + Arrays.toString(data.columns()));
            }
        }
        return data.select(features, target).javaRDD()
                .map(r -> new Sample(Rows.doubles(r, 0, features), Rows.doubles(r, 1, target)));
    }
}
