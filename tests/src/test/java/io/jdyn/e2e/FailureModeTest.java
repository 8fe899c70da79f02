package io.jdyn.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jdyn.Tensor;
import io.jdyn.TensorClosedException;
import io.jdyn.ode.Event;
import io.jdyn.ode.MaxStepsExceededException;
import io.jdyn.ode.NonFiniteValueException;
import io.jdyn.ode.Odeint;
import io.jdyn.ode.Solution;
import io.jdyn.ode.SolveException;
import io.jdyn.ode.SolveOptions;
import io.jdyn.ode.StepSizeUnderflowException;
import io.jdyn.ode.VectorField;
import io.jdyn.ode.VectorFieldException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/**
 * Every failure mode: the exception type, a message that names the cause, and a JVM (and native
 * core) that carries on: after each test a healthy solve must still work.
 */
class FailureModeTest {
    private static final VectorField HARMONIC = Problems.field(Problems.harmonic(1));
    private static final double[] T01 = {0, 1};

    private static <E extends Throwable> E assertThrowsNaming(Class<E> type, String words, Executable run) {
        E e = assertThrows(type, run);
        assertTrue(e.getMessage() != null && e.getMessage().contains(words),
                "message should name '" + words + "': " + e.getMessage());
        return e;
    }

    private static Solution solve(VectorField f, double[] y0, double[] t, SolveOptions o) {
        try (Tensor y = Tensor.of(y0, 1, y0.length)) {
            return Odeint.odeint(f, y, t, o);
        }
    }

    @AfterEach
    void stillHealthy() {
        try (Solution s = solve(HARMONIC, new double[] {1, 0}, T01, SolveOptions.defaults())) {
            // Default tolerances (rtol 1e-7) over one unit: error well below 1e-6.
            assertEquals(Math.cos(1), s.ys().get(1, 0, 0), 1e-6);
        }
    }

    @Test
    void blowUpEndsInUnderflowOrNonFinite() {
        // y' = y^2, y(0) = 1: y = 1 / (1 - t), infinite at t = 1.
        VectorField f = (t, z, dz) -> dz.set(0, 0, z.get(0, 0) * z.get(0, 0));
        SolveException e = assertThrows(SolveException.class,
                () -> solve(f, new double[] {1}, new double[] {0, 2}, Problems.adaptive("dopri5", 1e-8)).close());
        assertTrue(e instanceof StepSizeUnderflowException || e instanceof NonFiniteValueException,
                "expected underflow or non-finite, got " + e);
        String msg = e.getMessage();
        assertTrue(msg.contains("underflow") || msg.contains("non-finite"), msg);
        // The solve gets arbitrarily close to the singularity. The numerical solution's own pole is
        // off t = 1 by the accumulated relative error (perturbations grow like y^2 here, so
        // dy / y^2 stays at its early ~1e-9 size; measured: t reached 1 + 1.8e-9): within 1e-3 of t = 1
        // (y ~ 1e3 there) is a generous bar that still catches a solve giving up early or running on.
        double reached = e.stats().tReached();
        assertEquals(1, reached, 1e-3, "t reached");
    }

    @Test
    void maxStepsExceeded() {
        MaxStepsExceededException e = assertThrowsNaming(MaxStepsExceededException.class, "maximum number of steps",
                () -> solve(HARMONIC, new double[] {1, 0}, new double[] {0, 100},
                        Problems.adaptive("dopri5", 1e-8).toBuilder().maxSteps(5).build()).close());
        assertEquals(5, e.stats().accepted() + e.stats().rejected());
        assertTrue(e.stats().tReached() < 100);
    }

