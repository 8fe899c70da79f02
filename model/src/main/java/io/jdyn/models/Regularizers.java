package io.jdyn.models;

import io.jdyn.fn.Graph;
import io.jdyn.fn.Sym;
import java.util.List;

/**
 * The regularisers of Finlay et al., "How to train your neural ODE" (RNODE, 2020), as integral losses
 * ({@link NeuralODE.Builder#integralLoss}): they penalise dynamics that are costly to solve, so a model
 * trained with them takes fewer steps at equal accuracy. Per sample; weight them with
 * {@link IntegralCost#times} (the paper's lambda, 0.01 to 0.1 on toy problems).
 */
public final class Regularizers {
    private Regularizers() {}

    /** The kinetic energy |f(t, z)|^2 (RNODE's transport cost). */
    public static IntegralCost kineticEnergy() {
        return (t, z, dz, p) -> dz.square().sum(-1, true);
    }

    /**
     * The Jacobian's squared Frobenius norm |df/dz|_F^2 by Hutchinson's estimator |eps^T df/dz|^2 with
     * eps ~ N(0, I) per sample, drawn anew for every solve and fixed within it (one VJP per evaluation,
     * whatever the width). Declares the noise seed parameter "jacobian_noise".
     */
    public static IntegralCost jacobianFrobenius() {
        return (t, z, dz, p) -> {
            Sym eps = p.noiseSeed("jacobian_noise").randn(-1, z.size(-1));
            Sym ej = p.graph().vjp(List.of(dz), List.of(eps), List.of(z)).get(0);
            return ej.square().sum(-1, true);
        };
    }

    /** |df/dz|_F^2 exactly, by one VJP per state dimension (for small widths, and to check the estimator). */
    public static IntegralCost jacobianFrobeniusExact() {
        return (t, z, dz, p) -> {
            int d = Math.toIntExact(z.size(-1));
            Graph g = p.graph();
            Sym total = null;
            for (int i = 0; i < d; i++) {
                double[] e = new double[d];
                e[i] = 1;
                Sym row = g.vjp(List.of(dz), List.of(g.constant(e, d).broadcastTo(-1, d)), List.of(z)).get(0);
                Sym sq = row.square().sum(-1, true);
                total = total == null ? sq : total.add(sq);
            }
            return total;
        };
    }
}
