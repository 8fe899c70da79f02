package io.jdyn.spark;

import io.jdyn.ode.Method;
import io.jdyn.ode.SolveOptions;
import java.io.Serializable;

/**
 * The solve settings of an ensemble, in a form Spark can ship (SolveOptions is not serialisable):
 * solver by torchdyn's name, tolerances, an optional fixed step, an optional step cap, and
 * {@link SolveOptions#perSample()} (each batch row its own adaptive steps, where the native engine
 * implements it; see {@link #perSample(boolean)}).
 */
public record SolveSpec(String solver, double rtol, double atol, double dt, long maxSteps, boolean perSample)
        implements Serializable {
    public SolveSpec {
        Method.of(solver); // refuses an unknown name here, on the driver
        if (!(rtol > 0) || !(atol > 0)) throw new IllegalArgumentException("rtol and atol must be > 0, got " + rtol + ", " + atol);
        if (!Double.isNaN(dt) && !(dt > 0 && Double.isFinite(dt))) throw new IllegalArgumentException("dt must be > 0, got " + dt);
        if (maxSteps < 0) throw new IllegalArgumentException("maxSteps must be >= 0 (0: the default), got " + maxSteps);
    }

    /** An adaptive solver at rtol and atol. */
    public static SolveSpec adaptive(String solver, double rtol, double atol) {
        return new SolveSpec(solver, rtol, atol, Double.NaN, 0, false);
    }

    /** Fixed steps of size dt. */
    public static SolveSpec fixed(String solver, double dt) {
        return new SolveSpec(solver, 1e-6, 1e-6, dt, 0, false);
    }

    /**
     * The same settings with SolveOptions.perSample: handed to every native solve, so that when the
     * engine steps each row on its own a partition's batch solve gives each item its own steps (until
     * then, {@link Ensemble.Options#itemsPerSolve(int)} 1 does).
     */
    public SolveSpec perSample(boolean own) {
        return new SolveSpec(solver, rtol, atol, dt, maxSteps, own);
    }

    /** The options of one solve evaluated at times t (a fixed-step solver without dt steps on t). */
    SolveOptions options(double[] t) {
        SolveOptions.Builder b = SolveOptions.builder().method(solver).rtol(rtol).atol(atol);
        if (!Double.isNaN(dt)) b.dt(dt);
        else if (!Method.of(solver).isAdaptive()) b.grid(t);
        if (maxSteps > 0) b.maxSteps(maxSteps);
        return b.perSample(perSample).build();
    }
}
