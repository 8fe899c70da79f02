package io.jdyn.ode;

/** g(t, z): one value for the whole batch; an event happens where it crosses zero. */
@FunctionalInterface
public interface EventFunction {
    double value(double t, BatchView z);
}
