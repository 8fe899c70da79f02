package io.jdyn.spi;

import io.jdyn.DType;
import io.jdyn.ode.SolveOptions;

/**
 * Internal: the one description of a solve below the public API: the caller's immutable
 * {@link SolveOptions}, resolved for this call by the output times and the state's dtype, batch and
 * width (checked by the API). The backend writes {@code jdyn_solve_config} from it, in one place;
 * nothing copies the options' fields on the way there.
 */
public record SolveSpec(SolveOptions options, double[] times, DType dtype, long batch, long dim) {
    /** Values in one state: batch * dim. */
    public long perState() {
        return batch * dim;
    }
}
