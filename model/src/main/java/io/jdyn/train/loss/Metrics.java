package io.jdyn.train.loss;

import io.jdyn.Tensor;

/** Evaluation metrics on model outputs. */
public final class Metrics {
    private Metrics() {}

    /**
     * The fraction of rows of logits [N, C] whose largest entry (the first one on ties, as torch.argmax)
     * is at the row's label.
     */
    public static double accuracy(Tensor logits, int[] labels) {
        int[] nc = Losses.checkClassification(logits, labels, "logits");
        int n = nc[0], c = nc[1];
        double[] x = logits.toDoubleArray();
        int correct = 0;
        for (int i = 0; i < n; i++) {
            if (argmax(x, i * c, c) == labels[i]) correct++;
        }
        return (double) correct / n;
    }

    /** The index of the largest entry of each row of logits [N, C] (the first one on ties). */
    public static int[] argmax(Tensor logits) {
        if (logits.rank() != 2) throw new IllegalArgumentException("logits must be [N, C], got rank " + logits.rank());
        int n = (int) logits.size(0), c = (int) logits.size(1);
        double[] x = logits.toDoubleArray();
        int[] out = new int[n];
        for (int i = 0; i < n; i++) out[i] = argmax(x, i * c, c);
        return out;
    }

    private static int argmax(double[] x, int from, int c) {
        int best = 0;
        for (int j = 1; j < c; j++) {
            // NaN counts as the largest, as in torch.argmax.
            if (x[from + j] > x[from + best] || (Double.isNaN(x[from + j]) && !Double.isNaN(x[from + best]))) best = j;
        }
        return best;
    }
}
