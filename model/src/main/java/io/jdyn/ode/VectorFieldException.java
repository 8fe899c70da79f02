package io.jdyn.ode;

/** A Java vector field or event function threw; the cause is what it threw. */
public final class VectorFieldException extends SolveException {
    public VectorFieldException(String message, SolveStats stats, Throwable cause) {
        super(message, stats, cause);
    }
}
