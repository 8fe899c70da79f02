package io.jdyn.ode;

/**
 * A vector field with a time per batch row, for per-sample solves ({@link Odeint#odeintPerSample}):
 * writes dz[b] = f(t[b], z[b]) for every row b. t is a [batch, 1] float64 view. Rows are never
 * reordered or dropped, so row b is always y0's row b and a field may index per-row data by b (rows
 * that have finished ride along at their end time; their results are discarded). The engine calls it
 * once per evaluation of the batch, from native code.
 */
@FunctionalInterface
public interface SampleVectorField {
    void evaluate(BatchView t, BatchView z, BatchView dz);
}
