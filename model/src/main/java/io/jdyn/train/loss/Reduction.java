package io.jdyn.train.loss;

/** How a loss combines its per-element (or per-sample) terms, as PyTorch's reduction argument. */
public enum Reduction {
    /** The mean (PyTorch's default). */
    MEAN,
    /** The sum. */
    SUM
}
