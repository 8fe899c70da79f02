package io.jdyn.nn;

/** Elementwise 1 / (1 + exp(-x)), PyTorch's {@code nn.Sigmoid}. */
public record Sigmoid() implements Layer {
    @Override
    public String toString() {
        return "Sigmoid()";
    }
}