    @Test
    void nanFromTheFieldInFixedSteps() {
        // batch 2, dim 3: the field turns component (batch 1, dim 2) into NaN after t = 0.5.
        VectorField f = (t, z, dz) -> {
            for (int b = 0; b < 2; b++) for (int d = 0; d < 3; d++) dz.set(b, d, -z.get(b, d));
            if (t > 0.5) dz.set(1, 2, Double.NaN);
        };
        NonFiniteValueException e;
        try (Tensor y = Tensor.of(new double[] {1, 1, 1, 1, 1, 1}, 2, 3)) {
            e = assertThrowsNaming(NonFiniteValueException.class, "component",
                    () -> Odeint.odeint(f, y, new double[] {0, 1}, SolveOptions.builder().method("rk4").dt(0.1).build())
                            .close());
        }
        assertEquals(1 * 3 + 2, e.component(), "flat index b * dim + d");
        assertTrue(e.getMessage().contains("batch 1") && e.getMessage().contains("dim 2"), e.getMessage());
        // The step from 0.4 evaluates at 0.4, 0.45 and 0.5, none > 0.5; the step from 0.5 to 0.6 is
        // the first to see the NaN, so t reached is 0.5 (up to the rounding of 5 * 0.1).
        assertEquals(0.5, e.stats().tReached(), 1e-12);
    }

    @Test
    void nanInAdaptiveStepping() {
        VectorField f = (t, z, dz) -> {
            dz.set(0, 0, z.get(0, 1));
            dz.set(0, 1, t > 0.5 ? Double.NaN : -z.get(0, 0));
        };
        NonFiniteValueException e = assertThrowsNaming(NonFiniteValueException.class, "non-finite",
                () -> solve(f, new double[] {1, 0}, new double[] {0, 1}, Problems.adaptive("dopri5", 1e-8)).close());
        // The NaN in dz[1] reaches y[0] through the later stages (y0' = y1), so the first non-finite
        // component of the state is 0 or 1 depending on the stage; either is a valid index.
        assertTrue(e.component() == 0 || e.component() == 1, "component " + e.component());
        assertTrue(e.getMessage().contains("component " + e.component()), e.getMessage());
        // Steps shrink towards t = 0.5 (the last time whose stages are all finite) until dt underflows.
        assertEquals(0.5, e.stats().tReached(), 1e-6, "t reached");
    }

    @Test
    void vectorFieldThrows() {
        IllegalStateException boom = new IllegalStateException("boom from the field");
        VectorField f = (t, z, dz) -> {
            if (t > 0.25) throw boom;
            dz.set(0, 0, -z.get(0, 0));
        };
        VectorFieldException e = assertThrowsNaming(VectorFieldException.class, "boom from the field",
                () -> solve(f, new double[] {1}, T01, Problems.adaptive("dopri5", 1e-8)).close());
        assertSame(boom, e.getCause());
        assertTrue(e.getMessage().contains("IllegalStateException"), e.getMessage());
        assertTrue(e.stats().tReached() <= 0.25);
    }

    @Test
    void vectorFieldThrowsAnError() {
        // Errors (not just exceptions) must not escape the upcall either: that would kill the JVM.
        AssertionError boom = new AssertionError("assertion inside the field");
        VectorField f = (t, z, dz) -> {
            throw boom;
        };
        VectorFieldException e = assertThrows(VectorFieldException.class,
                () -> solve(f, new double[] {1}, T01, SolveOptions.defaults()).close());
        assertSame(boom, e.getCause());
    }

    @Test
    void maxStepsInFixedSteps() {
        MaxStepsExceededException e = assertThrowsNaming(MaxStepsExceededException.class, "maximum number of steps",
                () -> solve(HARMONIC, new double[] {1, 0}, T01,
                        SolveOptions.builder().method("euler").dt(0.1).maxSteps(5).build()).close());
        assertEquals(5, e.stats().accepted());
        assertEquals(0.5, e.stats().tReached(), 1e-12);
    }

