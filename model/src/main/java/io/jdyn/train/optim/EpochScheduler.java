package io.jdyn.train.optim;

import java.util.Objects;

/**
 * The bookkeeping every epoch-based schedule shares: the optimizer, its lr when the schedule began,
 * the epoch count and the last lr set. A schedule supplies only the next lr from the current one, as
 * PyTorch's recursive forms do (so an lr changed in between carries on).
 */
abstract class EpochScheduler implements LRScheduler {
    private final Optimizer optimizer;
    private final double baseLr;
    private int lastEpoch;
    private double lastLr;

    EpochScheduler(Optimizer optimizer) {
        this.optimizer = Objects.requireNonNull(optimizer, "optimizer");
        this.baseLr = optimizer.lr();
        this.lastLr = baseLr;
    }

    /** The lr for epoch {@code epoch} (1 on the first step), given the optimizer's current lr. */
    abstract double next(int epoch, double currentLr);

    @Override
    public final void step() {
        lastEpoch++;
        double lr = next(lastEpoch, optimizer.lr());
        optimizer.setLr(lr);
        lastLr = lr;
    }

    @Override
    public final int lastEpoch() {
        return lastEpoch;
    }

    @Override
    public final double lastLr() {
        return lastLr;
    }

    @Override
    public final double baseLr() {
        return baseLr;
    }
}
