package io.jdyn.ffm;

import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

import io.jdyn.DType;
import io.jdyn.TensorClosedException;
import io.jdyn.spi.NativeBuffer;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.ref.Cleaner;
import java.util.Objects;

/**
 * Native memory of one tensor, owned by a shared arena (closable from any thread). close() frees it at
 * once; a buffer that becomes unreachable unclosed is freed by a Cleaner, the backstop for callers that
 * cannot close deterministically (Python and JavaScript scripts through the polyglot module).
 */
final class FfmBuffer implements NativeBuffer {
    private static final Cleaner CLEANER = Cleaner.create();

    private final DType dtype;
    private final long elements;
    private final Arena arena;
    private final MemorySegment segment;
    private final Cleaner.Cleanable cleanable;

    FfmBuffer(DType dtype, long elements) {
        if (elements < 1) throw new IllegalArgumentException("a buffer needs at least one element, got " + elements);
        this.dtype = dtype;
        this.elements = elements;
        this.arena = Arena.ofShared();
        try {
            this.segment = arena.allocate(Math.multiplyExact(elements, (long) dtype.byteSize()), 64);
        } catch (OutOfMemoryError | IllegalArgumentException e) {
            arena.close();
            throw new IllegalArgumentException("cannot allocate " + elements + " " + dtype + " values: " + e.getMessage(), e);
        }
        this.cleanable = CLEANER.register(this, new Free(arena));
    }

    /** The segment, for native calls; throws if closed. */
    MemorySegment segment() {
        check();
        return segment;
    }

    static FfmBuffer of(NativeBuffer b) {
        Objects.requireNonNull(b, "buffer");
        if (b instanceof FfmBuffer f) return f;
        throw new IllegalArgumentException("buffer " + b.getClass().getName() + " does not belong to the FFM backend");
    }

    /** b as an FfmBuffer of a solve in dtype that needs at least {@code needed} values (what names it in messages). */
    static FfmBuffer checked(NativeBuffer b, DType dtype, long needed, String what) {
        FfmBuffer f = of(b);
        if (f.dtype != dtype) throw new IllegalArgumentException(what + " is " + f.dtype + " but the solve is " + dtype);
        if (f.elements < needed) {
            throw new IllegalArgumentException(what + " holds " + f.elements + " values, " + needed + " needed");
        }
        return f;
    }

    @Override
    public DType dtype() {
        return dtype;
    }

    @Override
    public long elements() {
        return elements;
    }

    @Override
    public boolean isClosed() {
        return !arena.scope().isAlive();
    }

    @Override
    public double get(long i) {
        checkIndex(i, 1);
        return dtype == DType.FLOAT64 ? segment.getAtIndex(JAVA_DOUBLE, i) : segment.getAtIndex(JAVA_FLOAT, i);
    }

    @Override
    public void set(long i, double v) {
        checkIndex(i, 1);
        if (dtype == DType.FLOAT64) {
            segment.setAtIndex(JAVA_DOUBLE, i, v);
        } else {
            segment.setAtIndex(JAVA_FLOAT, i, (float) v);
        }
    }

    @Override
    public void copyFrom(double[] src, int srcOffset, long dstIndex, int length) {
        checkIndex(dstIndex, length);
        Objects.checkFromIndexSize(srcOffset, length, src.length);
        if (dtype == DType.FLOAT64) {
            MemorySegment.copy(src, srcOffset, segment, JAVA_DOUBLE, dstIndex * 8, length);
        } else {
            for (int i = 0; i < length; i++) segment.setAtIndex(JAVA_FLOAT, dstIndex + i, (float) src[srcOffset + i]);
        }
    }

    @Override
    public void copyFrom(float[] src, int srcOffset, long dstIndex, int length) {
        checkIndex(dstIndex, length);
        Objects.checkFromIndexSize(srcOffset, length, src.length);
        if (dtype == DType.FLOAT32) {
            MemorySegment.copy(src, srcOffset, segment, JAVA_FLOAT, dstIndex * 4, length);
        } else {
            for (int i = 0; i < length; i++) segment.setAtIndex(JAVA_DOUBLE, dstIndex + i, src[srcOffset + i]);
        }
    }

    @Override
    public void copyTo(long srcIndex, double[] dst, int dstOffset, int length) {
        checkIndex(srcIndex, length);
        Objects.checkFromIndexSize(dstOffset, length, dst.length);
        if (dtype == DType.FLOAT64) {
            MemorySegment.copy(segment, JAVA_DOUBLE, srcIndex * 8, dst, dstOffset, length);
        } else {
            for (int i = 0; i < length; i++) dst[dstOffset + i] = segment.getAtIndex(JAVA_FLOAT, srcIndex + i);
        }
    }

    @Override
    public void copyTo(long srcIndex, float[] dst, int dstOffset, int length) {
        checkIndex(srcIndex, length);
        Objects.checkFromIndexSize(dstOffset, length, dst.length);
        if (dtype == DType.FLOAT32) {
            MemorySegment.copy(segment, JAVA_FLOAT, srcIndex * 4, dst, dstOffset, length);
        } else {
            for (int i = 0; i < length; i++) dst[dstOffset + i] = (float) segment.getAtIndex(JAVA_DOUBLE, srcIndex + i);
        }
    }

    @Override
    public void close() {
        // Closing twice is harmless; closing while a native call uses the memory throws (the arena
        // refuses), which is the right answer to a use-after-free attempt.
        if (arena.scope().isAlive()) arena.close();
        cleanable.clean(); // deregisters; Free finds the arena closed
    }

    /** The Cleaner's action: holds the arena, never the buffer (which would stay reachable). */
    private record Free(Arena arena) implements Runnable {
        @Override
        public void run() {
            try {
                if (arena.scope().isAlive()) arena.close();
            } catch (IllegalStateException inUse) {
                // a native call still holds it (cannot happen for an unreachable buffer); leave it
            }
        }
    }

    private void check() {
        if (!arena.scope().isAlive()) throw new TensorClosedException("native buffer is closed");
    }

    private void checkIndex(long index, long length) {
        check();
        Objects.checkFromIndexSize(index, length, elements);
    }
}
