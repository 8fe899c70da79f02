package io.jdyn.ode;

/**
 * A running cost l(t, z) whose integral over the solve joins the loss (torchdyn's
 * {@code integral_loss}): returns l summed over the batch and writes dl/dz [batch, dim] into
 * gradOut (every entry). Called from the native engine during the forward and the backward pass.
 */
@FunctionalInterface
public interface IntegralLoss {
    double value(double t, BatchView z, BatchView gradOut);
}
