package io.jdyn.nn;

/**
 * One layer of a {@link Sequential}: a description only (no parameters, no native memory). A
 * {@link NeuralField} compiles a Sequential of layers into a native program and owns the parameters.
 * {@code toString()} prints the layer as PyTorch and torchdyn do, e.g.
 * {@code Linear(in_features=2, out_features=64, bias=True)}.
 */
public sealed interface Layer permits Linear, Tanh, ReLU, Softplus, Sigmoid, Sin, ELU, SiLU, DepthCat, Augmenter,
        GalLinear {}
