package io.jdyn.ode;

import java.util.Arrays;

/**
 * What a solve did: vector field evaluations (each is one whole batch), accepted and rejected steps,
 * the last step size, the time reached, and the last error ratios (newest first). For a per-sample solve
 * (native per-row sub-solves: the counts are summed over the rows, each evaluation one row's; last step,
 * time reached and error ratios are the last row's), {@link #perSample()} gives every row's counts;
 * null otherwise.
 */
public record SolveStats(long nfe, long accepted, long rejected, double lastDt, double tReached,
        double[] errorRatios, SampleStats perSample) {

    public SolveStats {
        errorRatios = errorRatios.clone();
    }

    /** The statistics of a solve whose batch shares its steps. */
    public SolveStats(long nfe, long accepted, long rejected, double lastDt, double tReached, double[] errorRatios) {
        this(nfe, accepted, rejected, lastDt, tReached, errorRatios, null);
    }

    @Override
    public double[] errorRatios() {
        return errorRatios.clone();
    }

    @Override
    public String toString() {
        return "nfe=" + nfe + ", accepted=" + accepted + ", rejected=" + rejected + ", last dt=" + lastDt
                + ", t reached=" + tReached + ", recent error ratios=" + Arrays.toString(errorRatios)
                + (perSample == null ? "" : ", per sample: " + perSample);
    }
}
