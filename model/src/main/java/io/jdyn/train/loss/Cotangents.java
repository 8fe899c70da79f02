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
        return ys.select(-1);
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
        return Tensor.embed(gradLast, nTimes, nTimes - 1);
    }
}
