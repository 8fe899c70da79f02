package io.jdyn.train.optim;

/**
 * Cosine annealing from the base lr down to etaMin over tMax epochs
 * (torch.optim.lr_scheduler.CosineAnnealingLR): lr at epoch e is etaMin + (baseLr - etaMin) (1 +
 * cos(pi e / tMax)) / 2 when nothing else changes it; beyond tMax it rises again (period 2 tMax). Each
 * step uses PyTorch's recursive form on the optimizer's current lr.
 */
public final class CosineAnnealingLR extends EpochScheduler {
    private final int tMax;
    private final double etaMin;

    public CosineAnnealingLR(Optimizer optimizer, int tMax, double etaMin) {
        super(optimizer);
        if (tMax < 1) throw new IllegalArgumentException("tMax must be >= 1, got " + tMax);
        if (!(etaMin >= 0) || Double.isInfinite(etaMin)) {
            throw new IllegalArgumentException("etaMin must be finite and >= 0, got " + etaMin);
        }
        this.tMax = tMax;
        this.etaMin = etaMin;
    }

    /** CosineAnnealingLR with PyTorch's default etaMin 0. */
    public CosineAnnealingLR(Optimizer optimizer, int tMax) {
        this(optimizer, tMax, 0.0);
    }

    @Override
    double next(int epoch, double cur) {
        double lr;
        if (Math.floorMod(epoch - 1 - tMax, 2 * tMax) == 0) {
            lr = cur + (baseLr() - etaMin) * (1 - Math.cos(Math.PI / tMax)) / 2;
        } else {
            lr = (1 + Math.cos(Math.PI * epoch / tMax)) / (1 + Math.cos(Math.PI * (epoch - 1) / tMax))
                    * (cur - etaMin) + etaMin;
        }
        // Rounding can take the recursive form a hair below zero at etaMin = 0.
        return Math.max(lr, 0);
    }

    @Override
    public String toString() {
        return "CosineAnnealingLR(tMax=" + tMax + ", etaMin=" + etaMin + ", lastEpoch=" + lastEpoch() + ")";
    }
}
