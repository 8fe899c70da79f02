package io.jdyn.data;

import java.util.Arrays;
import java.util.Objects;

/**
 * The contents of a NumPy {@code .npy} file: its dtype descriptor ({@code "<f4"}, {@code "<f8"},
 * {@code "<i4"} or {@code "<i8"}), its shape ({@code []} for a scalar) and its values in C order, as
 * doubles (exact for every supported dtype within +-2^53).
 */
public record NpyArray(String descr, long[] shape, double[] values) {
    public NpyArray {
        Objects.requireNonNull(descr, "descr");
        Objects.requireNonNull(shape, "shape");
        Objects.requireNonNull(values, "values");
        if (Npy.elementSize(descr) < 0) {
            throw new IllegalArgumentException("unsupported dtype " + descr + " (supported: <f4, <f8, <i4, <i8)");
        }
        long n = 1;
        for (long s : shape) {
            if (s < 0) throw new IllegalArgumentException("negative dimension in shape " + Arrays.toString(shape));
            n = Math.multiplyExact(n, s);
        }
        if (n != values.length) {
            throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " holds " + n + " values, " + values.length + " given");
        }
        shape = shape.clone();
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }
}
