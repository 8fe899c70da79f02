package io.jdyn.ffm;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import io.jdyn.DType;
import io.jdyn.TensorClosedException;
import io.jdyn.spi.LayerSpec;
import io.jdyn.spi.NativeBuffer;
import io.jdyn.spi.ProgramHandle;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.ref.Cleaner;
import java.util.List;

/**
 * A native layer program (jdyn_program*). Every call and every tape holds a reference; close() marks
 * it closed and the program is freed when the last reference goes (or, never closed, by a cleaner
 * once neither it nor a tape is reachable: a tape's cleanup holds the program).
 */
final class FfmProgram implements ProgramHandle {
    private static final Cleaner CLEANER = Cleaner.create();

    private final JdynLibrary lib;
    private final MemorySegment handle;
    private final Cleaner.Cleanable cleanable;
    private final DType dtype;
    private final long dimIn;
    private final long dimOut;
    private final long numParams;
    private final long[] offsets;
    private final long[] counts;
    private int refs;
    private boolean closed;

    private FfmProgram(JdynLibrary lib, MemorySegment handle, DType dtype, int layers) {
        this.lib = lib;
        this.handle = handle;
        this.cleanable = CLEANER.register(this, new Free(lib, handle));
        this.dtype = dtype;
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(JAVA_LONG, 3);
            check((int) lib.programInfo.invokeExact(handle, out, out.asSlice(8), out.asSlice(16)));
            dimIn = out.getAtIndex(JAVA_LONG, 0);
            dimOut = out.getAtIndex(JAVA_LONG, 1);
            numParams = out.getAtIndex(JAVA_LONG, 2);
            offsets = new long[layers];
            counts = new long[layers];
            for (int i = 0; i < layers; i++) {
                check((int) lib.programLayerParams.invokeExact(handle, (long) i, out, out.asSlice(8)));
                offsets[i] = out.getAtIndex(JAVA_LONG, 0);
                counts[i] = out.getAtIndex(JAVA_LONG, 1);
            }
        } catch (RuntimeException | Error e) {
            cleanable.clean();
            throw e;
        } catch (Throwable t) {
            cleanable.clean();
            throw new IllegalStateException(t);
        }
    }

    static FfmProgram create(JdynLibrary lib, List<LayerSpec> layers, DType dtype, long dimIn) {
        if (layers.isEmpty()) throw new IllegalArgumentException("a program needs at least one layer");
        MemorySegment handle;
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(ADDRESS);
            int rc = (int) lib.programCreate.invokeExact(GradStructs.layerSpecs(a, layers), (long) layers.size(),
                    (long) dtype.code(), dimIn, out);
            if (rc != 0) throw failure(lib, rc);
            handle = out.get(ADDRESS, 0);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
        return new FfmProgram(lib, handle, dtype, layers.size());
    }

    private record Free(JdynLibrary lib, MemorySegment handle) implements Runnable {
        @Override
        public void run() {
            try {
                lib.programFree.invokeExact(handle);
            } catch (Throwable ignored) {
                // Freeing cannot fail in the native core; nothing sensible to do from a cleaner.
            }
        }
    }

    /** The native handle, for a call made between retain() and release(). */
    MemorySegment handle() {
        return handle;
    }

    /** Takes a reference (for a call or a tape); throws when the program is closed. */
    synchronized void retain() {
        if (closed) throw new TensorClosedException("the layer program is closed");
        refs++;
    }

    /** One more reference, taken by a holder of one (so even a program closed meanwhile is still alive). */
    synchronized void retainAgain() {
        if (refs < 1) throw new IllegalStateException("retainAgain without a reference held");
        refs++;
    }

    synchronized void release() {
        refs--;
        if (closed && refs == 0) cleanable.clean();
    }

    @Override
    public synchronized boolean isClosed() {
        return closed;
    }

    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            if (refs == 0) cleanable.clean();
        }
    }

    @Override
    public DType dtype() {
        return dtype;
    }

    @Override
    public long dimIn() {
        return dimIn;
    }

    @Override
    public long dimOut() {
        return dimOut;
    }

    @Override
    public long numParams() {
        return numParams;
    }

    @Override
    public long layerOffset(int layer) {
        return offsets[layer];
    }

    @Override
    public long layerCount(int layer) {
        return counts[layer];
    }

    @Override
    public void initParams(long seed, NativeBuffer params) {
        FfmBuffer p = buffer(params, Math.max(1, numParams), "params");
        call(() -> (int) lib.programInitParams.invokeExact(handle, seed, p.segment()));
    }

    @Override
    public void forward(NativeBuffer params, double t, NativeBuffer z, long batch, NativeBuffer out) {
        FfmBuffer p = buffer(params, Math.max(1, numParams), "params");
        FfmBuffer zb = buffer(z, Math.multiplyExact(batch, dimIn), "z");
        FfmBuffer o = buffer(out, Math.multiplyExact(batch, dimOut), "out");
        call(() -> (int) lib.programForward.invokeExact(handle, p.segment(), t, zb.segment(), batch, o.segment()));
    }

    @Override
    public double vjp(NativeBuffer params, double t, NativeBuffer z, NativeBuffer v, long batch, NativeBuffer gz,
            NativeBuffer gParams) {
        FfmBuffer p = buffer(params, Math.max(1, numParams), "params");
        FfmBuffer zb = buffer(z, Math.multiplyExact(batch, dimIn), "z");
        FfmBuffer vb = buffer(v, Math.multiplyExact(batch, dimOut), "v");
        FfmBuffer g = buffer(gz, Math.multiplyExact(batch, dimIn), "gz");
        FfmBuffer gp = gParams == null ? null : buffer(gParams, numParams, "gParams");
        // A conditional argument would be typed Object for invokeExact: resolve it first.
        MemorySegment gps = gp == null ? MemorySegment.NULL : gp.segment();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment gt = a.allocate(JAVA_DOUBLE);
            call(() -> (int) lib.programVjp.invokeExact(handle, p.segment(), t, zb.segment(), vb.segment(), batch,
                    g.segment(), gps, gt));
            return gt.get(JAVA_DOUBLE, 0);
        }
    }

    @Override
    public void jvp(NativeBuffer params, double t, NativeBuffer z, NativeBuffer u, long batch, NativeBuffer out) {
        FfmBuffer p = buffer(params, Math.max(1, numParams), "params");
        FfmBuffer zb = buffer(z, Math.multiplyExact(batch, dimIn), "z");
        FfmBuffer ub = buffer(u, Math.multiplyExact(batch, dimIn), "u");
        FfmBuffer o = buffer(out, Math.multiplyExact(batch, dimOut), "out");
        call(() -> (int) lib.programJvp.invokeExact(handle, p.segment(), t, zb.segment(), ub.segment(), batch,
                o.segment()));
    }

    /** The buffer, checked to be this program's dtype and to hold at least `needed` values. */
    FfmBuffer buffer(NativeBuffer b, long needed, String what) {
        FfmBuffer f = FfmBuffer.of(b);
        if (f.dtype() != dtype) throw new IllegalArgumentException(what + " is " + f.dtype() + " but the program is " + dtype);
        if (f.elements() < needed) {
            throw new IllegalArgumentException(what + " holds " + f.elements() + " values, " + needed + " needed");
        }
        return f;
    }

    /** A downcall returning a jdyn status. */
    @FunctionalInterface
    private interface Downcall {
        int run() throws Throwable;
    }

    /** Runs a downcall with the program held alive, turning a non-zero status into an exception. */
    private void call(Downcall downcall) {
        retain();
        try {
            check(downcall.run());
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        } finally {
            release();
        }
    }

    private void check(int rc) {
        if (rc != 0) throw failure(lib, rc);
    }

    private static RuntimeException failure(JdynLibrary lib, int rc) {
        String msg = lib.lastErrorMessage();
        return rc == 1 ? new IllegalArgumentException(msg) : new IllegalStateException("native status " + rc + ": " + msg);
    }
}
