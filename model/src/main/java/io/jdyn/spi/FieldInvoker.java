package io.jdyn.spi;

import io.jdyn.ode.BatchView;

/** Internal: what the backend calls for one evaluation of a Java-written vector field. */
@FunctionalInterface
public interface FieldInvoker {
    void invoke(double t, BatchView z, BatchView dz);
}
