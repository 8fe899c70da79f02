package io.jdyn.models;

import io.jdyn.DType;
import io.jdyn.Tensor;
import java.util.Arrays;

/** Internal: shape checks shared by the blocks. */
final class Tensors {
    private Tensors() {}

    /** The shape of x with its last dimension replaced by width. */
    static long[] withLast(long[] shape, int width) {
        long[] s = shape.clone();
        s[s.length - 1] = width;
        return s;
    }

    /** Checks that x is [width] or [batch, width] of dtype; returns the batch. */
    static int batch(Tensor x, int width, DType dtype, String who) {
        long[] s = x.shape();
        if (s.length > 2 || s[s.length - 1] != width) {
            throw new IllegalArgumentException(who + " takes inputs [" + width + "] or [batch, " + width
                    + "], got shape " + Arrays.toString(s));
        }
        if (x.dtype() != dtype) throw new IllegalArgumentException(who + " is " + dtype + " but the input is " + x.dtype());
        return s.length == 2 ? Math.toIntExact(s[0]) : 1;
    }
}
