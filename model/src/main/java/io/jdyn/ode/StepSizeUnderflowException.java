package io.jdyn.ode;

/** The adaptive step shrank below the minimum: the problem is stiff, singular or the tolerance too tight. */
public final class StepSizeUnderflowException extends SolveException {
    public StepSizeUnderflowException(String message, SolveStats stats) {
        super(message, stats, null);
    }
}