    @Test
    void failingInnerSolveInsideTheField() {
        // The field solves y' = y^2 past its pole: the inner failure reaches the outer caller as the
        // cause of a VectorFieldException, and both solves unwind cleanly.
        VectorField outer = (t, z, dz) -> {
            try (Tensor x0 = Tensor.of(new double[] {1}, 1);
                    Solution inner = Odeint.odeint((s, x, dx) -> dx.set(0, 0, x.get(0, 0) * x.get(0, 0)), x0,
                            new double[] {0, 2}, Problems.adaptive("dopri5", 1e-6))) {
                dz.set(0, 0, inner.ys().get(1, 0));
            }
        };
        VectorFieldException e = assertThrows(VectorFieldException.class,
                () -> solve(outer, new double[] {1}, T01, SolveOptions.defaults()).close());
        assertInstanceOf(SolveException.class, e.getCause());
        assertTrue(e.getMessage().contains(e.getCause().getClass().getSimpleName()), e.getMessage());
    }

    @Test
    void indexOutsideTheViewInTheField() {
        // A field that writes past its [batch, dim] view must fail with a Java exception, not write
        // into the engine's memory: by (b, d) and by flat index.
        VectorField byPair = (t, z, dz) -> dz.set(0, 2, 1.0);
        VectorFieldException e = assertThrows(VectorFieldException.class,
                () -> solve(byPair, new double[] {1, 0}, T01, SolveOptions.defaults()).close());
        assertInstanceOf(IndexOutOfBoundsException.class, e.getCause());
        VectorField byFlat = (t, z, dz) -> dz.set(2L, z.get(3L));
        e = assertThrows(VectorFieldException.class,
                () -> solve(byFlat, new double[] {1, 0}, T01, SolveOptions.defaults()).close());
        assertInstanceOf(IndexOutOfBoundsException.class, e.getCause());
    }

    @Test
    void eventFunctionThrows() {
        RuntimeException boom = new UnsupportedOperationException("event exploded");
        SolveOptions o = SolveOptions.builder().event(Event.terminal((t, z) -> {
            if (t > 0.1) throw boom;
            return 1;
        })).build();
        VectorFieldException e = assertThrowsNaming(VectorFieldException.class, "event exploded",
                () -> solve(HARMONIC, new double[] {1, 0}, T01, o).close());
        assertSame(boom, e.getCause());
    }

    @Test
    void nonPositiveTolerancesAreRejectedByTheBuilder() {
        for (double bad : new double[] {0, -1e-6, Double.NaN, Double.POSITIVE_INFINITY}) {
            assertThrowsNaming(IllegalArgumentException.class, "rtol", () -> SolveOptions.builder().rtol(bad));
            assertThrowsNaming(IllegalArgumentException.class, "atol", () -> SolveOptions.builder().atol(bad));
        }
        assertThrowsNaming(IllegalArgumentException.class, "rtol[1]",
                () -> SolveOptions.builder().rtol(new double[] {1e-6, 0}));
    }

    @Test
    void unsortedTimes() {
        assertThrowsNaming(IllegalArgumentException.class, "strictly increasing",
                () -> solve(HARMONIC, new double[] {1, 0}, new double[] {0, 2, 1}, SolveOptions.defaults()).close());
        assertThrowsNaming(IllegalArgumentException.class, "strictly increasing",
                () -> solve(HARMONIC, new double[] {1, 0}, new double[] {0, 1, 1}, SolveOptions.defaults()).close());
        assertThrowsNaming(IllegalArgumentException.class, "strictly decreasing",
                () -> solve(HARMONIC, new double[] {1, 0}, new double[] {0, -1, 0.5}, SolveOptions.defaults()).close());
        assertThrowsNaming(IllegalArgumentException.class, "not finite",
                () -> solve(HARMONIC, new double[] {1, 0}, new double[] {0, 1, Double.NaN}, SolveOptions.defaults())
                        .close());
        assertThrowsNaming(IllegalArgumentException.class, "two times",
                () -> solve(HARMONIC, new double[] {1, 0}, new double[] {0}, SolveOptions.defaults()).close());
    }

