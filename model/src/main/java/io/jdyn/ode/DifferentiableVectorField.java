package io.jdyn.ode;

/**
 * A vector field written in Java that also supplies its vector-Jacobian product, so that solves of
 * it can be differentiated ({@link Odeint#odeint(DifferentiableVectorField, io.jdyn.Tensor, double[],
 * SolveOptions, GradOptions)}) with every {@link Sensitivity}. Its parameters theta (numParams of
 * them) are the field's own business; their gradient dL/dtheta comes back in {@link Gradients#params()}.
 * The parameters must not change between a forward solve and its backward pass.
 *
 * <p>Both methods are upcalls from the native engine, one per evaluation of the whole batch: the
 * flexible, slower path (a {@link io.jdyn.nn.NeuralField} runs natively). An exception thrown here
 * ends the solve or the backward pass with a {@link VectorFieldException}.
 */
public interface DifferentiableVectorField extends VectorField {
    /** The number of parameters theta (0 for none). */
    int numParams();

    /**
     * The vector-Jacobian products for a cotangent v [batch, dim] of the output f(t, z):
     * <ul>
     *   <li>writes gz = v^T df/dz [batch, dim] (every entry: gz holds no meaningful values on entry);
     *   <li>adds v^T df/dtheta, summed over the batch, into gparams (see {@link ParamView#enabled()});
     *   <li>returns v^T df/dt summed over the batch (0 for an autonomous field; ignored where the engine
     *       does not need it).
     * </ul>
     * A return value was chosen over an output array for df/dt: it is one number, always defined.
     */
    double vjp(double t, BatchView z, BatchView v, BatchView gz, ParamView gparams);
}
