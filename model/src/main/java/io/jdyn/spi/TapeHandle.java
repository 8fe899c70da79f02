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

    /**
     * As backward, collecting SNOpt's Kronecker factors (jdyn_tape_backward_curvature) at times
     * sampleStep apart along the adjoint backsolve into factors (per ProgramHandle#linearLayers layer:
     * A then G, row-major, means over the samples); samples[0] receives the number of sampled times.
     */
    default BackwardOutcome backwardCurvature(NativeBuffer ysCotangent, NativeBuffer gY0, NativeBuffer gParams,
            double[] gTimes, double sampleStep, double[] factors, long[] samples) {
        throw new UnsupportedOperationException("this backend does not collect second-order statistics");
    }

    /** Accepted steps recorded (autograd; 0 for the adjoint modes). */
    long steps();

    /** Native bytes the tape holds. */
    long bytes();

    /** The step boundaries of an autograd tape (steps() + 1 times); empty for the adjoint modes. */
    double[] stepTimes();

    @Override
    void close();
}
