package io.jdyn.nn;

/** Elementwise max(x, 0), PyTorch's {@code nn.ReLU}. */
public record ReLU() implements Layer {
    @Override
    public String toString() {
        return "ReLU()";
    }
}
