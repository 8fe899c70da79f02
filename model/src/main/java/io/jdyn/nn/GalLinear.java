package io.jdyn.nn;

import java.util.Objects;

/**
 * A Galerkin linear layer (Massaroli et al., "Dissecting Neural ODEs"): y = x W(t)^T + b(t) with
 * W(t) = sum_k phi_k(t) W_k and b(t) = sum_k phi_k(t) b_k over nBasis functions of the {@link Basis}.
 * Its parameters are the nBasis weight and bias blocks.
 */
public record GalLinear(int inFeatures, int outFeatures, Basis basis, int nBasis, boolean bias) implements Layer {
    public GalLinear {
        Widths.positive(inFeatures, "in_features");
        Widths.positive(outFeatures, "out_features");
        Objects.requireNonNull(basis, "basis");
        Widths.positive(nBasis, "n_basis");
    }

    /** With a bias. */
    public GalLinear(int inFeatures, int outFeatures, Basis basis, int nBasis) {
        this(inFeatures, outFeatures, basis, nBasis, true);
    }

    @Override
    public String toString() {
        return "GalLinear(in_features=" + inFeatures + ", out_features=" + outFeatures + ", bias=" + Widths.py(bias)
                + ", basis=" + basis + ", n_basis=" + nBasis + ")";
    }
}
