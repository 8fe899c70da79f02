package io.jdyn.ffm;

import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

import io.jdyn.DType;
import io.jdyn.ode.BatchView;
import java.lang.foreign.MemorySegment;

/**
 * A {@link BatchView} over the engine's own buffer for the duration of one upcall: re-pointed at
 * each call, never copied. Two final subclasses keep each access monomorphic for the JIT.
 *
 * <p>The view reads through one segment spanning the address space at the buffer's base address,
 * so re-pointing allocates nothing (a reinterpreted segment per call cost about 80 bytes of heap per
 * evaluation). That segment checks no bounds: every access here checks its index against batch * dim
 * itself, so a wrong index is an exception, never a stray native access.
 */
abstract sealed class SegmentView implements BatchView permits SegmentView.F64, SegmentView.F32 {
    private static final MemorySegment ALL = MemorySegment.NULL.reinterpret(Long.MAX_VALUE);

    final int batch;
    final int dim;
    final long size;
    long base;

    SegmentView(int batch, int dim) {
        this.batch = batch;
        this.dim = dim;
        this.size = (long) batch * dim;
    }

    static SegmentView of(DType dtype, int batch, int dim) {
        return dtype == DType.FLOAT64 ? new F64(batch, dim) : new F32(batch, dim);
    }

    /** A view of v's dtype and width over batch rows (a per-sample solve's sub-batches). */
    static SegmentView like(SegmentView v, int batch) {
        return v instanceof F64 ? new F64(batch, v.dim) : new F32(batch, v.dim);
    }

    /** Points the view at the engine's buffer at address (batch * dim values). */
    final void point(MemorySegment address) {
        base = address.address();
    }

    @Override
    public int batch() {
        return batch;
    }

    @Override
    public int dim() {
        return dim;
    }

    final long index(int b, int d) {
        if (b < 0 || b >= batch || d < 0 || d >= dim) {
            throw new IndexOutOfBoundsException("[" + b + ", " + d + "] is outside [" + batch + ", " + dim + "]");
        }
        return (long) b * dim + d;
    }

    final long flat(long i) {
        if (i < 0 || i >= size) throw new IndexOutOfBoundsException("index " + i + " is outside [0, " + size + ")");
        return i;
    }

    static final class F64 extends SegmentView {
        F64(int batch, int dim) {
            super(batch, dim);
        }

        @Override
        public DType dtype() {
            return DType.FLOAT64;
        }

        @Override
        public double get(int b, int d) {
            return ALL.get(JAVA_DOUBLE, base + 8 * index(b, d));
        }

        @Override
        public void set(int b, int d, double v) {
            ALL.set(JAVA_DOUBLE, base + 8 * index(b, d), v);
        }

        @Override
        public double get(long i) {
            return ALL.get(JAVA_DOUBLE, base + 8 * flat(i));
        }

        @Override
        public void set(long i, double v) {
            ALL.set(JAVA_DOUBLE, base + 8 * flat(i), v);
        }

        @Override
        public void copyTo(double[] dst) {
            MemorySegment.copy(ALL, JAVA_DOUBLE, base, dst, 0, Math.toIntExact(size));
        }

        @Override
        public void copyFrom(double[] src) {
            MemorySegment.copy(src, 0, ALL, JAVA_DOUBLE, base, Math.toIntExact(size));
        }
    }

    static final class F32 extends SegmentView {
        F32(int batch, int dim) {
            super(batch, dim);
        }

        @Override
        public DType dtype() {
            return DType.FLOAT32;
        }

        @Override
        public double get(int b, int d) {
            return ALL.get(JAVA_FLOAT, base + 4 * index(b, d));
        }

        @Override
        public void set(int b, int d, double v) {
            ALL.set(JAVA_FLOAT, base + 4 * index(b, d), (float) v);
        }

        @Override
        public double get(long i) {
            return ALL.get(JAVA_FLOAT, base + 4 * flat(i));
        }

        @Override
        public void set(long i, double v) {
            ALL.set(JAVA_FLOAT, base + 4 * flat(i), (float) v);
        }

        @Override
        public void copyTo(float[] dst) {
            MemorySegment.copy(ALL, JAVA_FLOAT, base, dst, 0, Math.toIntExact(size));
        }

        @Override
        public void copyFrom(float[] src) {
            MemorySegment.copy(src, 0, ALL, JAVA_FLOAT, base, Math.toIntExact(size));
        }
    }
}
