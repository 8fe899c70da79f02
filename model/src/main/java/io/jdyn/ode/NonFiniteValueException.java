package io.jdyn.ode;

/** The state or the vector field became NaN or infinite; {@link #component()} is the first bad one. */
public final class NonFiniteValueException extends SolveException {
    private final long component;

    public NonFiniteValueException(String message, SolveStats stats, long component) {
        super(message, stats, null);
        this.component = component;
    }

    /** Flat index b * dim + d of the first non-finite component, or -1 when unknown. */
    public long component() {
        return component;
    }
}
