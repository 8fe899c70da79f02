package io.jdyn.spi;

/**
 * Internal: what a differentiable solve reports: the forward outcome, the integral loss (0 without
 * one) and the tape (null when none was asked for or the solve failed; the backend frees it then). A
 * per-sample solve's per-row counts are in the outcome's {@code sampleStats}.
 */
public record GradOutcome(SolveOutcome outcome, double integralValue, TapeHandle tape) {}
