package io.jdyn.ffm;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import io.jdyn.DType;
import io.jdyn.spi.EventInvoker;
import io.jdyn.spi.FieldInvoker;
import io.jdyn.spi.IntegralInvoker;
import io.jdyn.spi.SampleFieldInvoker;
import io.jdyn.spi.VjpInvoker;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.util.List;

/**
 * The upcall stubs (vector field, event function, VJP of a differentiable field, integral loss),
 * created once per JVM. A solve runs on the
 * calling thread and its upcalls arrive on that thread, so the active callbacks live in a
 * thread-local, saved and restored around each solve so that a vector field may itself solve.
 *
 * <p>An exception escaping an upcall would crash the JVM: every Throwable is caught here, kept for
 * the caller, and reported to the engine as a non-zero status that ends the solve.
 */
final class Upcalls {
    /** The Java targets of one solve (or backward pass) and the views they are handed; any may be null. */
    static final class Active {
        final FieldInvoker field;
        final EventInvoker event;
        final VjpInvoker vjp;
        final IntegralInvoker integral;
        final SegmentView z;
        final SegmentView dz;
        final SegmentView ez;
        final SegmentView vz;
        final SegmentView vv;
        final SegmentView vgz;
        final ParamSegmentView vgp;
        final SegmentView iz;
        final SegmentView igrad;
        /** A per-sample solve's field with a time per row, and its [batch, 1] float64 view of the times. */
        SampleFieldInvoker sample;
        SegmentView st;
        Throwable error;

        private Active(FieldInvoker field, EventInvoker event, VjpInvoker vjp, IntegralInvoker integral, DType dtype,
                int batch, int dim, long numParams) {
            this.field = field;
            this.event = event;
            this.vjp = vjp;
            this.integral = integral;
            this.z = SegmentView.of(dtype, batch, dim);
            this.dz = SegmentView.of(dtype, batch, dim);
            this.ez = event == null ? null : SegmentView.of(dtype, batch, dim);
            this.vz = vjp == null ? null : SegmentView.of(dtype, batch, dim);
            this.vv = vjp == null ? null : SegmentView.of(dtype, batch, dim);
            this.vgz = vjp == null ? null : SegmentView.of(dtype, batch, dim);
            this.vgp = vjp == null ? null : new ParamSegmentView(dtype, numParams);
            this.iz = integral == null ? null : SegmentView.of(dtype, batch, dim);
            this.igrad = integral == null ? null : SegmentView.of(dtype, batch, dim);
        }

        /** Targets for states of [batch, dim] in dtype; numParams sizes the VJP's parameter view. */
        static Active of(FieldInvoker field, EventInvoker event, VjpInvoker vjp, IntegralInvoker integral,
                DType dtype, int batch, int dim, long numParams) {
            return new Active(field, event, vjp, integral, dtype, batch, dim, numParams);
        }

        /** Adds the field with a time per row (the fieldRows stub's target). */
        Active withSample(SampleFieldInvoker f) {
            sample = f;
            st = f == null ? null : SegmentView.of(DType.FLOAT64, z.batch, 1);
            return this;
        }

        /** The shape the engine passes must be the one the views were made for. */
        void checkShape(long batch, long dim) {
            if (batch != z.batch || dim != z.dim) {
                throw new IllegalStateException("the engine called back with [" + batch + ", " + dim
                        + "] but the solve is [" + z.batch + ", " + z.dim + "]");
            }
        }
    }

    private static final ThreadLocal<Active> ACTIVE = new ThreadLocal<>();

    /**
     * One upcall stub: the static method of this class it enters and the C function type it has. The
     * stubs below are made from {@link #UPCALLS} and nothing else, so it is also what GraalVM
     * native-image must have registered (cli's reachability-metadata.json, checked by
     * NativeImageMetadataTest). The method's type is the descriptor's own ({@code toMethodType}).
     */
    record Upcall(String method, FunctionDescriptor descriptor) {}

