package io.jdyn.ffm;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import io.jdyn.DType;
import io.jdyn.TensorClosedException;
import io.jdyn.spi.GraphHandle;
import io.jdyn.spi.ProgramHandle;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.ref.Cleaner;
import java.util.Objects;

/**
 * A differentiable-program builder (jdyn_graph*): one downcall per node, freed on close or, never
 * closed, by a cleaner. Programs finished from it ({@link FfmProgram}) own themselves and outlive it.
 * Calls are serialised (the native graph is not thread-safe).
 */
final class FfmGraph implements GraphHandle {
    private static final Cleaner CLEANER = Cleaner.create();

    private final JdynLibrary lib;
    private final MemorySegment handle;
    private final Cleaner.Cleanable cleanable;
    private boolean closed;

    private FfmGraph(JdynLibrary lib, MemorySegment handle) {
        this.lib = lib;
        this.handle = handle;
        this.cleanable = CLEANER.register(this, new Free(lib, handle));
    }

    static FfmGraph create(JdynLibrary lib) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(ADDRESS);
            int rc = (int) lib.graphNew.invokeExact(out);
            if (rc != 0) throw failure(lib, rc);
            return new FfmGraph(lib, out.get(ADDRESS, 0));
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
                lib.graphFree.invokeExact(handle);
            } catch (Throwable ignored) {
                // Freeing cannot fail in the native core; nothing sensible to do from a cleaner.
            }
        }
    }

    /** A downcall writing into the arena's segments and returning a jdyn status. */
    @FunctionalInterface
    private interface Call<T> {
        T run(Arena a) throws Throwable;
    }

    private synchronized <T> T call(Call<T> c) {
        if (closed) throw new TensorClosedException("the graph is closed");
        try (Arena a = Arena.ofConfined()) {
            return c.run(a);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    private void check(int rc) {
        if (rc != 0) throw failure(lib, rc);
    }

    /** Bad arguments, and non-finite constants (JDYN_ERR_NON_FINITE), are the caller's: IllegalArgumentException. */
    private static RuntimeException failure(JdynLibrary lib, int rc) {
        String msg = lib.lastErrorMessage();
        return rc == 1 || rc == 4 ? new IllegalArgumentException(msg)
                : new IllegalStateException("native status " + rc + ": " + msg);
    }

    /** The values as a native long array (at least one element, so never a zero-length allocation). */
    private static MemorySegment longs(Arena a, long[] v) {
        MemorySegment s = a.allocate(JAVA_LONG, Math.max(1, v.length));
        for (int i = 0; i < v.length; i++) s.setAtIndex(JAVA_LONG, i, v[i]);
        return s;
    }

    private static MemorySegment doubles(Arena a, double[] v) {
        MemorySegment s = a.allocate(JAVA_DOUBLE, Math.max(1, v.length));
        for (int i = 0; i < v.length; i++) s.setAtIndex(JAVA_DOUBLE, i, v[i]);
        return s;
    }

    private static long[] read(MemorySegment s, int n) {
        long[] out = new long[n];
        for (int i = 0; i < n; i++) out[i] = s.getAtIndex(JAVA_LONG, i);
        return out;
    }

    @Override
    public long time() {
        return call(a -> {
            MemorySegment id = a.allocate(JAVA_LONG);
            check((int) lib.graphTime.invokeExact(handle, id));
            return id.get(JAVA_LONG, 0);
        });
    }

    @Override
    public long arg(long[] shape) {
        Objects.requireNonNull(shape, "shape");
        return call(a -> {
            MemorySegment id = a.allocate(JAVA_LONG);
            check((int) lib.graphArg.invokeExact(handle, longs(a, shape), (long) shape.length, id));
            return id.get(JAVA_LONG, 0);
        });
    }

    @Override
    public long param(String name, long[] shape, int init, double initArg) {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(shape, "shape");
        return call(a -> {
            MemorySegment id = a.allocate(JAVA_LONG);
            check((int) lib.graphParam.invokeExact(handle, a.allocateFrom(name), longs(a, shape), (long) shape.length,
                    (long) init, initArg, id));
            return id.get(JAVA_LONG, 0);
        });
    }

    @Override
    public long constant(double[] data, long[] shape) {
        Objects.requireNonNull(data, "data");
        Objects.requireNonNull(shape, "shape");
        return call(a -> {
            MemorySegment id = a.allocate(JAVA_LONG);
            check((int) lib.graphConst.invokeExact(handle, doubles(a, data), longs(a, shape), (long) shape.length, id));
            return id.get(JAVA_LONG, 0);
        });
    }

    @Override
    public long op(int op, long[] inputs, long[] iattr, double[] fattr) {
        return call(a -> {
            MemorySegment id = a.allocate(JAVA_LONG);
            check((int) lib.graphOp.invokeExact(handle, (long) op, longs(a, inputs), (long) inputs.length,
                    longs(a, iattr), (long) iattr.length, doubles(a, fattr), (long) fattr.length, id));
            return id.get(JAVA_LONG, 0);
        });
    }

    @Override
    public long[] shape(long id) {
        return call(a -> {
            MemorySegment rank = a.allocate(JAVA_LONG);
            MemorySegment dims = a.allocate(JAVA_LONG, 4);
            check((int) lib.graphShape.invokeExact(handle, id, rank, dims));
            return FfmProgram.shape(rank, dims);
        });
    }

    @Override
    public long[] vjp(long[] outputs, long[] cotangents, long[] wrt) {
        if (outputs.length != cotangents.length) {
            throw new IllegalArgumentException(outputs.length + " outputs but " + cotangents.length + " cotangents");
        }
        return call(a -> {
            MemorySegment grads = a.allocate(JAVA_LONG, Math.max(1, wrt.length));
            check((int) lib.graphVjp.invokeExact(handle, longs(a, outputs), longs(a, cotangents), (long) outputs.length,
                    longs(a, wrt), (long) wrt.length, grads));
            return read(grads, wrt.length);
        });
    }

    @Override
    public long[] jvp(long[] wrt, long[] tangents, long[] outputs) {
        if (wrt.length != tangents.length) {
            throw new IllegalArgumentException(wrt.length + " inputs but " + tangents.length + " tangents");
        }
        return call(a -> {
            MemorySegment results = a.allocate(JAVA_LONG, Math.max(1, outputs.length));
            check((int) lib.graphJvp.invokeExact(handle, longs(a, wrt), longs(a, tangents), (long) wrt.length,
                    longs(a, outputs), (long) outputs.length, results));
            return read(results, outputs.length);
        });
    }

    @Override
    public long size() {
        return call(a -> {
            MemorySegment n = a.allocate(JAVA_LONG);
            check((int) lib.graphSize.invokeExact(handle, n));
            return n.get(JAVA_LONG, 0);
        });
    }

    @Override
    public ProgramHandle finish(long[] outputs, DType dtype) {
        Objects.requireNonNull(dtype, "dtype");
        MemorySegment program = call(a -> {
            MemorySegment out = a.allocate(ADDRESS);
            check((int) lib.graphFinish.invokeExact(handle, longs(a, outputs), (long) outputs.length,
                    (long) dtype.code(), out));
            return out.get(ADDRESS, 0);
        });
        return FfmProgram.ofGraph(lib, program, dtype);
    }

    @Override
    public synchronized boolean isClosed() {
        return closed;
    }

    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            cleanable.clean();
        }
    }
}
