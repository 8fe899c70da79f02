package io.jdyn.nn;

/** log(1 + exp(beta x)) / beta, and x itself where beta x > threshold: PyTorch's {@code nn.Softplus}. */
public record Softplus(double beta, double threshold) implements Layer {
    public Softplus {
        if (!(beta > 0) || !Double.isFinite(beta)) throw new IllegalArgumentException("Softplus beta must be finite and > 0, got " + beta);
        if (!Double.isFinite(threshold)) throw new IllegalArgumentException("Softplus threshold must be finite, got " + threshold);
    }

    /** beta 1, threshold 20 (PyTorch's defaults). */
    public Softplus() {
        this(1.0, 20.0);
    }

    @Override
    public String toString() {
        return "Softplus(beta=" + beta + ", threshold=" + threshold + ")";
    }
}
