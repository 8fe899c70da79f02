package io.jdyn.ode;

import io.jdyn.Tensor;
import java.util.Optional;

/**
 * What one backward pass gives: dL/dy0 (shaped as y0), dL/dt for every output time, dL/dtheta, and
 * the statistics of the backward and of the forward pass. Owned by its {@link GradSolution} and
 * closed with it (closing it earlier is fine).
 *
 * <p>dL/dtheta: for a {@link io.jdyn.nn.NeuralField} the backward pass accumulated it into the
 * field's {@code parameters().grad()} (as PyTorch's {@code .grad}), and {@link #params()} returns
 * that tensor, which stays the field's; for a {@link DifferentiableVectorField} it is a tensor of this
 * pass's gradient alone, owned here. Empty when the field has no parameters.
 */
public final class Gradients implements AutoCloseable {
    private final Tensor y0;
    private final double[] times;
    private final Tensor params;
    private final boolean ownsParams;
    private final BackwardStats backwardStats;
    private final SolveStats forwardStats;

    Gradients(Tensor y0, double[] times, Tensor params, boolean ownsParams, BackwardStats backwardStats,
            SolveStats forwardStats) {
        this.y0 = y0;
        this.times = times;
        this.params = params;
        this.ownsParams = ownsParams;
        this.backwardStats = backwardStats;
        this.forwardStats = forwardStats;
    }

    /** dL/dy0, shaped as y0. */
    public Tensor y0() {
        return y0;
    }

    /** dL/dt_k for every output time t_k (t_0 included). */
    public double[] times() {
        return times.clone();
    }

    /** dL/dtheta (see the class comment for who owns it). */
    public Optional<Tensor> params() {
        return Optional.ofNullable(params);
    }

    public BackwardStats backwardStats() {
        return backwardStats;
    }

    public SolveStats forwardStats() {
        return forwardStats;
    }

    @Override
    public void close() {
        y0.close();
        if (ownsParams && params != null) params.close();
    }

    @Override
    public String toString() {
        return "Gradients(" + backwardStats + "; forward " + forwardStats + ")";
    }
}
