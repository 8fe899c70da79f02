package io.jdyn.spi;

import io.jdyn.DType;

/** Internal: a block of native memory holding {@code elements()} values of one dtype. */
public interface NativeBuffer extends AutoCloseable {
    DType dtype();

    long elements();

    boolean isClosed();

    double get(long index);

    void set(long index, double value);

    void copyFrom(double[] src, int srcOffset, long dstIndex, int length);

    void copyFrom(float[] src, int srcOffset, long dstIndex, int length);

    void copyTo(long srcIndex, double[] dst, int dstOffset, int length);

    void copyTo(long srcIndex, float[] dst, int dstOffset, int length);

    /** Frees the memory; later use throws {@link io.jdyn.TensorClosedException}. Idempotent. */
    @Override
    void close();
}
