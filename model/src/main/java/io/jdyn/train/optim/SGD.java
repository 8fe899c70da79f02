package io.jdyn.train.optim;

import io.jdyn.nn.Parameters;

/**
 * Stochastic gradient descent with PyTorch's torch.optim.SGD rule: g += weightDecay * p; with
 * momentum, buf = g on a layer's first step, else momentum * buf + (1 - dampening) * g, and g = g +
 * momentum * buf (nesterov) or buf; p -= lr * g. Defaults as PyTorch's: lr 1e-3, momentum 0,
 * dampening 0, weightDecay 0, nesterov off. Frozen layers are skipped.
 */
public final class SGD implements Optimizer {
    private final ParamBlocks blocks;
    private final double momentum;
    private final double dampening;
    private final double weightDecay;
    private final boolean nesterov;

    private SGD(Builder b) {
        this.momentum = b.momentum;
        this.dampening = b.dampening;
        this.weightDecay = b.weightDecay;
        this.nesterov = b.nesterov;
        this.blocks = new ParamBlocks(b.params, b.lr, momentum != 0 ? 1 : 0);
    }

    public static Builder builder(Parameters params) {
        return new Builder(params);
    }

    /** Plain SGD with the given learning rate. */
    public static SGD of(Parameters params, double lr) {
        return builder(params).lr(lr).build();
    }

    @Override
    public void step() {
        blocks.requireOpen("this SGD optimizer");
        if (!blocks.hasParams()) return;
        var p = blocks.params;
        for (int layer : blocks.active()) {
            long next = blocks.steps[layer] + 1;
            NonFiniteGradientException.translate(() -> blocks.backend.sgdStep(p.values().nativeBuffer(),
                    p.grad().nativeBuffer(), momentum != 0 ? blocks.state(0) : null, p.offset(layer), p.count(layer),
                    next, blocks.lr(), momentum, dampening, weightDecay, nesterov));
            blocks.steps[layer] = next;
        }
    }

    @Override
    public void zeroGrad() {
        blocks.params.zeroGrad();
    }

    @Override
    public double lr() {
        return blocks.lr();
    }

    @Override
    public void setLr(double lr) {
        blocks.setLr(lr);
    }

    public double momentum() {
        return momentum;
    }

    public double dampening() {
        return dampening;
    }

    public double weightDecay() {
        return weightDecay;
    }

    public boolean nesterov() {
        return nesterov;
    }

    @Override
    public void close() {
        blocks.close();
    }

    @Override
    public String toString() {
        return "SGD(lr=" + lr() + ", momentum=" + momentum + ", dampening=" + dampening + ", weightDecay="
                + weightDecay + ", nesterov=" + nesterov + ")";
    }

    public static final class Builder {
        private final Parameters params;
        private double lr = 1e-3;
        private double momentum;
        private double dampening;
        private double weightDecay;
        private boolean nesterov;

        private Builder(Parameters params) {
            this.params = java.util.Objects.requireNonNull(params, "params");
        }

        public Builder lr(double lr) {
            this.lr = ParamBlocks.checkLr(lr);
            return this;
        }

        public Builder momentum(double momentum) {
            if (!(momentum >= 0) || Double.isInfinite(momentum)) {
                throw new IllegalArgumentException("momentum must be finite and >= 0, got " + momentum);
            }
            this.momentum = momentum;
            return this;
        }

        public Builder dampening(double dampening) {
            if (!Double.isFinite(dampening)) throw new IllegalArgumentException("dampening must be finite, got " + dampening);
            this.dampening = dampening;
            return this;
        }

        public Builder weightDecay(double weightDecay) {
            if (!(weightDecay >= 0) || Double.isInfinite(weightDecay)) {
                throw new IllegalArgumentException("weightDecay must be finite and >= 0, got " + weightDecay);
            }
            this.weightDecay = weightDecay;
            return this;
        }

        public Builder nesterov(boolean nesterov) {
            this.nesterov = nesterov;
            return this;
        }

        public SGD build() {
            if (nesterov && (momentum <= 0 || dampening != 0)) {
                throw new IllegalArgumentException("nesterov momentum requires momentum > 0 and dampening = 0, got momentum "
                        + momentum + " and dampening " + dampening);
            }
            return new SGD(this);
        }
    }
}
