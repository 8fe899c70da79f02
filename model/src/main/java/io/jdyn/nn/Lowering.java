package io.jdyn.nn;

import io.jdyn.fn.Init;
import io.jdyn.fn.Params;
import io.jdyn.fn.Sym;
import java.util.Arrays;
import java.util.Objects;

/**
 * Internal: each layer as graph operations, with its parameters declared in the order and with the
 * bounds of the layer program's flat layout (so the seeded initialisation draws the same values):
 * a Linear's "weight" [out, in] then "bias" [out]; a GalLinear's "coeffs_weight" [n_basis, out, in]
 * then "coeffs_bias" [n_basis, out]; every one uniform in +-1/sqrt(in).
 */
final class Lowering {
    private Lowering() {}

    static Sym apply(Layer layer, Sym t, Sym x, Params p) {
        Objects.requireNonNull(t, "t");
        Objects.requireNonNull(x, "x");
        Objects.requireNonNull(p, "p");
        return switch (layer) {
            case Linear l -> {
                Init init = Init.torchLinear(l.inFeatures());
                Sym w = p.param("weight", init, l.outFeatures(), l.inFeatures());
                Sym b = l.bias() ? p.param("bias", init, l.outFeatures()) : null;
                yield x.linear(w, b);
            }
            case GalLinear g -> {
                int n = g.nBasis(), out = g.outFeatures(), in = g.inFeatures();
                Init init = Init.torchLinear(in);
                Sym cw = p.param("coeffs_weight", init, n, out, in);
                Sym cb = g.bias() ? p.param("coeffs_bias", init, n, out) : null;
                Sym phi = t.basis(g.basis(), n).reshape(1, n);
                Sym w = phi.matmul(cw.reshape(n, (long) out * in)).reshape(out, in);
                Sym b = cb == null ? null : phi.matmul(cb).reshape(out);
                yield x.linear(w, b);
            }
            case Tanh a -> x.tanh();
            case ReLU a -> x.relu();
            case Softplus s -> x.softplus(s.beta(), s.threshold());
            case Sigmoid a -> x.sigmoid();
            case Sin a -> x.sin();
            case ELU e -> x.elu(e.alpha());
            case SiLU a -> x.silu();
            case DepthCat d -> Sym.cat(-1, x, t.broadcastTo(lastDim(x, 1, d)));
            case Augmenter a -> Sym.cat(-1, x, x.newZeros(lastDim(x, a.augmentDims(), a)));
        };
    }

    /** x's shape with the last dimension replaced by n. */
    private static long[] lastDim(Sym x, long n, Layer layer) {
        long[] s = x.shape();
        if (s.length == 0 || (s.length == 1 && s[0] == -1)) {
            throw new IllegalArgumentException(layer + " needs x with a feature dimension, got shape " + Arrays.toString(s));
        }
        s[s.length - 1] = n;
        return s;
    }
}
