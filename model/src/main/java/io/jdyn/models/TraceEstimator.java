package io.jdyn.models;

import io.jdyn.fn.Graph;
import io.jdyn.fn.Sym;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * How a {@link CNF} gets tr(d out / d in) per sample, as nodes of the field's own graph (so the trace is
 * part of the one native program and is differentiated again by every sensitivity). torchdyn's
 * {@code trace_estimator} functions: {@link #AUTOGRAD_TRACE} (exact, D reverse passes) and
 * {@link #HUTCH_TRACE} (Hutchinson's unbiased estimate eps^T (d out / d in) eps, one reverse pass).
 */
public interface TraceEstimator {
    /**
     * The trace (or its estimate) per sample, shape [-1, 1]. out is [-1, D], a function of in [-1, D];
     * noise is [-1, D] for an estimator that {@link #requiresNoise()}, else null.
     */
    Sym trace(Sym out, Sym in, Sym noise);

    /** Whether the estimator needs a noise tensor (torchdyn's {@code REQUIRES_NOISE}). */
    default boolean requiresNoise() {
        return false;
    }

    /**
     * torchdyn's {@code autograd_trace}: sum over i of d out_i / d in_i, each a reverse pass with the
     * one-hot cotangent e_i (the diagonal entry of e_i^T J). D passes; exact.
     */
    TraceEstimator AUTOGRAD_TRACE = new TraceEstimator() {
        @Override
        public Sym trace(Sym out, Sym in, Sym noise) {
            int d = width("autograd_trace", out, in);
            Sym tr = null;
            for (int i = 0; i < d; i++) {
                // The column i of d out_i / d in: a cotangent of ones on out[:, i] (a pad of it, in the graph).
                Sym col = Graph.grad(out.slice(1, i, i + 1), in).slice(1, i, i + 1);
                tr = tr == null ? col : tr.add(col);
            }
            return tr;
        }

        @Override
        public String toString() {
            return "autograd_trace";
        }
    };

    /**
     * torchdyn's {@code hutch_trace}: eps^T (d out / d in) eps per sample with the noise eps, one reverse
     * pass (cotangent eps). Unbiased for noise of zero mean and identity covariance (Gaussian or
     * Rademacher); the noise must stay fixed within a solve (see {@link CNF}).
     */
    TraceEstimator HUTCH_TRACE = new TraceEstimator() {
        @Override
        public Sym trace(Sym out, Sym in, Sym noise) {
            width("hutch_trace", out, in);
            if (noise == null) throw new IllegalArgumentException("hutch_trace needs noise shaped as the state");
            if (!Arrays.equals(noise.shape(), in.shape())) {
                throw new IllegalArgumentException("hutch_trace: noise has shape " + Arrays.toString(noise.shape())
                        + " but the state has shape " + Arrays.toString(in.shape()));
            }
            Sym etJ = in.graph().vjp(List.of(out), List.of(noise), List.of(in)).get(0);
            return etJ.mul(noise).sum(1, true);
        }

        @Override
        public boolean requiresNoise() {
            return true;
        }

        @Override
        public String toString() {
            return "hutch_trace";
        }
    };

    /** D, after checking that out and in are both [-1, D]. */
    private static int width(String who, Sym out, Sym in) {
        Objects.requireNonNull(out, "out");
        Objects.requireNonNull(in, "in");
        long[] s = in.shape();
        if (s.length != 2 || s[0] != -1 || s[1] < 1) {
            throw new IllegalArgumentException(who + ": the state must be [-1, D] (batched rows), got " + Arrays.toString(s));
        }
        if (!Arrays.equals(out.shape(), s)) {
            throw new IllegalArgumentException(who + ": the net's output " + Arrays.toString(out.shape())
                    + " must have the state's shape " + Arrays.toString(s) + " (a trace needs a square Jacobian)");
        }
        return Math.toIntExact(s[1]);
    }
}
