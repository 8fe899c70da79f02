package io.jdyn.fn;

import java.util.Objects;

/**
 * A differentiable function of the time t (shape []) and x with named parameters, written with
 * {@link Sym} operations: the vector field of a Neural ODE when x is the state [-1, D] and the result
 * has x's shape. {@link io.jdyn.nn.NeuralField#of(Fn, int, io.jdyn.DType, long)} compiles one into a
 * native program that every solver and sensitivity runs without an upcall.
 *
 * <pre>{@code
 * Fn f = Fn.of((t, x, p) -> p.linear("2", p.linear("0", x, 64).tanh(), 2));
 * }</pre>
 *
 * <p>Every {@link io.jdyn.nn.Layer} and {@link io.jdyn.nn.Sequential} is an Fn too.
 */
@FunctionalInterface
public interface Fn {
    /** Adds the nodes of f(t, x) to x's graph, declaring parameters through p, and returns the result. */
    Sym apply(Sym t, Sym x, Params p);

    /** The lambda itself (so a lambda can be written where an Fn is expected without a cast). */
    static Fn of(Fn f) {
        return Objects.requireNonNull(f, "f");
    }

    /**
     * g after this: g(t, this(t, x)). Both declare their parameters in the same Params, so their names
     * must differ (use {@link io.jdyn.nn.Sequential} to number layers).
     */
    default Fn andThen(Fn g) {
        Objects.requireNonNull(g, "g");
        Fn self = this;
        return (t, x, p) -> g.apply(t, self.apply(t, x, p), p);
    }
}
