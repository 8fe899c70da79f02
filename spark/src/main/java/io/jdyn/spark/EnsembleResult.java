package io.jdyn.spark;

import java.io.Serializable;
import java.util.Arrays;

/**
 * One item of an ensemble: its final state (at the last evaluation time), the states at every
 * evaluation time when asked for ([T][dim], else null), and the statistics of the native solve it was
 * part of. Items solved together share one step sequence, so nfe, accepted, rejected and tReached are
 * those of the whole solve of {@code solveSize} items ({@link Ensemble.Options#itemsPerSolve(int)} 1
 * gives every item its own).
 */
public record EnsembleResult(double[] finalState, double[][] trajectory, long nfe, long accepted, long rejected,
        double tReached, int solveSize) implements Serializable {

    @Override
    public double[] finalState() {
        return finalState.clone();
    }

    @Override
    public double[][] trajectory() {
        if (trajectory == null) return null;
        double[][] c = new double[trajectory.length][];
        for (int i = 0; i < c.length; i++) c[i] = trajectory[i].clone();
        return c;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof EnsembleResult r && Arrays.equals(finalState, r.finalState)
                && Arrays.deepEquals(trajectory, r.trajectory) && nfe == r.nfe && accepted == r.accepted
                && rejected == r.rejected && Double.compare(tReached, r.tReached) == 0 && solveSize == r.solveSize;
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(finalState) * 31 + Long.hashCode(nfe);
    }

    @Override
    public String toString() {
        return "EnsembleResult[final=" + Arrays.toString(finalState) + ", nfe=" + nfe + ", accepted=" + accepted
                + ", rejected=" + rejected + ", tReached=" + tReached + ", solveSize=" + solveSize + "]";
    }
}
