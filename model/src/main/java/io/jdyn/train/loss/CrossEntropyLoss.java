package io.jdyn.train.loss;

import io.jdyn.Tensor;
import java.util.Objects;

/**
 * Cross-entropy on logits (torch.nn.CrossEntropyLoss with class-index targets): for logits [N, C] and
 * labels y in [0, C), the mean (or sum) over rows of logsumexp(x_i) - x_i[y_i], computed with a
 * max-shifted log-softmax so that large logits do not overflow. The gradient is (softmax(x_i) -
 * onehot(y_i)) / N (or without the 1/N).
 */
public final class CrossEntropyLoss {
    private final Reduction reduction;

    public CrossEntropyLoss() {
        this(Reduction.MEAN);
    }

    public CrossEntropyLoss(Reduction reduction) {
        this.reduction = Objects.requireNonNull(reduction, "reduction");
    }

    /** The loss and its gradient with respect to logits ([N, C], logits' dtype). */
    public LossValue compute(Tensor logits, int[] labels) {
        int[] nc = Losses.checkClassification(logits, labels, "logits");
        int n = nc[0], c = nc[1];
        double[] x = logits.toDoubleArray();
        double[] g = new double[x.length];
        double scale = reduction == Reduction.MEAN ? 1.0 / n : 1.0;
        double sum = 0;
        for (int i = 0; i < n; i++) {
            int row = i * c;
            double lse = logSumExp(x, row, c);
            sum += lse - x[row + labels[i]];
            for (int j = 0; j < c; j++) g[row + j] = Math.exp(x[row + j] - lse) * scale;
            g[row + labels[i]] -= scale;
        }
        return new LossValue(sum * scale, Tensor.of(logits.dtype(), g, logits.shape()));
    }

    /** As {@link #compute(Tensor, int[])} with labels given as a tensor of N integer values. */
    public LossValue compute(Tensor logits, Tensor labels) {
        Objects.requireNonNull(logits, "logits");
        return compute(logits, Losses.labels(labels, logits.rank() == 2 ? logits.size(0) : -1));
    }

    public double value(Tensor logits, int[] labels) {
        try (LossValue l = compute(logits, labels)) {
            return l.value();
        }
    }

    public Reduction reduction() {
        return reduction;
    }

    /** The row-wise log-softmax of logits [N, C] (max-shifted), as a fresh tensor of logits' dtype. */
    public static Tensor logSoftmax(Tensor logits) {
        Objects.requireNonNull(logits, "logits");
        if (logits.rank() != 2) throw new IllegalArgumentException("logits must be [N, C], got rank " + logits.rank());
        int n = (int) logits.size(0), c = (int) logits.size(1);
        double[] x = logits.toDoubleArray();
        for (int i = 0; i < n; i++) {
            int row = i * c;
            double lse = logSumExp(x, row, c);
            for (int j = 0; j < c; j++) x[row + j] -= lse;
        }
        return Tensor.of(logits.dtype(), x, logits.shape());
    }

    /** log(sum_j exp(x[row + j])) over c entries, shifted by their max so that it cannot overflow. */
    private static double logSumExp(double[] x, int row, int c) {
        double max = Double.NEGATIVE_INFINITY;
        for (int j = 0; j < c; j++) max = Math.max(max, x[row + j]);
        double s = 0;
        for (int j = 0; j < c; j++) s += Math.exp(x[row + j] - max);
        return max + Math.log(s);
    }
}
