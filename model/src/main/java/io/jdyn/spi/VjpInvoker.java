package io.jdyn.spi;

import io.jdyn.ode.BatchView;
import io.jdyn.ode.ParamView;

/**
 * Internal: what the backend calls for one vector-Jacobian product of a Java-written differentiable
 * field: writes gz = v^T df/dz, adds v^T df/dtheta into gparams and returns v^T df/dt.
 */
@FunctionalInterface
public interface VjpInvoker {
    double invoke(double t, BatchView z, BatchView v, BatchView gz, ParamView gparams);
}
