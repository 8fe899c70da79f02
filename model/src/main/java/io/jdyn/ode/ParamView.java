package io.jdyn.ode;

import io.jdyn.DType;

/**
 * The parameter gradient of a {@link DifferentiableVectorField} during one VJP: {@link #size()}
 * values in the solver's native accumulator, to which the field adds its v^T df/dtheta. No copy is
 * made; a view is valid only during the call that received it. When the engine does not need the
 * parameter gradient, {@link #enabled()} is false and additions are discarded, so a field may skip
 * that work.
 */
public interface ParamView {
    /** The field's {@code numParams()}. */
    int size();

    DType dtype();

    /** Whether additions are kept (false: this VJP only needs gz and the time derivative). */
    boolean enabled();

    /** What has been accumulated at index i so far (0 when not enabled). */
    double get(int i);

    /** Adds value to entry i (rounded to float32 in a float32 solve). */
    void add(int i, double value);
}
