package io.jdyn.data;

import io.jdyn.DType;
import io.jdyn.Tensor;

/** One mini-batch of a {@link Dataset}: the indices of its samples, their features and labels. */
public final class Batch {
    private final Dataset source;
    private final int[] indices;

    Batch(Dataset source, int[] indices) {
        this.source = source;
        this.indices = indices;
    }

    /** The number of samples in the batch. */
    public int size() {
        return indices.length;
    }

    /** The indices of the samples in the source data set, in batch order. */
    public int[] indices() {
        return indices.clone();
    }

    /** The batch as a data set of its own. */
    public Dataset dataset() {
        return source.subset(indices);
    }

    /** The features as a new tensor [batch, D] (the caller closes it). */
    public Tensor x() {
        return dataset().x();
    }

    /** The features, [batch * D] row-major. */
    public double[] features() {
        return dataset().features();
    }

    /** The labels (null when the data set has none). */
    public int[] y() {
        return dataset().y();
    }

    public DType dtype() {
        return source.dtype();
    }

    @Override
    public String toString() {
        return "Batch(size=" + indices.length + ")";
    }
}
