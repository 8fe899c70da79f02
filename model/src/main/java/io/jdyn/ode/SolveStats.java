package io.jdyn.ode;

import java.util.Arrays;

/**
 * What a solve did: vector field evaluations (each is one whole batch), accepted and rejected steps,
 * the last step size, the time reached, and the last error ratios (newest first). {@link #perSample()}
 * gives every row's counts for a per-sample solve ({@link SolveOptions.Builder#perSample}), null otherwise.
 * The batch figures of a per-sample solve: with gradients (native per-row sub-solves) the counts are
 * summed over the rows, each evaluation one row's, and last step, time reached and error ratios are the
 * last row's; without (Odeint's lockstep loop) nfe counts field calls (with a plain {@link VectorField},
 * one per run of rows at one time), accepted and rejected are those of the row that took the most steps
 * (their sum is the lockstep iterations), and on a failure lastDt, tReached and errorRatios are the
 * failing row's.
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
