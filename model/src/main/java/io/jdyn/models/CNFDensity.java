package io.jdyn.models;

import io.jdyn.Tensor;
import io.jdyn.train.loss.LossValue;
import java.util.Arrays;
import java.util.Objects;
import java.util.SplittableRandom;

/**
 * Densities and samples of a {@link CNF} flow under a standard normal base, on the augmented state
 * [dlogp, z] in torchdyn's layout: the data x enter as [0, x] at the start of the model's interval
 * (torchdyn's {@code Augmenter(augment_idx=1, augment_dims=1)}), and at its end
 * log p(x) = log N(z(1); 0, I) - dlogp(1) (torchdyn's tutorial: {@code prior.log_prob(xtrJ[:, 1:]) -
 * xtrJ[:, 0]}). Samples go the other way: [0, z] with z ~ N(0, I), integrated from the end of the
 * interval back to its start.
 */
public final class CNFDensity {
    private static final double LOG_2PI = Math.log(2 * Math.PI);

    private CNFDensity() {}

    /** [N, D] to [N, 1 + D] with a zero column first (the log-density change starts at 0). */
    public static Tensor augment(Tensor x) {
        int[] nd = rows("x", x, 1);
        int n = nd[0], d = nd[1];
        double[] v = x.toDoubleArray();
        double[] a = new double[n * (d + 1)];
        for (int i = 0; i < n; i++) System.arraycopy(v, i * d, a, i * (d + 1) + 1, d);
        return Tensor.of(x.dtype(), a, n, d + 1);
    }

    /** log N(z; 0, I) of each row of z [N, D] (flat, row-major). */
    public static double[] standardNormalLogProb(double[] z, int n, int d) {
        if (z.length != (long) n * d) throw new IllegalArgumentException("z holds " + z.length + " values, not " + n + " x " + d);
        double[] lp = new double[n];
        for (int i = 0; i < n; i++) {
            double sq = 0;
            for (int k = 0; k < d; k++) sq += z[i * d + k] * z[i * d + k];
            lp[i] = -0.5 * (sq + d * LOG_2PI);
        }
        return lp;
    }

    /** log p(x) per row from the final augmented state [dlogp(1), z(1)] ([N, 1 + D]). */
    public static double[] logProb(Tensor finalState) {
        int[] nd = rows("the final state", finalState, 2);
        int n = nd[0], w = nd[1], d = w - 1;
        double[] s = finalState.toDoubleArray();
        double[] lp = new double[n];
        for (int i = 0; i < n; i++) {
            double sq = 0;
            for (int k = 1; k < w; k++) sq += s[i * w + k] * s[i * w + k];
            lp[i] = -0.5 * (sq + d * LOG_2PI) - s[i * w];
        }
        return lp;
    }

    /**
     * The negative log-likelihood -mean_i log p(x_i) and its gradient with respect to the final state
     * (the cotangent for {@link NeuralODE.Trace#backward}): d/d dlogp = 1/N, d/dz = z/N.
     */
    public static LossValue nll(Tensor finalState) {
        int[] nd = rows("the final state", finalState, 2);
        int n = nd[0], w = nd[1];
        double[] s = finalState.toDoubleArray();
        double[] lp = logProb(finalState);
        double sum = 0;
        for (double v : lp) sum += v;
        double[] g = new double[s.length];
        for (int i = 0; i < n; i++) {
            g[i * w] = 1.0 / n;
            for (int k = 1; k < w; k++) g[i * w + k] = s[i * w + k] / n;
        }
        return new LossValue(-sum / n, Tensor.of(finalState.dtype(), g, n, w));
    }

    /** log p(x) of each row of x [N, D] under the flow: one forward solve over the model's interval. */
    public static double[] logProb(NeuralODE flow, Tensor x) {
        Objects.requireNonNull(flow, "flow");
        try (Tensor a = augment(x); Tensor y = flow.forward(a)) {
            return logProb(y);
        }
    }

    /**
     * n samples x [n, D] of the flow: z ~ N(0, I) drawn from seed, [0, z] integrated from the end of
     * the model's interval back to its start (one native solve with a decreasing time span).
     */
    public static Tensor sample(NeuralODE flow, int n, long seed) {
        Objects.requireNonNull(flow, "flow");
        if (n < 1) throw new IllegalArgumentException("n must be >= 1, got " + n);
        int w = flow.inFeatures(), d = w - 1;
        SplittableRandom r = new SplittableRandom(seed);
        double[] z = new double[n * w];
        for (int i = 0; i < n; i++) {
            for (int k = 1; k < w; k++) z[i * w + k] = r.nextGaussian();
        }
        double[] span = flow.sSpan();
        double[] back = {span[span.length - 1], span[0]};
        double[] out;
        try (Tensor z0 = Tensor.of(flow.dtype(), z, n, w); Tensor traj = flow.trajectory(z0, back);
                Tensor end = traj.select(1)) {
            out = end.toDoubleArray();
        }
        double[] x = new double[n * d];
        for (int i = 0; i < n; i++) System.arraycopy(out, i * w + 1, x, i * d, d);
        return Tensor.of(flow.dtype(), x, n, d);
    }

    /**
     * A model of the same flow with the exact trace, for evaluating a flow trained with Hutchinson's
     * estimator (whose log p is an unbiased but noisy estimate; its exp is biased upwards): the CNF of the
     * same net, the same solver, tolerances, interval and dtype, inference only. Its parameters are those
     * of flow when built; {@link #copyParameters} brings them up to date. The caller closes it.
     */
    public static NeuralODE withExactTrace(NeuralODE flow) {
        Objects.requireNonNull(flow, "flow");
        if (!(flow.fn() instanceof CNF cnf)) {
            throw new IllegalArgumentException("withExactTrace needs a model built from a CNF, got " + flow.fn());
        }
        NeuralODE.Builder b = NeuralODE.builder(new CNF(cnf.net()), flow.inFeatures()).dtype(flow.dtype())
                .solver(flow.solver()).rtol(flow.rtol()).atol(flow.atol()).sSpan(flow.sSpan());
        NeuralODE exact = b.build();
        try {
            copyParameters(flow, exact);
        } catch (RuntimeException | Error e) {
            exact.close();
            throw e;
        }
        return exact;
    }

    /** Sets every parameter of to from the parameter of the same name in from (noise seeds have none in to). */
    public static void copyParameters(NeuralODE from, NeuralODE to) {
        for (String name : to.parameters().names()) to.parameters().set(name, from.parameters().get(name));
    }

    /** {n, width} of a [N, width] tensor with width >= minWidth. */
    private static int[] rows(String what, Tensor t, int minWidth) {
        Objects.requireNonNull(t, what);
        long[] s = t.shape();
        if (s.length != 2 || s[1] < minWidth) {
            throw new IllegalArgumentException(what + " must be [N, " + (minWidth == 2 ? "1 + D" : "D") + "], got "
                    + Arrays.toString(s));
        }
        return new int[] {Math.toIntExact(s[0]), Math.toIntExact(s[1])};
    }
}
