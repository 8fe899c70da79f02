package io.jdyn.ffm;

import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import io.jdyn.spi.NativeBuffer;
import io.jdyn.spi.NonFiniteInputException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/** SNOpt's linear algebra: jdyn_sym_eig, jdyn_snopt_eigenbasis, jdyn_snopt_precondition. */
final class FfmSnopt {
    private static final int NON_FINITE = 4; // JDYN_ERR_NON_FINITE

    private FfmSnopt() {}

    static double[] symEig(JdynLibrary lib, double[] a, int n) {
        if (n <= 0 || a.length != (long) n * n) {
            throw new IllegalArgumentException("a must hold n * n = " + ((long) n * n) + " values, got " + a.length);
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment m = arena.allocateFrom(JAVA_DOUBLE, a);
            MemorySegment w = arena.allocate(JAVA_DOUBLE, n);
            check(lib, (int) lib.symEig.invokeExact((long) n, m, w), null);
            MemorySegment.copy(m, JAVA_DOUBLE, 0, a, 0, a.length);
            return w.toArray(JAVA_DOUBLE);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("native eigendecomposition failed: " + t, t);
        }
    }

    static void eigenbasis(JdynLibrary lib, long out, long aDim, double[] g, double[] a, double[] m2) {
        if (g.length != out * out || a.length != aDim * aDim || m2.length != out * aDim) {
            throw new IllegalArgumentException("factor sizes: G " + g.length + " (need " + out * out + "), A " + a.length
                    + " (need " + aDim * aDim + "), m2 " + m2.length + " (need " + out * aDim + ")");
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment gs = arena.allocateFrom(JAVA_DOUBLE, g);
            MemorySegment as = arena.allocateFrom(JAVA_DOUBLE, a);
            MemorySegment ms = arena.allocate(JAVA_DOUBLE, m2.length);
            check(lib, (int) lib.snoptEigenbasis.invokeExact(out, aDim, gs, as, ms), null);
            MemorySegment.copy(gs, JAVA_DOUBLE, 0, g, 0, g.length);
            MemorySegment.copy(as, JAVA_DOUBLE, 0, a, 0, a.length);
            MemorySegment.copy(ms, JAVA_DOUBLE, 0, m2, 0, m2.length);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("native SNOpt eigenbasis failed: " + t, t);
        }
    }

    static void precondition(JdynLibrary lib, NativeBuffer grad, long weightOffset, long biasOffset, long out, long in,
            double[] uG, double[] uA, double[] m2, double alpha, double eps, double batch) {
        FfmBuffer g = FfmBuffer.of(grad);
        long aDim = in + (biasOffset >= 0 ? 1 : 0);
        if (uG.length != out * out || uA.length != aDim * aDim || m2.length != out * aDim) {
            throw new IllegalArgumentException("eigenbasis sizes do not match a [" + out + ", " + in + "] layer");
        }
        long end = Math.max(weightOffset + out * in, biasOffset >= 0 ? biasOffset + out : 0);
        if (weightOffset < 0 || g.elements() < end) {
            throw new IllegalArgumentException("grad holds " + g.elements() + " values, the layer needs " + end);
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment us = arena.allocateFrom(JAVA_DOUBLE, uG);
            MemorySegment ua = arena.allocateFrom(JAVA_DOUBLE, uA);
            MemorySegment ms = arena.allocateFrom(JAVA_DOUBLE, m2);
            MemorySegment bad = arena.allocate(JAVA_LONG);
            int rc = (int) lib.snoptPrecondition.invokeExact((long) g.dtype().code(), g.segment(), weightOffset,
                    biasOffset, out, in, us, ua, ms, alpha, eps, batch, bad);
            check(lib, rc, bad);
            MemorySegment.copy(ms, JAVA_DOUBLE, 0, m2, 0, m2.length);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("native SNOpt preconditioning failed: " + t, t);
        }
    }

    private static void check(JdynLibrary lib, int rc, MemorySegment bad) {
        if (rc == 0) return;
        String message = lib.lastErrorMessage();
        if (rc == NON_FINITE && bad != null) throw new NonFiniteInputException(message, bad.get(JAVA_LONG, 0));
        if (rc == NON_FINITE) throw new ArithmeticException(message);
        throw new IllegalArgumentException(message);
    }
}
