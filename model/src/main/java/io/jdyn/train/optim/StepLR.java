package io.jdyn.train.optim;

import java.util.Objects;

/**
 * Multiplies the lr by gamma every stepSize epochs (torch.optim.lr_scheduler.StepLR): lr at epoch e is
 * baseLr * gamma^floor(e / stepSize) when nothing else changes it. As PyTorch's, each step applies the
 * factor to the optimizer's current lr (so changes made to it in between carry on).
 */
public final class StepLR implements LRScheduler {
    private final Optimizer optimizer;
    private final int stepSize;
    private final double gamma;
    private final double baseLr;
    private int lastEpoch;
    private double lastLr;

    public StepLR(Optimizer optimizer, int stepSize, double gamma) {
        this.optimizer = Objects.requireNonNull(optimizer, "optimizer");
        if (stepSize < 1) throw new IllegalArgumentException("stepSize must be >= 1, got " + stepSize);
        if (!(gamma >= 0) || Double.isInfinite(gamma)) throw new IllegalArgumentException("gamma must be finite and >= 0, got " + gamma);
        this.stepSize = stepSize;
        this.gamma = gamma;
        this.baseLr = optimizer.lr();
        this.lastLr = baseLr;
    }

    /** StepLR with PyTorch's default gamma 0.1. */
    public StepLR(Optimizer optimizer, int stepSize) {
        this(optimizer, stepSize, 0.1);
    }

    @Override
    public void step() {
        lastEpoch++;
        double lr = optimizer.lr();
        if (lastEpoch % stepSize == 0) lr = lr * gamma;
        optimizer.setLr(lr);
        lastLr = lr;
    }

    @Override
    public int lastEpoch() {
        return lastEpoch;
    }

    @Override
    public double lastLr() {
        return lastLr;
    }

    @Override
    public double baseLr() {
        return baseLr;
    }

    @Override
    public String toString() {
        return "StepLR(stepSize=" + stepSize + ", gamma=" + gamma + ", lastEpoch=" + lastEpoch + ")";
    }
}
