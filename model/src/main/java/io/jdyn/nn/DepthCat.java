package io.jdyn.nn;

/** Appends the time t as one more column: torchdyn's {@code DepthCat(1)}; the width grows by one. */
public record DepthCat() implements Layer {
    @Override
    public String toString() {
        return "DepthCat(idx_cat=1)";
    }
}
