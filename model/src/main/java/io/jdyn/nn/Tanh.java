package io.jdyn.nn;

/** Elementwise tanh(x), PyTorch's {@code nn.Tanh}. */
public record Tanh() implements Layer {
    @Override
    public String toString() {
        return "Tanh()";
    }
}
