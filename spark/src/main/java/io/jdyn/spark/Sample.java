package io.jdyn.spark;

import java.io.Serializable;
import java.util.Arrays;
import java.util.Objects;

/**
 * One training sample: the initial state of the NeuralODE (features, as wide as the model's state) and
 * its target (a regression target as wide as the state for {@link SampleLoss#MSE}, or one class index
 * for {@link SampleLoss#CROSS_ENTROPY}). Checked when made, so a bad row fails where it is built, by name.
 */
public record Sample(double[] features, double[] target) implements Serializable {
    public Sample {
        Objects.requireNonNull(features, "features");
        Objects.requireNonNull(target, "target");
        if (features.length == 0) throw new IllegalArgumentException("a sample needs at least one feature");
        if (target.length == 0) throw new IllegalArgumentException("a sample needs a target");
        finite(features, "feature");
        finite(target, "target");
        features = features.clone();
        target = target.clone();
    }

    /** A classification sample: features and a class index. */
    public static Sample of(double[] features, int label) {
        return new Sample(features, new double[] {label});
    }

    @Override
    public double[] features() {
        return features.clone();
    }

    @Override
    public double[] target() {
        return target.clone();
    }

    /** Direct access for the partition code (no copy). */
    double[] featuresRef() {
        return features;
    }

    double[] targetRef() {
        return target;
    }

    private static void finite(double[] v, String what) {
        for (int i = 0; i < v.length; i++) {
            if (!Double.isFinite(v[i])) throw new IllegalArgumentException(what + " " + i + " of a sample is " + v[i]);
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Sample s && Arrays.equals(features, s.features) && Arrays.equals(target, s.target);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(features) + Arrays.hashCode(target);
    }

    @Override
    public String toString() {
        return "Sample[features=" + Arrays.toString(features) + ", target=" + Arrays.toString(target) + "]";
    }
}
