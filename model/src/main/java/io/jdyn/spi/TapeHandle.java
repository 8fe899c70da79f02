package io.jdyn.spi;

/**
 * Internal: what a forward solve kept for its backward pass ({@code jdyn_tape}). Holds on to the
 * program (if any) until closed; closed on close() or, failing that, by a cleaner.
 */
public interface TapeHandle extends AutoCloseable {
    /**
     * Gradients from ysCotangent [nTimes, batch, dim] (null: zeros): gY0 [batch, dim] and gTimes
     * [nTimes] overwritten, gParams [numParams] accumulated (null: skipped). Never throws for
     * failures of the backward solve: see the outcome.
     */
    BackwardOutcome backward(NativeBuffer ysCotangent, NativeBuffer gY0, NativeBuffer gParams, double[] gTimes);

    /** Accepted steps recorded (autograd; 0 for the adjoint modes). */
    long steps();

    /** Native bytes the tape holds. */
    long bytes();

    /** The step boundaries of an autograd tape (steps() + 1 times); empty for the adjoint modes. */
    double[] stepTimes();

    @Override
    void close();
}
