package io.jdyn.ffm;

import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import io.jdyn.TensorClosedException;
import io.jdyn.spi.DenseHandle;
import io.jdyn.spi.NativeBuffer;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.ref.Cleaner;

/** The native interpolant of one solve (jdyn_dense*), freed on close or, failing that, by a cleaner. */
final class FfmDense implements DenseHandle {
    private static final Cleaner CLEANER = Cleaner.create();

    private final JdynLibrary lib;
    private final MemorySegment handle;
    private final Cleaner.Cleanable cleanable;
    private final double tFirst;
    private final double tLast;
    private final long steps;
    private volatile boolean closed;

    FfmDense(JdynLibrary lib, MemorySegment handle) {
        this.lib = lib;
        this.handle = handle;
        this.cleanable = CLEANER.register(this, new Free(lib, handle));
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(24, 8);
            int rc = (int) lib.denseSpan.invokeExact(handle, out, out.asSlice(8), out.asSlice(16));
            if (rc != 0) throw new IllegalStateException(lib.lastErrorMessage());
            tFirst = out.get(JAVA_DOUBLE, 0);
            tLast = out.get(JAVA_DOUBLE, 8);
            steps = out.get(JAVA_LONG, 16);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    private record Free(JdynLibrary lib, MemorySegment handle) implements Runnable {
        @Override
        public void run() {
            try {
                lib.denseFree.invokeExact(handle);
            } catch (Throwable ignored) {
                // Freeing cannot fail in the native core; nothing sensible to do from a cleaner.
            }
        }
    }

    @Override
    public synchronized void eval(double[] ts, NativeBuffer out) {
        if (closed) throw new TensorClosedException("the interpolant is closed");
        FfmBuffer o = FfmBuffer.of(out);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment times = a.allocateFrom(JAVA_DOUBLE, ts);
            int rc = (int) lib.denseEval.invokeExact(handle, times, (long) ts.length, o.segment());
            if (rc != 0) throw new IllegalArgumentException(lib.lastErrorMessage());
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    @Override
    public double tFirst() {
        return tFirst;
    }

    @Override
    public double tLast() {
        return tLast;
    }

    @Override
    public long steps() {
        return steps;
    }

    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            cleanable.clean();
        }
    }
}
