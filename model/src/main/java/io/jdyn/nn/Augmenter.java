package io.jdyn.nn;

/**
 * Appends {@code augmentDims} zero columns (ANODE's augmentation): torchdyn's {@code Augmenter} with
 * {@code order='last'} (torchdyn's default puts the zeros first).
 */
public record Augmenter(int augmentDims) implements Layer {
    public Augmenter {
        Widths.positive(augmentDims, "augment_dims");
    }

    @Override
    public String toString() {
        return "Augmenter(augment_idx=1, augment_dims=" + augmentDims + ", order='last')";
    }
}
