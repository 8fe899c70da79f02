package io.jdyn.ode;

import io.jdyn.DType;
import io.jdyn.Tensor;
import io.jdyn.TensorClosedException;
import io.jdyn.spi.Backends;
import io.jdyn.spi.DenseHandle;
import io.jdyn.spi.NativeBuffer;

/**
 * The continuous solution of a solve: each method's own interpolant (dopri5, tsit5, dopri8) or
 * cubic Hermite, step by step, kept in native memory. Closed with its {@link Solution}.
 */
public final class DenseInterpolant implements AutoCloseable {
    private final DenseHandle handle;
    private final DType dtype;
    private final long[] stateShape;
    private volatile boolean closed;

    DenseInterpolant(DenseHandle handle, DType dtype, long[] stateShape) {
        this.handle = handle;
        this.dtype = dtype;
        this.stateShape = stateShape.clone();
    }

    /** The states at the given times (inside the solved span), shaped [times.length, *y0.shape]. */
    public Tensor evaluate(double... times) {
        if (closed) throw new TensorClosedException("the interpolant is closed");
        if (times.length == 0) throw new IllegalArgumentException("no times given");
        long per = 1;
        for (long s : stateShape) per *= s;
        NativeBuffer out = Backends.get().allocate(dtype, per * times.length);
        try {
            handle.eval(times, out);
        } catch (RuntimeException e) {
            out.close();
            throw e;
        }
        long[] shape = new long[stateShape.length + 1];
        shape[0] = times.length;
        System.arraycopy(stateShape, 0, shape, 1, stateShape.length);
        return Tensor.wrap(out, shape);
    }

    public double tFirst() {
        return handle.tFirst();
    }

    public double tLast() {
        return handle.tLast();
    }

    /** The number of steps stored. */
    public long steps() {
        return handle.steps();
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            handle.close();
        }
    }
}
