package io.jdyn.spi;

import io.jdyn.ode.BatchView;

/** Internal: what the backend calls for one evaluation of a field with a time per batch row. */
@FunctionalInterface
public interface SampleFieldInvoker {
    void invoke(BatchView t, BatchView z, BatchView dz);
}
