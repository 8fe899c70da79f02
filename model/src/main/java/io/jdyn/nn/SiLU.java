package io.jdyn.nn;

/** Elementwise x sigmoid(x) (also called swish), PyTorch's {@code nn.SiLU}. */
public record SiLU() implements Layer {
    @Override
    public String toString() {
        return "SiLU()";
    }
}
