package io.jdyn.ode;

import io.jdyn.DType;

/**
 * A batch of states [batch, dim] in native memory, as a Java vector field sees it during one
 * evaluation. No copy is made: reads and writes go straight to the solver's buffers. A view is valid
 * only during the call that received it; do not keep it. For large batches, the bulk
 * {@code copyTo}/{@code copyFrom} of the view's own dtype are one memory copy each, and a loop over
 * a Java array is usually faster than element-wise get/set.
 */
public interface BatchView {
    int batch();

    int dim();

    DType dtype();

    double get(int b, int d);

    void set(int b, int d, double value);

    /** The value at flat index b * dim + d. */
    double get(long index);

    void set(long index, double value);

    /** Copies all batch * dim values, row-major, into dst from offset 0. */
    default void copyTo(double[] dst) {
        long n = (long) batch() * dim();
        for (int i = 0; i < n; i++) dst[i] = get(i);
    }

    /** Overwrites all batch * dim values from src. */
    default void copyFrom(double[] src) {
        long n = (long) batch() * dim();
        for (int i = 0; i < n; i++) set(i, src[i]);
    }

    /** Copies all values into dst as floats (one bulk copy for a float32 solve). */
    default void copyTo(float[] dst) {
        long n = (long) batch() * dim();
        for (int i = 0; i < n; i++) dst[i] = (float) get(i);
    }

    /** Overwrites all values from src (one bulk copy for a float32 solve). */
    default void copyFrom(float[] src) {
        long n = (long) batch() * dim();
        for (int i = 0; i < n; i++) set(i, src[i]);
    }
}
