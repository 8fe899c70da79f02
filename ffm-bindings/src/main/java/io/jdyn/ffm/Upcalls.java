package io.jdyn.ffm;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import io.jdyn.spi.EventInvoker;
import io.jdyn.spi.FieldInvoker;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;

/**
 * The two upcall stubs (vector field, event function), created once per JVM. A solve runs on the
 * calling thread and its upcalls arrive on that thread, so the active callbacks live in a
 * thread-local, saved and restored around each solve so that a vector field may itself solve.
 *
 * <p>An exception escaping an upcall would crash the JVM: every Throwable is caught here, kept for
 * the caller, and reported to the engine as a non-zero status that ends the solve.
 */
final class Upcalls {
    static final class Active {
        final FieldInvoker field;
        final EventInvoker event;
        final SegmentView z;
        final SegmentView dz;
        final SegmentView ez;
        Throwable error;

        Active(FieldInvoker field, EventInvoker event, SegmentView z, SegmentView dz, SegmentView ez) {
            this.field = field;
            this.event = event;
            this.z = z;
            this.dz = dz;
            this.ez = ez;
        }
    }

    private static final ThreadLocal<Active> ACTIVE = new ThreadLocal<>();

    static final MemorySegment FIELD_STUB;
    static final MemorySegment EVENT_STUB;

    static {
        try {
            Linker linker = Linker.nativeLinker();
            MethodHandles.Lookup lookup = MethodHandles.lookup();
            FIELD_STUB = linker.upcallStub(
                    lookup.findStatic(Upcalls.class, "field", MethodType.methodType(int.class, MemorySegment.class,
                            double.class, MemorySegment.class, MemorySegment.class, long.class, long.class)),
                    FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_DOUBLE, ADDRESS, ADDRESS, JAVA_LONG, JAVA_LONG),
                    Arena.global());
            EVENT_STUB = linker.upcallStub(
                    lookup.findStatic(Upcalls.class, "event", MethodType.methodType(int.class, MemorySegment.class,
                            double.class, MemorySegment.class, long.class, long.class, MemorySegment.class)),
                    FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_DOUBLE, ADDRESS, JAVA_LONG, JAVA_LONG, ADDRESS),
                    Arena.global());
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
            a.z.point(z);
            a.dz.point(dz);
            a.field.invoke(t, a.z, a.dz);
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
}
