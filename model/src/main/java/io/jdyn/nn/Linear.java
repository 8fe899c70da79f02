package io.jdyn.nn;

/** y = x W^T + b, PyTorch's {@code nn.Linear}: W [out, in] then b [out] in the flat parameters. */
public record Linear(int inFeatures, int outFeatures, boolean bias) implements Layer {
    public Linear {
        Widths.positive(inFeatures, "in_features");
        Widths.positive(outFeatures, "out_features");
    }

    /** With a bias. */
    public Linear(int inFeatures, int outFeatures) {
        this(inFeatures, outFeatures, true);
    }

    @Override
    public String toString() {
        return "Linear(in_features=" + inFeatures + ", out_features=" + outFeatures + ", bias=" + Widths.py(bias) + ")";
    }
}
