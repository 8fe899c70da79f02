package io.jdyn.models;

import io.jdyn.fn.Fn;
import io.jdyn.fn.Graph;
import io.jdyn.fn.Params;
import io.jdyn.fn.Sym;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * A Lagrangian neural network's vector field (torchdyn's {@code LNN(net)}; Cranmer et al., 2020): the
 * state is x = [q, qdot] ([-1, 2n]), the net maps it to a Lagrangian L per row ([-1, 1]), and the
 * field is [qdot, qddot] with the Euler-Lagrange equations solved for the acceleration:
 *
 * <pre>
 *   qddot = (d2L/dqdot2)^-1 (dL/dq - d2L/(dqdot dq) qdot)
 * </pre>
 *
 * <p>Everything is one native program: grad L is a VJP; the mixed term is one JVP of dL/dqdot along
 * [qdot, 0]; the mass matrix d2L/dqdot2 is n JVPs along the unit velocity directions; the system is
 * solved per batch row by the graph's SOLVE op (LU with partial pivoting, differentiable to any order),
 * not by a pseudo-inverse as torchdyn does. A learned L whose mass matrix is singular at a state fails
 * the evaluation with a message naming SOLVE and the batch row.
 */
public final class LNN implements Fn {
    private final Fn net;

    /** The field of the Lagrangian net (state [-1, 2n] to L [-1, 1]). */
    public LNN(Fn net) {
        this.net = Objects.requireNonNull(net, "net");
    }

    /** The Lagrangian network. */
    public Fn net() {
        return net;
    }

    /** L(t, x): the net's output, [-1, 1]. */
    public Sym lagrangian(Sym t, Sym x, Params p) {
        return EnergyFields.energy("LNN", "a Lagrangian L", net.apply(t, x, p));
    }

    @Override
    public Sym apply(Sym t, Sym x, Params p) {
        return field(x, lagrangian(t, x, p));
    }

    /**
     * [qdot, qddot] for the state x [-1, 2n] and a Lagrangian l computed from it (one value per row,
     * [-1, 1]): the Euler-Lagrange field of any Lagrangian built in x's graph (the Python shim's LNN traces
     * its net, then calls this).
     */
    public static Sym field(Sym x, Sym l) {
        int n = EnergyFields.halfWidth("LNN", x);
        Graph g = x.graph();
        Sym dl = Graph.grad(EnergyFields.energy("LNN", "a Lagrangian L", l), x); // [dL/dq, dL/dqdot]
        Sym qdot = x.slice(1, n, 2 * n);
        Sym zeros = qdot.zerosLike();
        // d2L/(dqdot dq) qdot: the derivative of dL/dqdot along [qdot, 0].
        Sym mixed = jvpRows(g, x, Sym.cat(1, qdot, zeros), dl).slice(1, n, 2 * n);
        // Column j of the mass matrix: the derivative of dL/dqdot along the unit velocity e_j.
        List<Sym> columns = new ArrayList<>(n);
        for (int j = 0; j < n; j++) {
            double[] e = new double[2 * n];
            e[n + j] = 1;
            Sym dir = g.constant(e, 2 * n).broadcastTo(-1, 2 * n);
            columns.add(jvpRows(g, x, dir, dl).slice(1, n, 2 * n));
        }
        Sym mass = Sym.stack(2, columns); // [-1, n, n]: mass[b, i, j] = d2L / dqdot_i dqdot_j
        Sym rhs = dl.slice(1, 0, n).sub(mixed).reshape(-1, n, 1);
        Sym qddot = mass.solve(rhs).reshape(-1, n);
        return Sym.cat(1, qdot, qddot);
    }

    private static Sym jvpRows(Graph g, Sym x, Sym tangent, Sym out) {
        return g.jvp(List.of(x), List.of(tangent), List.of(out)).get(0);
    }

    @Override
    public String toString() {
        return "LNN(" + net + ")";
    }
}
