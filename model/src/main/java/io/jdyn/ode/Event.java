package io.jdyn.ode;

import java.util.Objects;

/**
 * A terminal event: the solve stops where g(t, z) crosses zero in the given direction, located on
 * the dense output to within {@code tolerance} in t (torchdiffeq's {@code odeint_event}).
 */
public record Event(EventFunction function, Direction direction, double tolerance) {
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
    }

    /** A terminal event on any crossing, located to 1e-9 in t. */
    public static Event terminal(EventFunction g) {
        return new Event(g, Direction.ANY, 1e-9);
    }

    public Event direction(Direction d) {
        return new Event(function, d, tolerance);
    }

    public Event tolerance(double tol) {
        return new Event(function, direction, tol);
    }
}
