package io.jdyn.train.optim;

/**
 * A first-order optimizer over a {@link io.jdyn.nn.Parameters} (torch.optim's role): {@link #step()}
 * moves the values by their accumulated gradients, natively, skipping frozen layers. Optimizers with
 * state (momentum, Adam's moments) hold it in native buffers: close them when done.
 */
public interface Optimizer extends AutoCloseable {
    /**
     * One update from the current gradients. Throws {@link NonFiniteGradientException} (with the flat
     * index) when a gradient of a layer being updated is NaN or infinite: that layer and those after it
     * are left unchanged (layers before it have stepped).
     */
    void step();

    /** Sets every gradient of the parameters to zero (PyTorch's zero_grad(set_to_none=False)). */
    void zeroGrad();

    /** The learning rate used by the next {@link #step()}. */
    double lr();

    /** Sets the learning rate (what LR schedules do); must be finite and >= 0. */
    void setLr(double lr);

    /** Frees the optimizer's native state; later steps throw IllegalStateException. Idempotent. */
    @Override
    void close();
}
