package io.jdyn.train.loss;

import io.jdyn.Tensor;
import java.util.Arrays;
import java.util.Objects;

/**
 * Mean squared error (torch.nn.MSELoss): mean (or sum) over all elements of (input - target)^2; the
 * gradient is 2 (input - target) / numel (or 2 (input - target)).
 */
public final class MSELoss {
    private final Reduction reduction;

    public MSELoss() {
        this(Reduction.MEAN);
    }

    public MSELoss(Reduction reduction) {
        this.reduction = Objects.requireNonNull(reduction, "reduction");
    }

    /** The loss and its gradient with respect to input (same shape and dtype as input). */
    public LossValue compute(Tensor input, Tensor target) {
        Objects.requireNonNull(input, "input");
        Objects.requireNonNull(target, "target");
        if (!Arrays.equals(input.shape(), target.shape())) {
            throw new IllegalArgumentException("input has shape " + Arrays.toString(input.shape())
                    + " but target has shape " + Arrays.toString(target.shape()));
        }
        double[] x = input.toDoubleArray();
        double[] y = target.toDoubleArray();
        double scale = reduction == Reduction.MEAN ? 1.0 / x.length : 1.0;
        double sum = 0;
        double[] g = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            double d = x[i] - y[i];
            sum += d * d;
            g[i] = 2 * d * scale;
        }
        return new LossValue(sum * scale, Tensor.of(input.dtype(), g, input.shape()));
    }

    /** The loss value alone. */
    public double value(Tensor input, Tensor target) {
        try (LossValue l = compute(input, target)) {
            return l.value();
        }
    }

    public Reduction reduction() {
        return reduction;
    }
}
