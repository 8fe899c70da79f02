package io.jdyn.train.optim;

import io.jdyn.nn.Parameters;

/**
 * Adam (torch.optim.Adam): L2 weight decay added to the gradient (g += weightDecay * p), then
 * m = beta1 m + (1 - beta1) g, v = beta2 v + (1 - beta2) g^2, and p -= lr / (1 - beta1^t) * m /
 * (sqrt(v) / sqrt(1 - beta2^t) + eps) with t the layer's step count (bias correction). Defaults as
 * PyTorch's: lr 1e-3, betas (0.9, 0.999), eps 1e-8, weightDecay 0. Frozen layers are skipped.
 */
public final class Adam implements Optimizer {
    private final AdamCore core;

    private Adam(Builder b) {
        this.core = new AdamCore(b.params, b.lr, b.beta1, b.beta2, b.eps, b.weightDecay, false);
    }

    public static Builder builder(Parameters params) {
        return new Builder(params);
    }

    /** Adam with PyTorch's defaults and the given learning rate. */
    public static Adam of(Parameters params, double lr) {
        return builder(params).lr(lr).build();
    }

    @Override
    public void step() {
        core.step("this Adam optimizer");
    }

    @Override
    public void zeroGrad() {
        core.blocks.params.zeroGrad();
    }

    @Override
    public double lr() {
        return core.blocks.lr();
    }

    @Override
    public void setLr(double lr) {
        core.blocks.setLr(lr);
    }

    public double beta1() {
        return core.beta1;
    }

    public double beta2() {
        return core.beta2;
    }

    public double eps() {
        return core.eps;
    }

    public double weightDecay() {
        return core.weightDecay;
    }

    @Override
    public void close() {
        core.blocks.close();
    }

    @Override
    public String toString() {
        return core.describe("Adam");
    }

    public static final class Builder {
        private final Parameters params;
        private double lr = 1e-3;
        private double beta1 = 0.9;
        private double beta2 = 0.999;
        private double eps = 1e-8;
        private double weightDecay = 0;

        private Builder(Parameters params) {
            this.params = java.util.Objects.requireNonNull(params, "params");
        }

        public Builder lr(double lr) {
            this.lr = ParamBlocks.checkLr(lr);
            return this;
        }

        /** The decay rates of the first and second moment estimates, each in [0, 1). */
        public Builder betas(double beta1, double beta2) {
            AdamCore.checkBeta("beta1", beta1);
            AdamCore.checkBeta("beta2", beta2);
            this.beta1 = beta1;
            this.beta2 = beta2;
            return this;
        }

        public Builder eps(double eps) {
            if (!(eps >= 0) || Double.isInfinite(eps)) throw new IllegalArgumentException("eps must be finite and >= 0, got " + eps);
            this.eps = eps;
            return this;
        }

        public Builder weightDecay(double weightDecay) {
            if (!(weightDecay >= 0) || Double.isInfinite(weightDecay)) {
                throw new IllegalArgumentException("weightDecay must be finite and >= 0, got " + weightDecay);
            }
            this.weightDecay = weightDecay;
            return this;
        }

        public Adam build() {
            return new Adam(this);
        }
    }
}
