package io.jdyn.ode;

import java.util.Arrays;

/**
 * What a solve did: vector field evaluations (each is one whole batch), accepted and rejected steps,
 * the last step size, the time reached, and the last error ratios (newest first).
 */
public record SolveStats(long nfe, long accepted, long rejected, double lastDt, double tReached,
        double[] errorRatios) {

    public SolveStats {
        errorRatios = errorRatios.clone();
    }

    @Override
    public double[] errorRatios() {
        return errorRatios.clone();
    }

    @Override
    public String toString() {
        return "nfe=" + nfe + ", accepted=" + accepted + ", rejected=" + rejected + ", last dt=" + lastDt
                + ", t reached=" + tReached + ", recent error ratios=" + Arrays.toString(errorRatios);
    }
}
