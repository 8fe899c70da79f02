package io.jdyn.train;

/**
 * One optimizer step: epoch (0-based), global step (0-based), batch size, loss, accuracy (NaN when the
 * loss has none), the forward and backward evaluation counts of the step, the lr it used, and the
 * seconds since fit started.
 */
public record StepMetrics(int epoch, long step, int batchSize, double loss, double accuracy, long nfeForward,
        long nfeBackward, double lr, double timeSeconds) {}