    /** jdyn_field_fn, jdyn_event_fn, jdyn_vjp_fn, jdyn_integral_fn and jdyn_field_rows_fn, in that order. */
    static final List<Upcall> UPCALLS = List.of(
            new Upcall("field", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_DOUBLE, ADDRESS, ADDRESS, JAVA_LONG,
                    JAVA_LONG)),
            new Upcall("event", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_DOUBLE, ADDRESS, JAVA_LONG, JAVA_LONG,
                    ADDRESS)),
            new Upcall("vjp", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_DOUBLE, ADDRESS, ADDRESS, JAVA_LONG,
                    JAVA_LONG, ADDRESS, ADDRESS, ADDRESS)),
            new Upcall("integral", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_DOUBLE, ADDRESS, JAVA_LONG, JAVA_LONG,
                    ADDRESS, ADDRESS)),
            new Upcall("fieldRows", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS, JAVA_LONG,
                    JAVA_LONG)));

    static final MemorySegment FIELD_STUB = stub(UPCALLS.get(0));
    static final MemorySegment EVENT_STUB = stub(UPCALLS.get(1));
    static final MemorySegment VJP_STUB = stub(UPCALLS.get(2));
    static final MemorySegment INTEGRAL_STUB = stub(UPCALLS.get(3));
    static final MemorySegment FIELD_ROWS_STUB = stub(UPCALLS.get(4));

    private static MemorySegment stub(Upcall u) {
        try {
            MethodHandle target = MethodHandles.lookup().findStatic(Upcalls.class, u.method(),
                    u.descriptor().toMethodType());
            return Linker.nativeLinker().upcallStub(target, u.descriptor(), Arena.global());
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private Upcalls() {}

    /** Makes a the active callbacks of this thread; returns the previous ones to restore. */
    static Active enter(Active a) {
        Active previous = ACTIVE.get();
        ACTIVE.set(a);
        return previous;
    }

    static void exit(Active previous) {
        if (previous == null) {
            ACTIVE.remove();
        } else {
            ACTIVE.set(previous);
        }
    }

    @SuppressWarnings("unused") // called from native code
    private static int field(MemorySegment ctx, double t, MemorySegment z, MemorySegment dz, long batch, long dim) {
        Active a = ACTIVE.get();
        try {
            if (batch != a.z.batch) {
                // a per-sample solve's slow path: one run of rows at one time, a sub-batch
                SegmentView zs = SegmentView.like(a.z, (int) batch);
                SegmentView dzs = SegmentView.like(a.dz, (int) batch);
                zs.point(z);
                dzs.point(dz);
                a.field.invoke(t, zs, dzs);
                return 0;
            }
            a.z.point(z);
            a.dz.point(dz);
            a.field.invoke(t, a.z, a.dz);
            return 0;
        } catch (Throwable e) {
            if (a != null && a.error == null) a.error = e;
            return 1;
        }
    }

    /** jdyn_field_rows_fn: dz[b] = f(t[b], z[b]), the whole batch. */
    @SuppressWarnings("unused") // called from native code
    private static int fieldRows(MemorySegment ctx, MemorySegment t, MemorySegment z, MemorySegment dz, long batch,
            long dim) {
        Active a = ACTIVE.get();
        try {
            a.checkShape(batch, dim);
            a.st.point(t);
            a.z.point(z);
            a.dz.point(dz);
            a.sample.invoke(a.st, a.z, a.dz);
            return 0;
        } catch (Throwable e) {
            if (a != null && a.error == null) a.error = e;
            return 1;
        }
    }

    @SuppressWarnings("unused") // called from native code
    private static int event(MemorySegment ctx, double t, MemorySegment z, long batch, long dim, MemorySegment out) {
        Active a = ACTIVE.get();
        try {
            a.ez.point(z);
            double g = a.event.invoke(t, a.ez);
            out.reinterpret(8).set(JAVA_DOUBLE, 0, g);
            return 0;
        } catch (Throwable e) {
            if (a != null && a.error == null) a.error = e;
            return 1;
        }
    }

    /** jdyn_vjp_fn: gz = v^T df/dz, gparams += v^T df/dtheta, *gt += v^T df/dt. */
    @SuppressWarnings("unused") // called from native code
    private static int vjp(MemorySegment ctx, double t, MemorySegment z, MemorySegment v, long batch, long dim,
            MemorySegment gz, MemorySegment gparams, MemorySegment gt) {
        Active a = ACTIVE.get();
        try {
            a.checkShape(batch, dim);
            a.vz.point(z);
            a.vv.point(v);
            a.vgz.point(gz);
            a.vgp.point(gparams);
            double dt = a.vjp.invoke(t, a.vz, a.vv, a.vgz, a.vgp);
            if (!gt.equals(MemorySegment.NULL)) {
                MemorySegment g = gt.reinterpret(8);
                g.set(JAVA_DOUBLE, 0, g.get(JAVA_DOUBLE, 0) + dt);
            }
            return 0;
        } catch (Throwable e) {
            if (a != null && a.error == null) a.error = e;
            return 1;
        }
    }

    /** jdyn_integral_fn: *value = l(t, z), grad = dl/dz. */
    @SuppressWarnings("unused") // called from native code
    private static int integral(MemorySegment ctx, double t, MemorySegment z, long batch, long dim,
            MemorySegment value, MemorySegment grad) {
        Active a = ACTIVE.get();
        try {
            a.checkShape(batch, dim);
            a.iz.point(z);
            a.igrad.point(grad);
            double l = a.integral.invoke(t, a.iz, a.igrad);
            value.reinterpret(8).set(JAVA_DOUBLE, 0, l);
            return 0;
        } catch (Throwable e) {
            if (a != null && a.error == null) a.error = e;
            return 1;
        }
    }
}
