package io.jdyn.e2e;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jdyn.Tensor;
import io.jdyn.ode.Event;
import io.jdyn.ode.Event.Direction;
import io.jdyn.ode.Odeint;
import io.jdyn.ode.Solution;
import io.jdyn.ode.SolveOptions;
import io.jdyn.ode.VectorField;
import org.junit.jupiter.api.Test;

/** Terminal events: a ball thrown up from 1 m at 10 m/s under g = 9.81 m/s^2, stopped where it lands. */
class EventTest {
    private static final double G = 9.81, H0 = 1, V0 = 10;
    /** State (height, velocity). */
    private static final VectorField BALL = (t, z, dz) -> {
        dz.set(0, 0, z.get(0, 1));
        dz.set(0, 1, -G);
    };
    /** h(t) = H0 + V0 t - G t^2 / 2 = 0 on the way down. */
    private static final double T_LAND = (V0 + Math.sqrt(V0 * V0 + 2 * G * H0)) / G;
    private static final double V_LAND = V0 - G * T_LAND;
    private static final double[] TIMES = {0, 0.5, 1, 1.5, 2, 2.5, 3};

    private static SolveOptions withEvent(Event e) {
        return SolveOptions.builder().rtol(1e-10).atol(1e-10).event(e).build();
    }

    @Test
    void landingStopsTheSolve() {
        Event landing = Event.terminal((t, z) -> z.get(0, 0)).direction(Direction.FALLING).tolerance(1e-10);
        try (Tensor y0 = Tensor.of(new double[] {H0, V0}, 1, 2);
                Solution s = Odeint.odeint(BALL, y0, TIMES, withEvent(landing))) {
            assertTrue(s.eventTime().isPresent(), "the ball lands at t=" + T_LAND);
            double te = s.eventTime().getAsDouble();
            // Located to 1e-10 in t on an interpolant that is exact for this quadratic: 1e-9 is the bar.
            assertEquals(T_LAND, te, 1e-9);
            assertEquals(te, s.stats().tReached(), 0.0, "the solve ends at the event");

            Tensor at = s.eventState().orElseThrow();
            assertArrayEquals(new long[] {1, 2}, at.shape());
            // |h| <= |v| * 1e-10 (the time tolerance) + round-off: ~1.1e-9, bound 1e-8.
            assertEquals(0, at.get(0, 0), 1e-8, "height at the event");
            // v is linear in t: its error is G times the time error, ~1e-9; bound 1e-8.
            assertEquals(V_LAND, at.get(0, 1), 1e-8, "velocity at the event");

            // Only the output times before the event (t = 0 .. 2; it lands at 2.13).
            double[] ts = s.ts();
            assertArrayEquals(new double[] {0, 0.5, 1, 1.5, 2}, ts);
            assertArrayEquals(new long[] {5, 1, 2}, s.ys().shape());
            double[] ys = s.ys().toDoubleArray();
            for (int i = 0; i < ts.length; i++) {
                double t = ts[i];
                // The solution is a polynomial of degree 2: dopri5 reproduces it up to round-off.
                assertEquals(H0 + V0 * t - G * t * t / 2, ys[2 * i], 1e-10, "h at t=" + t);
                assertEquals(V0 - G * t, ys[2 * i + 1], 1e-10, "v at t=" + t);
            }
        }
    }

    @Test
    void landingInFixedSteps() {
        // rk4 with dt = 0.01 and its cubic Hermite interpolant: both exact for this quadratic.
        Event landing = Event.terminal((t, z) -> z.get(0, 0)).direction(Direction.FALLING).tolerance(1e-10);
        SolveOptions o = SolveOptions.builder().method("rk4").dt(0.01).event(landing).build();
        try (Tensor y0 = Tensor.of(new double[] {H0, V0}, 2); Solution s = Odeint.odeint(BALL, y0, TIMES, o)) {
            assertEquals(T_LAND, s.eventTime().orElseThrow(), 1e-9);
            assertArrayEquals(new long[] {2}, s.eventState().orElseThrow().shape(), "rank-1 y0: event state [dim]");
            assertEquals(V_LAND, s.eventState().orElseThrow().get(1), 1e-8);
            assertEquals(5, s.ts().length);
        }
    }

