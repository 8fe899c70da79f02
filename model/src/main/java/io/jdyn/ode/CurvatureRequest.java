package io.jdyn.ode;

/**
 * What SNOpt asks of one adjoint backward pass ({@link GradSolution#backward(io.jdyn.Tensor, CurvatureRequest)}):
 * at times {@code sampleStep} apart along the backsolve, each preconditioned Linear layer's Kronecker
 * factors A = E[a a^T] (its input, with a trailing 1 when it has a bias) and G = E[g g^T] (the
 * cotangent of its output, times batch * sampleStep), averaged over the batch and the samples. The
 * factors land in {@link #factors()}: per layer of the program's {@code linearLayers()} order, A then G,
 * row-major. Filled once; memory is what the factors take, whatever the number of steps.
 */
public final class CurvatureRequest {
    private final double sampleStep;
    private final double[] factors;
    private final long[] samples = new long[1];
    private boolean filled;

    /** factorSize: the sum over the layers of a_dim^2 + out^2. */
    public CurvatureRequest(double sampleStep, int factorSize) {
        if (!(sampleStep > 0) || !Double.isFinite(sampleStep)) {
            throw new IllegalArgumentException("sampleStep must be finite and > 0, got " + sampleStep);
        }
        if (factorSize <= 0) throw new IllegalArgumentException("factorSize must be > 0, got " + factorSize);
        this.sampleStep = sampleStep;
        this.factors = new double[factorSize];
    }

    public double sampleStep() {
        return sampleStep;
    }

    /** The factors (the array itself: SNOpt reads it once filled). */
    public double[] factors() {
        return factors;
    }

    /** Times sampled along the backward pass (0 before it ran). */
    public long samples() {
        return samples[0];
    }

    /** Whether a backward pass filled it. */
    public boolean filled() {
        return filled;
    }

    long[] samplesHolder() {
        return samples;
    }

    void markFilled() {
        if (filled) throw new IllegalStateException("this curvature request was already filled by a backward pass");
        filled = true;
    }
}
