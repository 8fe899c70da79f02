package io.jdyn.numerics;

import io.jdyn.fn.Fn;
import io.jdyn.ode.Method;

/** torchdyn's HyperMidpoint: the explicit midpoint rule (two stages, order 2) corrected by eps^3 g. */
public final class HyperMidpoint extends HyperSolver {
    public HyperMidpoint(Fn hypernet) {
        super(hypernet, Method.MIDPOINT, new double[] {0, 0.5}, new double[][] {{}, {0.5}}, new double[] {0, 1});
    }

    @Override
    public String torchName() {
        return "HyperMidpoint";
    }
}
