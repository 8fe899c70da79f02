package io.jdyn.ffm;

import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

import io.jdyn.DType;
import io.jdyn.ode.BatchView;
import java.lang.foreign.MemorySegment;

/**
 * A {@link BatchView} over the engine's own buffer for the duration of one upcall: re-pointed at
 * each call, never copied. Two final subclasses keep each access monomorphic for the JIT.
 */
abstract sealed class SegmentView implements BatchView permits SegmentView.F64, SegmentView.F32 {
    final int batch;
    final int dim;
    MemorySegment segment = MemorySegment.NULL;

    SegmentView(int batch, int dim) {
        this.batch = batch;
        this.dim = dim;
    }

    static SegmentView of(DType dtype, int batch, int dim) {
        return dtype == DType.FLOAT64 ? new F64(batch, dim) : new F32(batch, dim);
    }

    /** Points the view at the engine's buffer at address (batch * dim values). */
    abstract void point(MemorySegment address);

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

    static final class F64 extends SegmentView {
        F64(int batch, int dim) {
            super(batch, dim);
        }

        @Override
        void point(MemorySegment address) {
            segment = address.reinterpret((long) batch * dim * 8);
        }

        @Override
        public DType dtype() {
            return DType.FLOAT64;
        }

        @Override
        public double get(int b, int d) {
            return segment.getAtIndex(JAVA_DOUBLE, index(b, d));
        }

        @Override
        public void set(int b, int d, double v) {
            segment.setAtIndex(JAVA_DOUBLE, index(b, d), v);
        }

        @Override
        public double get(long i) {
            return segment.getAtIndex(JAVA_DOUBLE, i);
        }

        @Override
        public void set(long i, double v) {
            segment.setAtIndex(JAVA_DOUBLE, i, v);
        }

        @Override
        public void copyTo(double[] dst) {
            MemorySegment.copy(segment, JAVA_DOUBLE, 0, dst, 0, batch * dim);
        }

        @Override
        public void copyFrom(double[] src) {
            MemorySegment.copy(src, 0, segment, JAVA_DOUBLE, 0, batch * dim);
        }
    }

    static final class F32 extends SegmentView {
        F32(int batch, int dim) {
            super(batch, dim);
        }

        @Override
        void point(MemorySegment address) {
            segment = address.reinterpret((long) batch * dim * 4);
        }

        @Override
        public DType dtype() {
            return DType.FLOAT32;
        }

        @Override
        public double get(int b, int d) {
            return segment.getAtIndex(JAVA_FLOAT, index(b, d));
        }

        @Override
        public void set(int b, int d, double v) {
            segment.setAtIndex(JAVA_FLOAT, index(b, d), (float) v);
        }

        @Override
        public double get(long i) {
            return segment.getAtIndex(JAVA_FLOAT, i);
        }

        @Override
        public void set(long i, double v) {
            segment.setAtIndex(JAVA_FLOAT, i, (float) v);
        }

        @Override
        public void copyTo(float[] dst) {
            MemorySegment.copy(segment, JAVA_FLOAT, 0, dst, 0, batch * dim);
        }

        @Override
        public void copyFrom(float[] src) {
            MemorySegment.copy(src, 0, segment, JAVA_FLOAT, 0, batch * dim);
        }
    }
}
