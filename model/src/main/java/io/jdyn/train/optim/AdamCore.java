package io.jdyn.train.optim;

import io.jdyn.nn.Parameters;

/** The shared body of {@link Adam} and {@link AdamW}: the state (exp_avg, exp_avg_sq, steps) and the step. */
final class AdamCore {
    final ParamBlocks blocks;
    final double beta1;
    final double beta2;
    final double eps;
    final double weightDecay;
    final boolean decoupled;

    AdamCore(Parameters params, double lr, double beta1, double beta2, double eps, double weightDecay,
            boolean decoupled) {
        checkBeta("beta1", beta1);
        checkBeta("beta2", beta2);
        if (!(eps >= 0) || Double.isInfinite(eps)) throw new IllegalArgumentException("eps must be finite and >= 0, got " + eps);
        if (!(weightDecay >= 0) || Double.isInfinite(weightDecay)) {
            throw new IllegalArgumentException("weightDecay must be finite and >= 0, got " + weightDecay);
        }
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
        this.weightDecay = weightDecay;
        this.decoupled = decoupled;
        this.blocks = new ParamBlocks(params, lr, 2);
    }

    static void checkBeta(String name, double beta) {
        if (!(beta >= 0 && beta < 1)) throw new IllegalArgumentException(name + " must be in [0, 1), got " + beta);
    }

    void step(String what) {
        blocks.requireOpen(what);
        if (!blocks.hasParams()) return;
        var p = blocks.params;
        for (int layer : blocks.active()) {
            long next = blocks.steps[layer] + 1;
            NonFiniteGradientException.translate(() -> blocks.backend.adamStep(p.values().nativeBuffer(),
                    p.grad().nativeBuffer(), blocks.state(0), blocks.state(1), p.offset(layer), p.count(layer), next,
                    blocks.lr(), beta1, beta2, eps, weightDecay, decoupled));
            blocks.steps[layer] = next;
        }
    }

    String describe(String name) {
        return name + "(lr=" + blocks.lr() + ", betas=(" + beta1 + ", " + beta2 + "), eps=" + eps + ", weightDecay="
                + weightDecay + ")";
    }
}
