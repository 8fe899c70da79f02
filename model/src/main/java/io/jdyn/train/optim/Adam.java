package io.jdyn.train.optim;

import io.jdyn.nn.Parameters;

/**
 * Adam (torch.optim.Adam): L2 weight decay added to the gradient (g += weightDecay * p), then
 * m = beta1 m + (1 - beta1) g, v = beta2 v + (1 - beta2) g^2, and p -= lr / (1 - beta1^t) * m /
 * (sqrt(v) / sqrt(1 - beta2^t) + eps) with t the layer's step count (bias correction). Defaults as
 * PyTorch's: lr 1e-3, betas (0.9, 0.999), eps 1e-8, weightDecay 0. Frozen layers are skipped.
 */
public final class Adam extends AdamFamily {
    private Adam(Builder<Adam> b) {
        super("Adam", b, false);
    }

    public static Builder<Adam> builder(Parameters params) {
        return new Builder<>(params, 0, Adam::new);
    }

    /** Adam with PyTorch's defaults and the given learning rate. */
    public static Adam of(Parameters params, double lr) {
        return builder(params).lr(lr).build();
    }
}
