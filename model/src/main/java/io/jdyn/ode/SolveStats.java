package io.jdyn.ode;

import java.util.Arrays;

/**
 * What a solve did: vector field evaluations (each is one whole batch), accepted and rejected steps,
 * the last step size, the time reached, and the last error ratios (newest first).
 *
 * <p>A per-sample solve ({@link SolveOptions.Builder#perSample}) counts nfe as field calls still (with
 * a plain {@link VectorField}, one per run of rows at one time); accepted and rejected are those of the
 * row that took the most steps (their sum is the lockstep iterations), lastDt, tReached and
 * errorRatios those of the failing row on a failure; {@link #perSample()} has every row's counts.
 */
public record SolveStats(long nfe, long accepted, long rejected, double lastDt, double tReached,
        double[] errorRatios, SampleStats perSample) {

    public SolveStats {
        errorRatios = errorRatios.clone();
    }

    /** Shared stepping: no per-row statistics. */
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
