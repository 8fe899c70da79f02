package io.jdyn.models;

import io.jdyn.fn.Params;
import io.jdyn.fn.Sym;

/**
 * torchdyn's {@code integral_loss} as a program: a running cost l(t, z) whose integral over the solve
 * joins the loss ({@link NeuralODE.Builder#integralLoss}). It is compiled into the field's own native
 * program, so every sensitivity differentiates it in z, in the parameters and in t (the time
 * derivative that a Java {@link io.jdyn.ode.IntegralLoss} callback cannot give autograd).
 *
 * <p>{@code apply} receives the time, the state z [-1, dim], the field's value dz = f(t, z) at it (the
 * same nodes the field computes, shared, so a cost on dz costs no second evaluation), and the
 * parameters (a cost may declare its own, e.g. a {@link Params#noiseSeed}). It returns either one cost
 * per sample, shape [-1, 1] or [-1], or one cost for the whole batch, shape [] or [1].
 */
@FunctionalInterface
public interface IntegralCost {
    Sym apply(Sym t, Sym z, Sym dz, Params p);

    /** This cost times weight (a regulariser's lambda). */
    default IntegralCost times(double weight) {
        if (!Double.isFinite(weight)) throw new IllegalArgumentException("weight must be finite, got " + weight);
        IntegralCost self = this;
        return (t, z, dz, p) -> self.apply(t, z, dz, p).mul(weight);
    }

    /** The sum of this cost and other (both per sample, or both for the batch). */
    default IntegralCost plus(IntegralCost other) {
        java.util.Objects.requireNonNull(other, "other");
        IntegralCost self = this;
        return (t, z, dz, p) -> self.apply(t, z, dz, p).add(other.apply(t, z, dz, p));
    }
}
