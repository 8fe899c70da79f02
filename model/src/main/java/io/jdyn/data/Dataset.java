package io.jdyn.data;

import io.jdyn.DType;
import io.jdyn.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.SplittableRandom;

/**
 * An in-memory data set: N samples of D features (row-major, held in Java memory) in a chosen dtype,
 * and optionally one integer label per sample. {@link #x()} makes the feature tensor [N, D]
 * (owned by the caller: close it). Immutable.
 */
public final class Dataset {
    private final double[] features;
    private final int size;
    private final int dim;
    private final int[] labels;
    private final DType dtype;

    /**
     * A data set of features (length size * dim, row-major, rounded to float32 when dtype is FLOAT32)
     * and labels (length size, or null for none). The arrays are copied.
     */
    public Dataset(double[] features, int size, int dim, int[] labels, DType dtype) {
        Objects.requireNonNull(features, "features");
        Objects.requireNonNull(dtype, "dtype");
        if (size < 1) throw new IllegalArgumentException("size must be >= 1, got " + size);
        if (dim < 1) throw new IllegalArgumentException("dim must be >= 1, got " + dim);
        if ((long) size * dim != features.length) {
            throw new IllegalArgumentException(size + " samples of " + dim + " features need " + (long) size * dim
                    + " values, " + features.length + " given");
        }
        if (labels != null && labels.length != size) {
            throw new IllegalArgumentException(size + " samples but " + labels.length + " labels");
        }
        this.features = features.clone();
        if (dtype == DType.FLOAT32) for (int i = 0; i < this.features.length; i++) this.features[i] = (float) this.features[i];
        this.size = size;
        this.dim = dim;
        this.labels = labels == null ? null : labels.clone();
        this.dtype = dtype;
    }

    /** The number of samples N. */
    public int size() {
        return size;
    }

    /** The number of features D. */
    public int dim() {
        return dim;
    }

    public DType dtype() {
        return dtype;
    }

    public boolean hasLabels() {
        return labels != null;
    }

    /** A copy of the features, [N * D] row-major. */
    public double[] features() {
        return features.clone();
    }

    /** The features of sample i, [D]. */
    public double[] sample(int i) {
        Objects.checkIndex(i, size);
        return Arrays.copyOfRange(features, i * dim, (i + 1) * dim);
    }

    /** A copy of the labels (null when the data set has none). */
    public int[] y() {
        return labels == null ? null : labels.clone();
    }

    /** The label of sample i. */
    public int label(int i) {
        if (labels == null) throw new IllegalStateException("this data set has no labels");
        return labels[Objects.checkIndex(i, size)];
    }

    /** A new tensor [N, D] of the features in this data set's dtype; the caller closes it. */
    public Tensor x() {
        return Tensor.of(dtype, features, size, dim);
    }

    /** The same samples in another dtype. */
    public Dataset withDType(DType other) {
        return other == dtype ? this : new Dataset(features, size, dim, labels, other);
    }

    /** The samples at the given indices, in that order. */
    public Dataset subset(int[] indices) {
        Objects.requireNonNull(indices, "indices");
        if (indices.length == 0) throw new IllegalArgumentException("a subset needs at least one index");
        double[] f = new double[indices.length * dim];
        int[] l = labels == null ? null : new int[indices.length];
        for (int k = 0; k < indices.length; k++) {
            int i = Objects.checkIndex(indices[k], size);
            System.arraycopy(features, i * dim, f, k * dim, dim);
            if (l != null) l[k] = labels[i];
        }
        return new Dataset(f, indices.length, dim, l, dtype);
    }

    /**
     * One epoch of mini-batches: the samples in an order shuffled reproducibly from seed, cut into
     * batches of batchSize (the last one smaller when N is not a multiple). Every sample is in exactly
     * one batch. When batchSize >= N there is one batch of every sample, in shuffled order.
     */
    public List<Batch> batches(int batchSize, long seed) {
        if (batchSize < 1) throw new IllegalArgumentException("batchSize must be >= 1, got " + batchSize);
        int[] order = permutation(size, seed);
        List<Batch> out = new ArrayList<>();
        for (int start = 0; start < size; start += batchSize) {
            int[] idx = Arrays.copyOfRange(order, start, Math.min(size, start + batchSize));
            out.add(new Batch(this, idx));
        }
        return List.copyOf(out);
    }

    /**
     * Splits the samples (shuffled from seed) into a training part of round(fraction * N) samples and a
     * validation part of the rest; both must be non-empty.
     */
    public Split split(double fraction, long seed) {
        if (!(fraction > 0 && fraction < 1)) throw new IllegalArgumentException("fraction must be in (0, 1), got " + fraction);
        int nTrain = (int) Math.round(fraction * size);
        if (nTrain < 1 || nTrain >= size) {
            throw new IllegalArgumentException("fraction " + fraction + " of " + size + " samples leaves an empty part");
        }
        int[] order = permutation(size, seed);
        return new Split(subset(Arrays.copyOfRange(order, 0, nTrain)), subset(Arrays.copyOfRange(order, nTrain, size)));
    }

    /** A training part and a validation part. */
    public record Split(Dataset train, Dataset validation) {}

    /** A Fisher-Yates permutation of 0..n-1 from seed. */
    static int[] permutation(int n, long seed) {
        int[] p = new int[n];
        for (int i = 0; i < n; i++) p[i] = i;
        SplittableRandom r = new SplittableRandom(seed);
        for (int i = n - 1; i > 0; i--) {
            int j = r.nextInt(i + 1);
            int t = p[i];
            p[i] = p[j];
            p[j] = t;
        }
        return p;
    }

    @Override
    public String toString() {
        return "Dataset(size=" + size + ", dim=" + dim + ", dtype=" + dtype + ", labels=" + (labels != null) + ")";
    }
}
