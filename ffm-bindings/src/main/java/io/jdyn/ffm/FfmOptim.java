package io.jdyn.ffm;

import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import io.jdyn.DType;
import io.jdyn.spi.NativeBuffer;
import io.jdyn.spi.NonFiniteInputException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/** Optimizer steps and gradient clipping: jdyn_sgd_step, jdyn_adam_step, jdyn_clip_grad_norm / _value. */
final class FfmOptim {
    private static final int NON_FINITE = 4; // JDYN_ERR_NON_FINITE

    private FfmOptim() {}

    static void sgdStep(JdynLibrary lib, NativeBuffer params, NativeBuffer grad, NativeBuffer momentumBuf, long offset,
            long count, long step, double lr, double momentum, double dampening, double weightDecay,
            boolean nesterov) {
        FfmBuffer p = FfmBuffer.of(params);
        FfmBuffer g = FfmBuffer.of(grad);
        FfmBuffer b = momentumBuf == null ? null : FfmBuffer.of(momentumBuf);
        checkBlock(p, p.dtype(), offset, count, "params");
        checkBlock(g, p.dtype(), offset, count, "grad");
        if (b != null) checkBlock(b, p.dtype(), offset, count, "momentum buffer");
        try (Arena a = Arena.ofConfined()) {
            MemorySegment bad = a.allocate(JAVA_LONG);
            MemorySegment buf = b == null ? MemorySegment.NULL : b.segment();
            int rc = (int) lib.sgdStep.invokeExact((long) p.dtype().code(), p.segment(), g.segment(), buf, offset,
                    count, step, lr, momentum, dampening, weightDecay, nesterov ? 1L : 0L, bad);
            check(lib, rc, bad);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("native SGD step failed: " + t, t);
        }
    }

    static void adamStep(JdynLibrary lib, NativeBuffer params, NativeBuffer grad, NativeBuffer expAvg,
            NativeBuffer expAvgSq, long offset, long count, long step, double lr, double beta1, double beta2,
            double eps, double weightDecay, boolean decoupled) {
        FfmBuffer p = FfmBuffer.of(params);
        FfmBuffer g = FfmBuffer.of(grad);
        FfmBuffer m = FfmBuffer.of(expAvg);
        FfmBuffer v = FfmBuffer.of(expAvgSq);
        checkBlock(p, p.dtype(), offset, count, "params");
        checkBlock(g, p.dtype(), offset, count, "grad");
        checkBlock(m, p.dtype(), offset, count, "exp_avg");
        checkBlock(v, p.dtype(), offset, count, "exp_avg_sq");
        try (Arena a = Arena.ofConfined()) {
            MemorySegment bad = a.allocate(JAVA_LONG);
            int rc = (int) lib.adamStep.invokeExact((long) p.dtype().code(), p.segment(), g.segment(), m.segment(),
                    v.segment(), offset, count, step, lr, beta1, beta2, eps, weightDecay, decoupled ? 1L : 0L, bad);
            check(lib, rc, bad);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("native Adam step failed: " + t, t);
        }
    }

    static double clipGradNorm(JdynLibrary lib, NativeBuffer grad, long[] ranges, double maxNorm, double normType) {
        FfmBuffer g = FfmBuffer.of(grad);
        checkRanges(g, ranges);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment r = rangesSegment(a, ranges);
            MemorySegment total = a.allocate(JAVA_DOUBLE);
            MemorySegment bad = a.allocate(JAVA_LONG);
            int rc = (int) lib.clipGradNorm.invokeExact((long) g.dtype().code(), g.segment(), r,
                    (long) (ranges.length / 2), maxNorm, normType, total, bad);
            check(lib, rc, bad);
            return total.get(JAVA_DOUBLE, 0);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("native gradient clipping failed: " + t, t);
        }
    }

    static void clipGradValue(JdynLibrary lib, NativeBuffer grad, long[] ranges, double clipValue) {
        FfmBuffer g = FfmBuffer.of(grad);
        checkRanges(g, ranges);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment r = rangesSegment(a, ranges);
            MemorySegment bad = a.allocate(JAVA_LONG);
            int rc = (int) lib.clipGradValue.invokeExact((long) g.dtype().code(), g.segment(), r,
                    (long) (ranges.length / 2), clipValue, bad);
            check(lib, rc, bad);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("native gradient clipping failed: " + t, t);
        }
    }

    private static MemorySegment rangesSegment(Arena a, long[] ranges) {
        if (ranges.length == 0) return MemorySegment.NULL;
        return a.allocateFrom(JAVA_LONG, ranges);
    }

    private static void check(JdynLibrary lib, int rc, MemorySegment bad) {
        if (rc == 0) return;
        String message = lib.lastErrorMessage();
        if (rc == NON_FINITE) throw new NonFiniteInputException(message, bad.get(JAVA_LONG, 0));
        if (rc == 1) throw new IllegalArgumentException(message);
        throw new IllegalStateException("native optimizer call failed (status " + rc + "): " + message);
    }

    private static void checkBlock(FfmBuffer b, DType dtype, long offset, long count, String what) {
        if (b.dtype() != dtype) {
            throw new IllegalArgumentException(what + " is " + b.dtype() + " but the parameters are " + dtype);
        }
        if (offset < 0 || count < 0 || offset > b.elements() - count) {
            throw new IllegalArgumentException("block [" + offset + ", " + offset + " + " + count + ") is outside "
                    + what + ", which holds " + b.elements() + " values");
        }
    }

    private static void checkRanges(FfmBuffer g, long[] ranges) {
        if (ranges.length % 2 != 0) {
            throw new IllegalArgumentException("ranges must hold (offset, count) pairs, got " + ranges.length
                    + " values");
        }
        for (int i = 0; i < ranges.length; i += 2) checkBlock(g, g.dtype(), ranges[i], ranges[i + 1], "grad");
    }
}
