package io.jdyn.ffm;

import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

import io.jdyn.DType;
import io.jdyn.ode.ParamView;
import java.lang.foreign.MemorySegment;

/**
 * A {@link ParamView} over the engine's parameter-gradient accumulator for the duration of one VJP
 * upcall: re-pointed at each call; disabled (additions dropped) when the engine passes NULL.
 */
final class ParamSegmentView implements ParamView {
    private final DType dtype;
    private final int size;
    private MemorySegment segment = MemorySegment.NULL;
    private boolean enabled;

    ParamSegmentView(DType dtype, long size) {
        if (size > Integer.MAX_VALUE) throw new IllegalArgumentException("more than 2^31 - 1 parameters");
        this.dtype = dtype;
        this.size = (int) size;
    }

    void point(MemorySegment address) {
        enabled = !address.equals(MemorySegment.NULL) && size > 0;
        segment = enabled ? address.reinterpret((long) size * dtype.byteSize()) : MemorySegment.NULL;
    }

    @Override
    public int size() {
        return size;
    }

    @Override
    public DType dtype() {
        return dtype;
    }

    @Override
    public boolean enabled() {
        return enabled;
    }

    @Override
    public double get(int i) {
        check(i);
        if (!enabled) return 0;
        return dtype == DType.FLOAT64 ? segment.getAtIndex(JAVA_DOUBLE, i) : segment.getAtIndex(JAVA_FLOAT, i);
    }

    @Override
    public void add(int i, double value) {
        check(i);
        if (!enabled) return;
        if (dtype == DType.FLOAT64) {
            segment.setAtIndex(JAVA_DOUBLE, i, segment.getAtIndex(JAVA_DOUBLE, i) + value);
        } else {
            segment.setAtIndex(JAVA_FLOAT, i, (float) (segment.getAtIndex(JAVA_FLOAT, i) + value));
        }
    }

    private void check(int i) {
        if (i < 0 || i >= size) throw new IndexOutOfBoundsException("parameter " + i + " is outside [0, " + size + ")");
    }
}
