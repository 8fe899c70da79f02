package io.jdyn.numerics;

import io.jdyn.fn.Fn;
import io.jdyn.ode.Method;

/**
 * torchdyn's HyperRungeKutta4 (the brief's HyperRK4): the classic fourth-order Runge-Kutta rule (four
 * stages, the engine's "rk4" tableau) corrected by eps^5 g.
 */
public final class HyperRungeKutta4 extends HyperSolver {
    public HyperRungeKutta4(Fn hypernet) {
        super(hypernet, Method.RK4, new double[] {0, 0.5, 0.5, 1},
                new double[][] {{}, {0.5}, {0, 0.5}, {0, 0, 1}}, new double[] {1.0 / 6, 1.0 / 3, 1.0 / 3, 1.0 / 6});
    }

    @Override
    public String torchName() {
        return "HyperRungeKutta4";
    }
}
