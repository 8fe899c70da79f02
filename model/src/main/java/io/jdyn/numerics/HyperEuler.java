package io.jdyn.numerics;

import io.jdyn.fn.Fn;
import io.jdyn.ode.Method;

/** torchdyn's HyperEuler: explicit Euler (one stage, order 1) corrected by eps^2 g. */
public final class HyperEuler extends HyperSolver {
    public HyperEuler(Fn hypernet) {
        super(hypernet, Method.EULER, new double[] {0}, new double[][] {{}}, new double[] {1});
    }

    @Override
    public String torchName() {
        return "HyperEuler";
    }
}
