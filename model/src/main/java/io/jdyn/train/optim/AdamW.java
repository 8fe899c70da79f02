package io.jdyn.train.optim;

import io.jdyn.nn.Parameters;

/**
 * AdamW (torch.optim.AdamW): Adam with decoupled weight decay, p *= 1 - lr * weightDecay before the
 * moment update, the gradient left as it is. Defaults as PyTorch's: lr 1e-3, betas (0.9, 0.999), eps 1e-8,
 * weightDecay 1e-2. Frozen layers are skipped.
 */
public final class AdamW extends AdamFamily {
    private AdamW(Builder<AdamW> b) {
        super("AdamW", b, true);
    }

    public static Builder<AdamW> builder(Parameters params) {
        return new Builder<>(params, 1e-2, AdamW::new);
    }

    /** AdamW with PyTorch's defaults and the given learning rate. */
    public static AdamW of(Parameters params, double lr) {
        return builder(params).lr(lr).build();
    }
}