    @Test
    void risingOnlyEventDoesNotFireOnTheWayDown() {
        Event rising = Event.terminal((t, z) -> z.get(0, 0)).direction(Direction.RISING).tolerance(1e-10);
        try (Tensor y0 = Tensor.of(new double[] {H0, V0}, 1, 2);
                Solution s = Odeint.odeint(BALL, y0, TIMES, withEvent(rising))) {
            assertFalse(s.eventTime().isPresent());
            assertFalse(s.eventState().isPresent());
            assertArrayEquals(TIMES, s.ts());
            assertArrayEquals(new long[] {TIMES.length, 1, 2}, s.ys().shape());
            assertEquals(3.0, s.stats().tReached(), 0.0);
            // It went on through the ground: h(3) < 0.
            assertEquals(H0 + 3 * V0 - G * 9 / 2, s.ys().get(TIMES.length - 1, 0, 0), 1e-9);
        }
    }

    /** g = h - 5: crossed rising at (V0 - sqrt(V0^2 - 2 G (5 - H0))) / G = 0.5465, falling at 1.4922. */
    private static final double T_UP = (V0 - Math.sqrt(V0 * V0 - 2 * G * (5 - H0))) / G;

    @Test
    void anyDirectionFiresAtTheFirstCrossing() {
        // maxStep(0.25): no step may hold both crossings (0.95 apart) - see the disabled test below.
        SolveOptions o = withEvent(Event.terminal((t, z) -> z.get(0, 0) - 5).tolerance(1e-10)).toBuilder()
                .maxStep(0.25).build();
        try (Tensor y0 = Tensor.of(new double[] {H0, V0}, 1, 2); Solution s = Odeint.odeint(BALL, y0, TIMES, o)) {
            // Located to 1e-10 on an interpolant exact for this quadratic: 1e-9 is the bar.
            assertEquals(T_UP, s.eventTime().orElseThrow(), 1e-9);
            assertArrayEquals(new double[] {0, 0.5}, s.ts());
        }
    }

    @Test
    void aCheckIntervalFindsTwoCrossingsInsideOneStep() {
        // The solution is an exact quadratic, so the error estimate is ~0 and steps grow 10x: the last
        // step runs from t=0.342 to t=3.0 over both crossings of h = 5 (rising at 0.5465, falling at
        // 1.4922), and g has the same sign at both of its ends.
        Event up = Event.terminal((t, z) -> z.get(0, 0) - 5).tolerance(1e-10);
        try (Tensor y0 = Tensor.of(new double[] {H0, V0}, 1, 2);
                Solution s = Odeint.odeint(BALL, y0, TIMES, withEvent(up))) {
            assertTrue(s.eventTime().isEmpty(), "with step ends only, the double crossing is invisible");
        }
        try (Tensor y0 = Tensor.of(new double[] {H0, V0}, 1, 2);
                Solution s = Odeint.odeint(BALL, y0, TIMES, withEvent(up.maxCheckInterval(0.1)))) {
            assertTrue(s.eventTime().isPresent(), "h(t) = 5 at t=" + T_UP + " but no event was reported; "
                    + s.stats());
            assertEquals(T_UP, s.eventTime().getAsDouble(), 1e-9);
        }
    }

    @Test
    void eventOnANonPolynomialSolution() {
        // Harmonic oscillator from (1, 0): y = cos t first falls through zero at pi/2; the
        // interpolant (not exact here) must locate it to about the solve's tolerance.
        VectorField f = Problems.field(Problems.harmonic(1));
        try (Tensor y0 = Tensor.of(new double[] {1, 0}, 1, 2);
                Solution s = Odeint.odeint(f, y0, new double[] {0, 10},
                        withEvent(Event.terminal((t, z) -> z.get(0, 0)).direction(Direction.FALLING)))) {
            // rtol = atol = 1e-10: state error ~1e-10 near pi/2 where |y'| = 1, so the time error is
            // ~1e-10 plus the 1e-9 location tolerance: 1e-8 bounds both.
            assertEquals(Math.PI / 2, s.eventTime().orElseThrow(), 1e-8);
            assertEquals(-1, s.eventState().orElseThrow().get(0, 1), 1e-8);
            assertEquals(1, s.ts().length);
        }
    }
}
