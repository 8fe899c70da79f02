package io.jdyn.spi;

import io.jdyn.ode.BatchView;

/** Internal: what the backend calls for one evaluation of an event function. */
@FunctionalInterface
public interface EventInvoker {
    double invoke(double t, BatchView z);
}
