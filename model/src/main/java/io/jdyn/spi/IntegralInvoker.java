package io.jdyn.spi;

import io.jdyn.ode.BatchView;

/** Internal: what the backend calls for one evaluation of an integral loss: returns l, writes dl/dz. */
@FunctionalInterface
public interface IntegralInvoker {
    double invoke(double t, BatchView z, BatchView gradOut);
}
