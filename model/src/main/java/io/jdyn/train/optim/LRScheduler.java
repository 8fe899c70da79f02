package io.jdyn.train.optim;

/**
 * A learning-rate schedule over an {@link Optimizer} (torch.optim.lr_scheduler's role): built after the
 * optimizer (its lr then is the base lr), {@link #step()} once per epoch after the optimizer's steps.
 */
public interface LRScheduler {
    /** Advances one epoch and sets the optimizer's lr for it. */
    void step();

    /** The epochs stepped so far (PyTorch's last_epoch; 0 after construction). */
    int lastEpoch();

    /** The lr this schedule last set (PyTorch's get_last_lr()). */
    double lastLr();

    /** The optimizer's lr when the schedule was built. */
    double baseLr();
}
