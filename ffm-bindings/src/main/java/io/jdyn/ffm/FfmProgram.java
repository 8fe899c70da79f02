package io.jdyn.ffm;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import io.jdyn.DType;
import io.jdyn.TensorClosedException;
import io.jdyn.spi.LayerSpec;
import io.jdyn.spi.NativeBuffer;
import io.jdyn.spi.ProgramHandle;
import io.jdyn.spi.ProgramSignature;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.ref.Cleaner;
import java.util.ArrayList;
import java.util.List;

/**
 * A native program (jdyn_program*): a layer program (jdyn_program_create) or a differentiable program
 * (jdyn_graph_finish, see {@link FfmGraph}); the solvers take either. Every call and every tape holds
 * a reference; close() marks it closed and the program is freed when the last reference goes (or,
 * never closed, by a cleaner once neither it nor a tape is reachable: a tape's cleanup holds the
 * program).
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
    private volatile ProgramSignature signature;

    private FfmProgram(JdynLibrary lib, MemorySegment handle, DType dtype, int layers, boolean graph) {
        this.lib = lib;
        this.handle = handle;
        this.cleanable = CLEANER.register(this, new Free(lib, handle));
        this.dtype = dtype;
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(JAVA_LONG, 3);
            if (graph) {
                // A graph program: everything comes from its signature (jdyn_program_info describes layer
                // programs). A vector field, or a [-1, D] -> [-1, D'] map, has dims; anything else 0.
                ProgramSignature sig = readSignature();
                signature = sig;
                long in = 0, outW = 0, n = 0;
                if (sig.argShapes().size() == 1 && sig.outputShapes().size() == 1) {
                    long[] x = sig.argShapes().get(0), y = sig.outputShapes().get(0);
                    if (x.length == 2 && x[0] == -1 && y.length == 2 && y[0] == -1) {
                        in = x[1];
                        outW = y[1];
                    }
                }
                for (ProgramSignature.Param p : sig.params()) n = Math.max(n, p.offset() + p.count());
                dimIn = in;
                dimOut = outW;
                numParams = n;
                offsets = new long[0];
                counts = new long[0];
            } else {
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
        return new FfmProgram(lib, handle, dtype, layers.size(), false);
    }

    /** Takes ownership of a program made by jdyn_graph_finish (freed here if reading its signature fails). */
    static FfmProgram ofGraph(JdynLibrary lib, MemorySegment handle, DType dtype) {
        return new FfmProgram(lib, handle, dtype, 0, true);
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
        if (closed) throw new TensorClosedException("the program is closed");
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

    @Override
    public ProgramSignature signature() {
        ProgramSignature s = signature;
        if (s == null) {
            retain();
            try {
                s = readSignature();
            } finally {
                release();
            }
            signature = s;
        }
        return s;
    }

    @Override
    public long[] linearLayers() {
        retain();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment count = a.allocate(JAVA_LONG);
            check((int) lib.programLinearLayers.invokeExact(handle, MemorySegment.NULL, 0L, count));
            long n = count.get(JAVA_LONG, 0);
            if (n == 0) return new long[0];
            MemorySegment out = a.allocate(JAVA_LONG, 6 * n);
            check((int) lib.programLinearLayers.invokeExact(handle, out, n, count));
            return out.toArray(JAVA_LONG);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        } finally {
            release();
        }
    }

    private ProgramSignature readSignature() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment c = a.allocate(JAVA_LONG, 4);
            check((int) lib.programSignature.invokeExact(handle, c, c.asSlice(8), c.asSlice(16), c.asSlice(24)));
            long nArgs = c.getAtIndex(JAVA_LONG, 0);
            long nOut = c.getAtIndex(JAVA_LONG, 1);
            long nParams = c.getAtIndex(JAVA_LONG, 2);
            long nodes = c.getAtIndex(JAVA_LONG, 3);
            MemorySegment rank = a.allocate(JAVA_LONG);
            MemorySegment dims = a.allocate(JAVA_LONG, 4);
            List<long[]> args = new ArrayList<>();
            for (long i = 0; i < nArgs; i++) {
                check((int) lib.programArgShape.invokeExact(handle, i, rank, dims));
                args.add(shape(rank, dims));
            }
            List<long[]> outs = new ArrayList<>();
            for (long i = 0; i < nOut; i++) {
                check((int) lib.programOutputShape.invokeExact(handle, i, rank, dims));
                outs.add(shape(rank, dims));
            }
            MemorySegment name = a.allocate(ADDRESS);
            MemorySegment oc = a.allocate(JAVA_LONG, 2);
            List<ProgramSignature.Param> params = new ArrayList<>();
            for (long i = 0; i < nParams; i++) {
                check((int) lib.programParam.invokeExact(handle, i, name, rank, dims, oc, oc.asSlice(8)));
                params.add(new ProgramSignature.Param(JdynLibrary.cString(name.get(ADDRESS, 0)), shape(rank, dims),
                        oc.getAtIndex(JAVA_LONG, 0), oc.getAtIndex(JAVA_LONG, 1)));
            }
            return new ProgramSignature(args, outs, params, nodes);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** A rank and up to four dims as written by the ABI. */
    static long[] shape(MemorySegment rank, MemorySegment dims) {
        long r = rank.get(JAVA_LONG, 0);
        if (r < 0 || r > 4) throw new IllegalStateException("the native core reported rank " + r);
        long[] s = new long[(int) r];
        for (int i = 0; i < s.length; i++) s[i] = dims.getAtIndex(JAVA_LONG, i);
        return s;
    }

    @Override
    public void run(NativeBuffer params, double t, NativeBuffer[] args, long batch, NativeBuffer[] outs) {
        ProgramSignature sig = signature();
        if (batch < 1) throw new IllegalArgumentException("batch must be >= 1, got " + batch);
        if (args.length != sig.argShapes().size()) {
            throw new IllegalArgumentException("the program takes " + sig.argShapes().size() + " arguments, "
                    + args.length + " given");
        }
        if (outs.length != sig.outputShapes().size()) {
            throw new IllegalArgumentException("the program has " + sig.outputShapes().size() + " outputs, "
                    + outs.length + " buffers given");
        }
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = params == null && numParams == 0 ? a.allocate(dtype.byteSize())
                    : buffer(params, Math.max(1, numParams), "params").segment();
            MemorySegment argv = a.allocate(ADDRESS, Math.max(1, args.length));
            for (int i = 0; i < args.length; i++) {
                argv.setAtIndex(ADDRESS, i, buffer(args[i], elements(sig.argShapes().get(i), batch), "argument " + i)
                        .segment());
            }
            MemorySegment outv = a.allocate(ADDRESS, Math.max(1, outs.length));
            for (int i = 0; i < outs.length; i++) {
                outv.setAtIndex(ADDRESS, i, buffer(outs[i], elements(sig.outputShapes().get(i), batch), "output " + i)
                        .segment());
            }
            call(() -> (int) lib.programRun.invokeExact(handle, p, t, argv, batch, outv));
        }
    }

    private static long elements(long[] shape, long batch) {
        long n = 1;
        for (long d : shape) n = Math.multiplyExact(n, d == -1 ? batch : d);
        return n;
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
        if (rc == 1) return new IllegalArgumentException(msg);
        // jdyn_program_run: an output became NaN or infinite (the message names the op).
        if (rc == 4) return new ArithmeticException(msg);
        return new IllegalStateException("native status " + rc + ": " + msg);
    }
}
