package io.jdyn.ode;

import io.jdyn.JdynException;

/** A solve that failed inside the step loop; carries the statistics up to the failure. */
public class SolveException extends JdynException {
    private final SolveStats stats;

    public SolveException(String message, SolveStats stats, Throwable cause) {
        super(message, cause);
        this.stats = stats;
    }

    public SolveStats stats() {
        return stats;
    }
}
