package io.jdyn.ode;

/**
 * A vector field written in Java: writes dz = f(t, z) for every row of the batch. The engine calls
 * it once per evaluation, from native code (an upcall). This is the flexible path; a native layer
 * program is the fast one. Exceptions thrown here abort the solve and reach the caller wrapped in a
 * {@link VectorFieldException}.
 */
@FunctionalInterface
public interface VectorField {
    void evaluate(double t, BatchView z, BatchView dz);
}
