package io.jdyn.spi;

/**
 * Internal: what a differentiable solve reports: the forward outcome, the integral loss (0 without
 * one) and the tape (null when none was asked for or the solve failed; the backend frees it then).
 */
public record GradOutcome(SolveOutcome outcome, double integralValue, TapeHandle tape) {}
