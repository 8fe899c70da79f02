package io.jdyn.ffm;

import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import io.jdyn.DType;
import io.jdyn.TensorClosedException;
import io.jdyn.spi.BackwardOutcome;
import io.jdyn.spi.NativeBuffer;
import io.jdyn.spi.TapeHandle;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.ref.Cleaner;

/**
 * What a forward solve kept for its backward pass (jdyn_tape*), freed on close or, failing that, by
 * a cleaner. Holds a reference to its program (released when the tape is freed) and to the upcall
 * targets of its Java callbacks, which the backward pass calls again.
 */
final class FfmTape implements TapeHandle {
    private static final Cleaner CLEANER = Cleaner.create();

    private final JdynLibrary lib;
    private final MemorySegment handle;
    private final Cleaner.Cleanable cleanable;
    private final Upcalls.Active active;
    private final FfmBuffer params;
    private final DType dtype;
    private final long perState;
    private final long nTimes;
    private final long numParams;
    private final long steps;
    private final long bytes;
    private boolean closed;

    /** Takes ownership of handle; program (may be null) must already be retained for this tape. */
    FfmTape(JdynLibrary lib, MemorySegment handle, FfmProgram program, FfmBuffer params, Upcalls.Active active,
            DType dtype, long perState, long nTimes, long numParams) {
        this.lib = lib;
        this.handle = handle;
        this.cleanable = CLEANER.register(this, new Free(lib, handle, program));
        this.active = active;
        this.params = params;
        this.dtype = dtype;
        this.perState = perState;
        this.nTimes = nTimes;
        this.numParams = numParams;
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(JAVA_LONG, 2);
            int rc = (int) lib.tapeInfo.invokeExact(handle, out, out.asSlice(8));
            if (rc != 0) throw new IllegalStateException(lib.lastErrorMessage());
            steps = out.getAtIndex(JAVA_LONG, 0);
            bytes = out.getAtIndex(JAVA_LONG, 1);
        } catch (RuntimeException | Error e) {
            cleanable.clean();
            throw e;
        } catch (Throwable t) {
            cleanable.clean();
            throw new IllegalStateException(t);
        }
    }

    private record Free(JdynLibrary lib, MemorySegment handle, FfmProgram program) implements Runnable {
        @Override
        public void run() {
            try {
                lib.tapeFree.invokeExact(handle);
            } catch (Throwable ignored) {
                // Freeing cannot fail in the native core; nothing sensible to do from a cleaner.
            }
            if (program != null) program.release();
        }
    }

    @Override
    public BackwardOutcome backward(NativeBuffer ysCotangent, NativeBuffer gY0, NativeBuffer gParams,
            double[] gTimes) {
        return run(ysCotangent, gY0, gParams, gTimes, 0, null, null);
    }

    @Override
    public BackwardOutcome backwardCurvature(NativeBuffer ysCotangent, NativeBuffer gY0, NativeBuffer gParams,
            double[] gTimes, double sampleStep, double[] factors, long[] samples) {
        if (factors == null || samples == null || samples.length < 1) {
            throw new IllegalArgumentException("factors and samples (one entry) are needed");
        }
        return run(ysCotangent, gY0, gParams, gTimes, sampleStep, factors, samples);
    }

    private synchronized BackwardOutcome run(NativeBuffer ysCotangent, NativeBuffer gY0, NativeBuffer gParams,
            double[] gTimes, double sampleStep, double[] factors, long[] samples) {
        if (closed) throw new TensorClosedException("the tape is closed");
        if (params != null && params.isClosed()) {
            throw new TensorClosedException("the parameters this tape was recorded with are closed");
        }
        FfmBuffer ct = ysCotangent == null ? null : checked(ysCotangent, perState * nTimes, "ys cotangent");
        FfmBuffer gy = checked(gY0, perState, "g_y0");
        FfmBuffer gp = gParams == null ? null : checked(gParams, numParams, "g_params");
        if (gTimes.length != nTimes) {
            throw new IllegalArgumentException("g_times has " + gTimes.length + " entries, " + nTimes + " needed");
        }
        try (Arena a = Arena.ofConfined()) {
            MemorySegment times = a.allocate(JAVA_DOUBLE, nTimes);
            MemorySegment stats = a.allocate(GradStructs.BACKWARD_STATS);
            active.error = null;
            // Conditional arguments would be typed Object for invokeExact: resolve them first.
            MemorySegment cts = ct == null ? MemorySegment.NULL : ct.segment();
            MemorySegment gps = gp == null ? MemorySegment.NULL : gp.segment();
            int status;
            Upcalls.Active previous = Upcalls.enter(active);
            MemorySegment fs = factors == null ? null : a.allocate(JAVA_DOUBLE, Math.max(1, factors.length));
            MemorySegment ns = factors == null ? null : a.allocate(JAVA_LONG);
            try {
                if (factors == null) {
                    status = (int) lib.tapeBackward.invokeExact(handle, cts, gy.segment(), gps, times, stats);
                } else {
                    status = (int) lib.tapeBackwardCurvature.invokeExact(handle, cts, gy.segment(), gps, times, stats,
                            sampleStep, fs, ns);
                }
            } finally {
                Upcalls.exit(previous);
            }
            if (factors != null && status == 0) {
                MemorySegment.copy(fs, JAVA_DOUBLE, 0, factors, 0, factors.length);
                samples[0] = ns.get(JAVA_LONG, 0);
            }
            String message = status == 0 ? "" : lib.lastErrorMessage();
            MemorySegment.copy(times, JAVA_DOUBLE, 0, gTimes, 0, gTimes.length);
            return new BackwardOutcome(status, message, GradStructs.backwardStat(stats, "nfe"),
                    GradStructs.backwardStat(stats, "accepted"), GradStructs.backwardStat(stats, "rejected"),
                    active.error);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("native backward pass failed: " + t, t);
        }
    }

    @Override
    public long steps() {
        return steps;
    }

    @Override
    public long bytes() {
        return bytes;
    }

    @Override
    public synchronized double[] stepTimes() {
        if (closed) throw new TensorClosedException("the tape is closed");
        if (steps == 0) return new double[0];
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(JAVA_DOUBLE, steps + 1);
            int rc = (int) lib.tapeStepTimes.invokeExact(handle, out);
            if (rc != 0) throw new IllegalStateException(lib.lastErrorMessage());
            return out.toArray(JAVA_DOUBLE);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            cleanable.clean();
        }
    }

    private FfmBuffer checked(NativeBuffer b, long needed, String what) {
        FfmBuffer f = FfmBuffer.of(b);
        if (f.dtype() != dtype) throw new IllegalArgumentException(what + " is " + f.dtype() + " but the solve is " + dtype);
        if (f.elements() < needed) {
            throw new IllegalArgumentException(what + " holds " + f.elements() + " values, " + needed + " needed");
        }
        return f;
    }
}
