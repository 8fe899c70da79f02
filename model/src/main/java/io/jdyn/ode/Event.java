package io.jdyn.ode;

import java.util.Objects;

/**
 * A terminal event: the solve stops at the first time g(t, z) is seen to cross zero in the given
 * direction, located on the dense output to within {@code tolerance} in t (torchdiffeq's
 * {@code odeint_event}).
 *
 * <p>g is checked at the end of every step; a step long enough to hold two crossings (g goes up
 * and back down inside it) shows no sign change there. {@link #maxCheckInterval(double)} also
 * samples g inside each step at most that far apart (Hipparchus's max check interval); the default,
 * 0, checks step ends only, as torchdiffeq and SciPy do.
 */
public record Event(EventFunction function, Direction direction, double tolerance, double maxCheckInterval) {
    /** Which zero crossings count. */
    public enum Direction {
        /** Either way. */
        ANY(0),
        /** g goes from negative to non-negative. */
        RISING(1),
        /** g goes from positive to non-positive. */
        FALLING(-1);

        private final int code;

        Direction(int code) {
            this.code = code;
        }

        public int code() {
            return code;
        }
    }

    public Event {
        Objects.requireNonNull(function, "function");
        Objects.requireNonNull(direction, "direction");
        if (!(tolerance > 0) || !Double.isFinite(tolerance)) {
            throw new IllegalArgumentException("event tolerance must be finite and > 0, got " + tolerance);
        }
        if (!(maxCheckInterval >= 0) || !Double.isFinite(maxCheckInterval)) {
            throw new IllegalArgumentException("event maxCheckInterval must be finite and >= 0, got " + maxCheckInterval);
        }
    }

    /** A terminal event on any crossing, located to 1e-9 in t. */
    public static Event terminal(EventFunction g) {
        return new Event(g, Direction.ANY, 1e-9, 0);
    }

    public Event direction(Direction d) {
        return new Event(function, d, tolerance, maxCheckInterval);
    }

    public Event tolerance(double tol) {
        return new Event(function, direction, tol, maxCheckInterval);
    }

    /** Also sample g inside each step, at most this far apart in t (0 = at step ends only). */
    public Event maxCheckInterval(double interval) {
        return new Event(function, direction, tolerance, interval);
    }
}
