package io.jdyn.train.optim;

/**
 * Multiplies the lr by gamma every stepSize epochs (torch.optim.lr_scheduler.StepLR): lr at epoch e is
 * baseLr * gamma^floor(e / stepSize) when nothing else changes it. As PyTorch's, each step applies the
 * factor to the optimizer's current lr (so changes made to it in between carry on).
 */
public final class StepLR extends EpochScheduler {
    private final int stepSize;
    private final double gamma;

    public StepLR(Optimizer optimizer, int stepSize, double gamma) {
        super(optimizer);
        if (stepSize < 1) throw new IllegalArgumentException("stepSize must be >= 1, got " + stepSize);
        if (!(gamma >= 0) || Double.isInfinite(gamma)) throw new IllegalArgumentException("gamma must be finite and >= 0, got " + gamma);
        this.stepSize = stepSize;
        this.gamma = gamma;
    }

    /** StepLR with PyTorch's default gamma 0.1. */
    public StepLR(Optimizer optimizer, int stepSize) {
        this(optimizer, stepSize, 0.1);
    }

    @Override
    double next(int epoch, double lr) {
        return epoch % stepSize == 0 ? lr * gamma : lr;
    }

    @Override
    public String toString() {
        return "StepLR(stepSize=" + stepSize + ", gamma=" + gamma + ", lastEpoch=" + lastEpoch() + ")";
    }
}
