package io.jdyn.models;

import io.jdyn.fn.Fn;
import io.jdyn.fn.Params;
import io.jdyn.fn.Sym;
import java.util.Arrays;
import java.util.Objects;

/**
 * torchdyn's {@code CNF(net, trace_estimator=None, noise_dist=None)}: the vector field of a continuous
 * normalizing flow (FFJORD) on the augmented state [dlogp, z] ([-1, 1 + D]), which it maps to
 * [-tr(df/dz), f(t, z)], torchdyn's layout (the log-density change first). net is an {@link Fn} f of
 * width D to D (it may use t); its parameters are named "net.*", as in torchdyn's state_dict.
 *
 * <p>It is an Fn itself, so {@code NeuralODE.builder(cnf, 1 + D)} compiles f, its trace and (for
 * training) their derivatives into one native program, and every sensitivity, the adjoint included,
 * runs it without coming back to Java. Started at [0, x] at t = 0, the state at t = 1 is
 * [-int tr, z(1)] and log p(x) = log N(z(1); 0, I) - dlogp(1) ({@link CNFDensity}).
 *
 * <p>The trace is exact ({@link TraceEstimator#AUTOGRAD_TRACE}, the default: D reverse passes) or
 * Hutchinson's estimate ({@link TraceEstimator#HUTCH_TRACE}, one pass) with noise from noiseDist,
 * drawn natively from a noise seed parameter ("noise") the model redraws before every solve, so constant
 * within a solve (torchdyn draws {@code noise_dist.sample} once per forward, likewise).
 *
 * <pre>{@code
 * Fn f = (t, z, p) -> p.linear("4", p.linear("2", p.linear("0", z, 64).tanh(), 64).tanh(), 2);
 * try (NeuralODE flow = NeuralODE.builder(new CNF(f), 3).sensitivity("adjoint").build()) { ... }
 * }</pre>
 */
public final class CNF implements Fn {
    /** The noise of Hutchinson's estimator: zero mean, identity covariance. */
    public enum NoiseDist {
        /** Standard normal entries (torchdyn's tutorial: {@code MultivariateNormal(zeros(D), eye(D))}). */
        GAUSSIAN,
        /** +-1 with probability 1/2 each: the same mean, a smaller variance of the estimate. */
        RADEMACHER
    }

    private final Fn net;
    private final TraceEstimator traceEstimator;
    private final NoiseDist noiseDist;

    /** The exact trace (torchdyn's default, {@code autograd_trace}). */
    public CNF(Fn net) {
        this(net, null, null);
    }

    /**
     * net: f, [-1, D] to [-1, D]; traceEstimator: null for {@link TraceEstimator#AUTOGRAD_TRACE};
     * noiseDist: the noise of an estimator that requires it (null: Gaussian, as torchdyn's tutorial);
     * an estimator that needs none takes none.
     */
    public CNF(Fn net, TraceEstimator traceEstimator, NoiseDist noiseDist) {
        this.net = Objects.requireNonNull(net, "net");
        this.traceEstimator = traceEstimator == null ? TraceEstimator.AUTOGRAD_TRACE : traceEstimator;
        if (!this.traceEstimator.requiresNoise() && noiseDist != null) {
            throw new IllegalArgumentException("noise_dist " + noiseDist + " given, but " + this.traceEstimator
                    + " needs no noise");
        }
        this.noiseDist = this.traceEstimator.requiresNoise() && noiseDist == null ? NoiseDist.GAUSSIAN : noiseDist;
    }

    public Fn net() {
        return net;
    }

    public TraceEstimator traceEstimator() {
        return traceEstimator;
    }

    /** The noise of the estimator (null when it needs none). */
    public NoiseDist noiseDist() {
        return noiseDist;
    }

    @Override
    public Sym apply(Sym t, Sym x, Params p) {
        long[] s = x.shape();
        if (s.length != 2 || s[0] != -1 || s[1] < 2) {
            throw new IllegalArgumentException("CNF: the state must be [-1, 1 + D] ([dlogp, z], D >= 1), got "
                    + Arrays.toString(s));
        }
        int d = Math.toIntExact(s[1] - 1);
        Sym z = x.slice(1, 1, d + 1);
        Sym f = net.apply(t, z, p.scope("net"));
        if (f == null || !Arrays.equals(f.shape(), z.shape())) {
            throw new IllegalArgumentException("CNF: the net must map z [-1, " + d + "] to [-1, " + d + "], but it gives "
                    + (f == null ? "null" : Arrays.toString(f.shape())));
        }
        Sym noise = traceEstimator.requiresNoise() ? noise(p, d) : null;
        Sym tr = traceEstimator.trace(f, z, noise);
        return Sym.cat(1, tr.neg(), f);
    }

    /**
     * [-1, D] noise from the noise seed "noise" (declared at the root, beside "net.*"): NeuralODE redraws the
     * seed before every solve and a trace keeps its draw for the backward pass, so the noise is fixed within
     * a solve, as the estimator needs, and new across solves.
     */
    private Sym noise(Params p, int d) {
        Sym seed = p.noiseSeed("noise");
        return noiseDist == NoiseDist.RADEMACHER ? seed.rademacher(-1, d) : seed.randn(-1, d);
    }

    @Override
    public String toString() {
        String n = net.getClass().isHidden() ? "lambda" : net.toString();
        return "CNF(net=" + n + ", trace_estimator=" + traceEstimator
                + (noiseDist == null ? "" : ", noise_dist=" + noiseDist.name().toLowerCase(java.util.Locale.ROOT)) + ")";
    }
}
