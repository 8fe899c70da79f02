package io.jdyn.spark;

import java.util.List;
import org.apache.spark.sql.Row;

/** Reading DataFrame rows into doubles, with the column named in every refusal. */
final class Rows {
    private Rows() {}

    /** An array<double> (or array of numbers) column of row as double[]. */
    static double[] doubles(Row row, int i, String column) {
        if (row.isNullAt(i)) throw new IllegalArgumentException("column \"" + column + "\" is null in row " + row);
        Object v = row.get(i);
        if (v instanceof Number n) return new double[] {n.doubleValue()};
        List<Object> list;
        try {
            list = row.getList(i);
        } catch (ClassCastException e) {
            throw new IllegalArgumentException("column \"" + column + "\" must hold arrays of numbers, got " + v);
        }
        double[] out = new double[list.size()];
        for (int k = 0; k < out.length; k++) {
            if (!(list.get(k) instanceof Number n)) {
                throw new IllegalArgumentException("column \"" + column + "\" holds " + list.get(k) + ", not a number");
            }
            out[k] = n.doubleValue();
        }
        return out;
    }
}
