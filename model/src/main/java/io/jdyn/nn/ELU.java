package io.jdyn.nn;

/** x for x >= 0, alpha (exp(x) - 1) below: PyTorch's {@code nn.ELU}. */
public record ELU(double alpha) implements Layer {
    public ELU {
        if (!Double.isFinite(alpha)) throw new IllegalArgumentException("ELU alpha must be finite, got " + alpha);
    }

    /** alpha 1 (PyTorch's default). */
    public ELU() {
        this(1.0);
    }

    @Override
    public String toString() {
        return "ELU(alpha=" + alpha + ")";
    }
}
