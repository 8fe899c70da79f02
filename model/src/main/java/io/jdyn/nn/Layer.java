package io.jdyn.nn;

import io.jdyn.fn.Fn;
import io.jdyn.fn.Params;
import io.jdyn.fn.Sym;

/**
 * One layer of a {@link Sequential}: a description only (no parameters, no native memory). A
 * {@link NeuralField} compiles a Sequential of layers into a native program and owns the parameters.
 * {@code toString()} prints the layer as PyTorch and torchdyn do, e.g.
 * {@code Linear(in_features=2, out_features=64, bias=True)}.
 *
 * <p>A layer is also an {@link Fn}: applied to (t, x) it adds its graph operations (a Linear declares
 * "weight" [out, in] then "bias" [out], each initialised as PyTorch does), the same ones its layer
 * program runs.
 */
public sealed interface Layer extends Fn permits Linear, Tanh, ReLU, Softplus, Sigmoid, Sin, ELU, SiLU, DepthCat,
        Augmenter, GalLinear {
    @Override
    default Sym apply(Sym t, Sym x, Params p) {
        return Lowering.apply(this, t, x, p);
    }
}
