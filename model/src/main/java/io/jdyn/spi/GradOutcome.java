package io.jdyn.spi;

/**
 * Internal: what a differentiable solve reports: the forward outcome, the integral loss (0 without
 * one), the tape (null when none was asked for or the solve failed; the backend frees it then) and, for
 * a per-sample solve, the per-row counts [batch, 3] (nfe, accepted, rejected; null otherwise).
 */
public record GradOutcome(SolveOutcome outcome, double integralValue, TapeHandle tape, long[] sampleStats) {
    public GradOutcome(SolveOutcome outcome, double integralValue, TapeHandle tape) {
        this(outcome, integralValue, tape, null);
    }
}
