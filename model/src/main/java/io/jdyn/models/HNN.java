package io.jdyn.models;

import io.jdyn.fn.Fn;
import io.jdyn.fn.Graph;
import io.jdyn.fn.Params;
import io.jdyn.fn.Sym;
import java.util.Objects;

/**
 * A Hamiltonian neural network's vector field (torchdyn's {@code HNN(net)}; Greydanus et al., 2019): the
 * state is x = [q, p] ([-1, 2n]), the net maps it to an energy H per row ([-1, 1]), and the field is
 * J grad H = [dH/dp, -dH/dq]. The gradient is part of the same native program ({@link Graph#grad}: the
 * VJP's nodes), so the field compiles like any {@link Fn} and trains with every sensitivity, whose own
 * derivatives differentiate the gradient again.
 *
 * <pre>{@code
 * Fn h = Sequential.of(new Linear(2, 64), new Tanh(), new Linear(64, 1));
 * try (NeuralODE model = NeuralODE.builder(new HNN(h), 2).sensitivity("adjoint").build()) { ... }
 * }</pre>
 */
public final class HNN implements Fn {
    private final Fn net;

    /** The field of the Hamiltonian net (state [-1, 2n] to H [-1, 1]). */
    public HNN(Fn net) {
        this.net = Objects.requireNonNull(net, "net");
    }

    /** The Hamiltonian network. */
    public Fn net() {
        return net;
    }

    /** H(t, x): the net's output, [-1, 1]. */
    public Sym hamiltonian(Sym t, Sym x, Params p) {
        return EnergyFields.energy("HNN", "an energy H", net.apply(t, x, p));
    }

    @Override
    public Sym apply(Sym t, Sym x, Params p) {
        return field(x, hamiltonian(t, x, p));
    }

    /**
     * J grad H for the state x [-1, 2n] and an energy h computed from it (one value per row, [-1, 1]): the
     * field of any Hamiltonian built in x's graph (the Python shim's HNN traces its net, then calls this).
     */
    public static Sym field(Sym x, Sym h) {
        int n = EnergyFields.halfWidth("HNN", x);
        Sym dh = Graph.grad(EnergyFields.energy("HNN", "an energy H", h), x); // [dH/dq, dH/dp]; rows independent
        return Sym.cat(1, dh.slice(1, n, 2 * n), dh.slice(1, 0, n).neg());
    }

    @Override
    public String toString() {
        return "HNN(" + net + ")";
    }
}
