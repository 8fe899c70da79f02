package io.jdyn.ode;

/** The solve needed more steps (accepted + rejected) than {@code maxSteps} allows. */
public final class MaxStepsExceededException extends SolveException {
    public MaxStepsExceededException(String message, SolveStats stats) {
        super(message, stats, null);
    }
}
