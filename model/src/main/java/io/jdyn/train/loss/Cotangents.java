package io.jdyn.train.loss;

import io.jdyn.Tensor;
import java.util.Arrays;
import java.util.Objects;

/**
 * Bridges between a loss on the last state of a solve and {@code GradSolution.backward}, whose
 * cotangent covers every output time: ys is [T, B, D].
 */
public final class Cotangents {
    private Cotangents() {}

    /** A copy of the last time's state ys[T - 1], [B, D] (ys: [T, B, D]). */
    public static Tensor lastState(Tensor ys) {
        Objects.requireNonNull(ys, "ys");
        if (ys.rank() != 3) throw new IllegalArgumentException("ys must be [T, B, D], got shape " + Arrays.toString(ys.shape()));
        long t = ys.size(0), b = ys.size(1), d = ys.size(2);
        long per = b * d;
        if (per > Integer.MAX_VALUE - 8) throw new IllegalArgumentException("one state holds " + per + " values, too many");
        double[] out = new double[(int) per];
        ys.nativeBuffer().copyTo((t - 1) * per, out, 0, out.length);
        return Tensor.of(ys.dtype(), out, b, d);
    }

    /**
     * The cotangent [nTimes, B, D] of a loss on the last state alone: zeros except the last time, which
     * is gradLast [B, D] (the loss's gradient), in gradLast's dtype.
     */
    public static Tensor atLastTime(Tensor gradLast, long nTimes) {
        Objects.requireNonNull(gradLast, "gradLast");
        if (gradLast.rank() != 2) {
            throw new IllegalArgumentException("gradLast must be [B, D], got shape " + Arrays.toString(gradLast.shape()));
        }
        if (nTimes < 1) throw new IllegalArgumentException("nTimes must be >= 1, got " + nTimes);
        long b = gradLast.size(0), d = gradLast.size(1);
        double[] g = gradLast.toDoubleArray();
        Tensor out = Tensor.zeros(gradLast.dtype(), nTimes, b, d);
        try {
            out.nativeBuffer().copyFrom(g, 0, (nTimes - 1) * b * d, g.length);
        } catch (RuntimeException e) {
            out.close();
            throw e;
        }
        return out;
    }
}
