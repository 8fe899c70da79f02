package io.jdyn.ode;

/**
 * A running cost l(t, z) whose integral over the solve joins the loss (torchdyn's
 * {@code integral_loss}): returns l summed over the batch and writes dl/dz [batch, dim] into
 * gradOut (every entry). Called from the native engine during the forward and the backward pass.
 * Autograd also needs dl/dt, which this interface does not return: it takes it by a central difference
 * in t of value (two more calls per stage of the backward pass, about 1e-10 relative for a smooth l).
 * A cost written as a program ({@link io.jdyn.models.IntegralCost}) is differentiated exactly, in t too.
 */
@FunctionalInterface
public interface IntegralLoss {
    double value(double t, BatchView z, BatchView gradOut);
}
