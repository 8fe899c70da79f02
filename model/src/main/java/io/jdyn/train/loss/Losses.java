package io.jdyn.train.loss;

import io.jdyn.Tensor;
import java.util.Arrays;
import java.util.Objects;

/** Shared argument checks of the losses. */
final class Losses {
    private Losses() {}

    /** [N, C] input with N labels in [0, C); returns {N, C}. */
    static int[] checkClassification(Tensor input, int[] labels, String inputName) {
        Objects.requireNonNull(input, inputName);
        Objects.requireNonNull(labels, "labels");
        if (input.rank() != 2) {
            throw new IllegalArgumentException(inputName + " must be [N, C], got shape " + Arrays.toString(input.shape()));
        }
        long n = input.size(0), c = input.size(1);
        if (n * c > Integer.MAX_VALUE - 8) throw new IllegalArgumentException(inputName + " is too large: " + n * c + " values");
        if (labels.length != n) {
            throw new IllegalArgumentException(inputName + " has " + n + " rows but " + labels.length + " labels were given");
        }
        for (int i = 0; i < labels.length; i++) {
            if (labels[i] < 0 || labels[i] >= c) {
                throw new IllegalArgumentException("label " + i + " is " + labels[i] + ", outside the " + c
                        + " classes [0, " + c + ")");
            }
        }
        return new int[] {(int) n, (int) c};
    }

    static int[] labels(Tensor labels, long n) {
        Objects.requireNonNull(labels, "labels");
        double[] v = labels.toDoubleArray();
        if (v.length != n) throw new IllegalArgumentException("labels holds " + v.length + " values, " + n + " expected");
        int[] out = new int[v.length];
        for (int i = 0; i < v.length; i++) {
            if (v[i] != Math.rint(v[i]) || Math.abs(v[i]) > Integer.MAX_VALUE) {
                throw new IllegalArgumentException("label " + i + " is " + v[i] + ", not an integer class index");
            }
            out[i] = (int) v[i];
        }
        return out;
    }
}
