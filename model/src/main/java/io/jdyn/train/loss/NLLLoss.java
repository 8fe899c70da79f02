package io.jdyn.train.loss;

import io.jdyn.Tensor;
import java.util.Objects;

/**
 * Negative log-likelihood on log-probabilities (torch.nn.NLLLoss with class-index targets): for input
 * [N, C] and labels y, the mean (or sum) of -x_i[y_i]; the gradient is -1/N (or -1) at each label and 0
 * elsewhere. NLLLoss(logSoftmax(x)) equals CrossEntropyLoss(x).
 */
public final class NLLLoss {
    private final Reduction reduction;

    public NLLLoss() {
        this(Reduction.MEAN);
    }

    public NLLLoss(Reduction reduction) {
        this.reduction = Objects.requireNonNull(reduction, "reduction");
    }

    /** The loss and its gradient with respect to the log-probabilities ([N, C], their dtype). */
    public LossValue compute(Tensor logProbs, int[] labels) {
        int[] nc = Losses.checkClassification(logProbs, labels, "logProbs");
        int n = nc[0], c = nc[1];
        double[] x = logProbs.toDoubleArray();
        double[] g = new double[x.length];
        double scale = reduction == Reduction.MEAN ? 1.0 / n : 1.0;
        double sum = 0;
        for (int i = 0; i < n; i++) {
            sum -= x[i * c + labels[i]];
            g[i * c + labels[i]] = -scale;
        }
        return new LossValue(sum * scale, Tensor.of(logProbs.dtype(), g, logProbs.shape()));
    }

    /** As {@link #compute(Tensor, int[])} with labels given as a tensor of N integer values. */
    public LossValue compute(Tensor logProbs, Tensor labels) {
        Objects.requireNonNull(logProbs, "logProbs");
        return compute(logProbs, Losses.labels(labels, logProbs.rank() == 2 ? logProbs.size(0) : -1));
    }

    public double value(Tensor logProbs, int[] labels) {
        try (LossValue l = compute(logProbs, labels)) {
            return l.value();
        }
    }

    public Reduction reduction() {
        return reduction;
    }
}
