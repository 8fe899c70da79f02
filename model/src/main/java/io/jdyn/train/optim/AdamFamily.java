package io.jdyn.train.optim;

import io.jdyn.nn.Parameters;
import java.util.Objects;
import java.util.function.Function;

/**
 * What {@link Adam} and {@link AdamW} share: the moment estimates, the bias correction, the
 * settings and their builder. They differ only in how weight decay applies (added to the gradient,
 * or decoupled) and in its default.
 */
public abstract sealed class AdamFamily implements Optimizer permits Adam, AdamW {
    final AdamCore core;
    private final String name;

    AdamFamily(String name, Builder<?> b, boolean decoupled) {
        this.name = name;
        this.core = new AdamCore(b.params, b.lr, b.beta1, b.beta2, b.eps, b.weightDecay, decoupled);
    }

    @Override
    public void step() {
        core.step("this " + name + " optimizer");
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
        return core.describe(name);
    }

    /** Settings with PyTorch's defaults (lr 1e-3, betas (0.9, 0.999), eps 1e-8) and the variant's decay. */
    public static final class Builder<O extends AdamFamily> {
        private final Parameters params;
        private final Function<Builder<O>, O> factory;
        private double lr = 1e-3;
        private double beta1 = 0.9;
        private double beta2 = 0.999;
        private double eps = 1e-8;
        private double weightDecay;

        Builder(Parameters params, double weightDecay, Function<Builder<O>, O> factory) {
            this.params = Objects.requireNonNull(params, "params");
            this.weightDecay = weightDecay;
            this.factory = factory;
        }

        public Builder<O> lr(double lr) {
            this.lr = ParamBlocks.checkLr(lr);
            return this;
        }

        /** The decay rates of the first and second moment estimates, each in [0, 1). */
        public Builder<O> betas(double beta1, double beta2) {
            AdamCore.checkBeta("beta1", beta1);
            AdamCore.checkBeta("beta2", beta2);
            this.beta1 = beta1;
            this.beta2 = beta2;
            return this;
        }

        public Builder<O> eps(double eps) {
            if (!(eps >= 0) || Double.isInfinite(eps)) throw new IllegalArgumentException("eps must be finite and >= 0, got " + eps);
            this.eps = eps;
            return this;
        }

        public Builder<O> weightDecay(double weightDecay) {
            if (!(weightDecay >= 0) || Double.isInfinite(weightDecay)) {
                throw new IllegalArgumentException("weightDecay must be finite and >= 0, got " + weightDecay);
            }
            this.weightDecay = weightDecay;
            return this;
        }

        public O build() {
            return factory.apply(this);
        }
    }
}