    @Test
    void nonFiniteInitialState() {
        assertThrowsNaming(IllegalArgumentException.class, "non-finite",
                () -> solve(HARMONIC, new double[] {1, Double.NaN}, T01, SolveOptions.defaults()).close());
        assertThrowsNaming(IllegalArgumentException.class, "non-finite",
                () -> solve(HARMONIC, new double[] {Double.NEGATIVE_INFINITY, 0}, T01, SolveOptions.defaults()).close());
    }

    @Test
    void rankThreeState() {
        try (Tensor y = Tensor.of(new double[] {1, 0, 1, 0}, 1, 2, 2)) {
            assertThrowsNaming(IllegalArgumentException.class, "[dim] or [batch, dim]",
                    () -> Odeint.odeint(HARMONIC, y, T01, SolveOptions.defaults()).close());
        }
    }

    @Test
    void fixedStepMethodWithoutStep() {
        IllegalArgumentException e = assertThrowsNaming(IllegalArgumentException.class, "fixed-step",
                () -> solve(HARMONIC, new double[] {1, 0}, T01, SolveOptions.builder().method("rk4").build()).close());
        assertTrue(e.getMessage().contains("dt") && e.getMessage().contains("grid"), e.getMessage());
    }

    @Test
    void badGrid() {
        assertThrowsNaming(IllegalArgumentException.class, "grid must start",
                () -> solve(HARMONIC, new double[] {1, 0}, T01,
                        SolveOptions.builder().method("euler").grid(0, 0.5, 0.9).build()).close());
        assertThrowsNaming(IllegalArgumentException.class, "not both",
                () -> SolveOptions.builder().dt(0.1).grid(0, 1).build());
    }

    @Test
    void unknownMethodName() {
        assertThrowsNaming(IllegalArgumentException.class, "unknown method",
                () -> SolveOptions.builder().method("bogus"));
    }

    @Test
    void perComponentToleranceOfTheWrongLength() {
        IllegalArgumentException e = assertThrowsNaming(IllegalArgumentException.class, "atol",
                () -> solve(HARMONIC, new double[] {1, 0}, T01,
                        SolveOptions.builder().atol(new double[] {1e-9, 1e-9, 1e-9}).build()).close());
        assertTrue(e.getMessage().contains("3") && e.getMessage().contains("dim 2"), e.getMessage());
        assertThrowsNaming(IllegalArgumentException.class, "rtol",
                () -> solve(HARMONIC, new double[] {1, 0}, T01,
                        SolveOptions.builder().rtol(new double[] {1e-9}).build()).close());
    }

    @Test
    void closedInitialState() {
        Tensor y = Tensor.of(new double[] {1, 0}, 1, 2);
        y.close();
        assertThrows(TensorClosedException.class, () -> Odeint.odeint(HARMONIC, y, T01).close());
    }

    @Test
    void readingAfterTheSolutionIsClosed() {
        Solution s = solve(HARMONIC, new double[] {1, 0}, T01, SolveOptions.defaults());
        Tensor ys = s.ys();
        assertFalse(ys.isClosed());
        s.close();
        assertTrue(ys.isClosed());
        assertThrows(TensorClosedException.class, ys::toDoubleArray);
        assertThrows(TensorClosedException.class, () -> ys.get(1, 0, 0));
        s.close(); // closing twice is harmless
    }

    @Test
    void failureKeepsTheStatsOfTheSteps() {
        MaxStepsExceededException e = assertThrows(MaxStepsExceededException.class,
                () -> solve(HARMONIC, new double[] {1, 0}, new double[] {0, 100},
                        Problems.adaptive("dopri5", 1e-8).toBuilder().maxSteps(20).build()).close());
        assertInstanceOf(SolveException.class, e);
        assertTrue(e.stats().nfe() > 0 && e.stats().accepted() > 0, e.stats().toString());
    }
}
