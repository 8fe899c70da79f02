package io.jdyn.train.optim;

import io.jdyn.nn.Parameters;
import io.jdyn.spi.Backends;
import java.util.Objects;

/**
 * Gradient clipping over the gradients of a {@link Parameters}, natively (torch.nn.utils'
 * clip_grad_norm_ and clip_grad_value_). Frozen layers are left out, as PyTorch leaves out parameters
 * without a gradient. A NaN or infinite gradient throws {@link NonFiniteGradientException} and changes
 * nothing.
 */
public final class GradClip {
    private GradClip() {}

    /**
     * Scales all gradients by min(1, maxNorm / (total + 1e-6)) where total is their 2-norm taken
     * together; returns total (before clipping).
     */
    public static double norm(Parameters params, double maxNorm) {
        return norm(params, maxNorm, 2.0);
    }

    /** As {@link #norm(Parameters, double)} with the normType-norm (> 0; POSITIVE_INFINITY: the largest magnitude). */
    public static double norm(Parameters params, double maxNorm, double normType) {
        Objects.requireNonNull(params, "params");
        if (!(maxNorm >= 0) || Double.isInfinite(maxNorm)) {
            throw new IllegalArgumentException("maxNorm must be finite and >= 0, got " + maxNorm);
        }
        if (!(normType > 0)) throw new IllegalArgumentException("normType must be > 0 (or infinity), got " + normType);
        if (params.numParams() == 0) return 0.0;
        long[] ranges = ParamBlocks.ranges(params);
        if (ranges.length == 0) return 0.0;
        return NonFiniteGradientException.translate(
                () -> Backends.get().clipGradNorm(params.grad().nativeBuffer(), ranges, maxNorm, normType));
    }

    /** Clamps every gradient to [-clipValue, clipValue]. */
    public static void value(Parameters params, double clipValue) {
        Objects.requireNonNull(params, "params");
        if (!(clipValue >= 0) || Double.isInfinite(clipValue)) {
            throw new IllegalArgumentException("clipValue must be finite and >= 0, got " + clipValue);
        }
        if (params.numParams() == 0) return;
        long[] ranges = ParamBlocks.ranges(params);
        if (ranges.length == 0) return;
        NonFiniteGradientException.translate(
                () -> Backends.get().clipGradValue(params.grad().nativeBuffer(), ranges, clipValue));
    }
}
