package io.jdyn.e2e;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.jdyn.DType;
import io.jdyn.Tensor;
import org.junit.jupiter.api.Test;

/** Tensor's copies: select along the first dimension, embed (its cotangent), reshape, copy. */
class TensorSliceTest {
    @Test
    void selectAndEmbedAreAdjoint() {
        try (Tensor t = Tensor.of(DType.FLOAT32, new double[] {1, 2, 3, 4, 5, 6}, 3, 2);
                Tensor mid = t.select(1);
                Tensor last = t.select(-1);
                Tensor back = Tensor.embed(mid, 3, 1)) {
            assertArrayEquals(new long[] {2}, mid.shape());
            assertArrayEquals(new double[] {3, 4}, mid.toDoubleArray());
            assertArrayEquals(new double[] {5, 6}, last.toDoubleArray());
            assertEquals(DType.FLOAT32, back.dtype());
            assertArrayEquals(new long[] {3, 2}, back.shape());
            assertArrayEquals(new double[] {0, 0, 3, 4, 0, 0}, back.toDoubleArray());
            assertThrows(IndexOutOfBoundsException.class, () -> t.select(3));
            assertThrows(IndexOutOfBoundsException.class, () -> t.select(-4));
            assertThrows(IndexOutOfBoundsException.class, () -> Tensor.embed(mid, 3, 3));
        }
    }

    @Test
    void reshapeAndCopyAreIndependentCopies() {
        try (Tensor t = Tensor.of(new double[] {1, 2, 3, 4, 5, 6}, 2, 3);
                Tensor r = t.reshape(3, 2);
                Tensor c = t.copy()) {
            t.set(9, 0, 0);
            assertArrayEquals(new long[] {3, 2}, r.shape());
            assertArrayEquals(new double[] {1, 2, 3, 4, 5, 6}, r.toDoubleArray());
            assertArrayEquals(new double[] {1, 2, 3, 4, 5, 6}, c.toDoubleArray());
            assertThrows(IllegalArgumentException.class, () -> t.reshape(4, 2));
        }
    }
}
