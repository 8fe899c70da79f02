package io.jdyn.models;

import io.jdyn.DType;
import io.jdyn.Tensor;
import java.util.Arrays;

/** Internal: small tensor helpers (copies through Java arrays; float32 values survive a double round trip). */
final class Tensors {
    private Tensors() {}

    /** The last slice along dimension 0 of t [T, ...], as a new tensor [...]. */
    static Tensor last(Tensor t) {
        long[] s = t.shape();
        long per = t.numel() / s[0];
        double[] all = t.toDoubleArray();
        double[] out = Arrays.copyOfRange(all, (int) (all.length - per), all.length);
        return Tensor.of(t.dtype(), out, Arrays.copyOfRange(s, 1, s.length));
    }

    static Tensor copy(Tensor t) {
        return Tensor.of(t.dtype(), t.toDoubleArray(), t.shape());
    }

    /** A tensor [T, ...] of zeros except its last slice, which is c. */
    static Tensor zerosButLast(DType dtype, int times, Tensor c) {
        long[] s = c.shape();
        long[] shape = new long[s.length + 1];
        shape[0] = times;
        System.arraycopy(s, 0, shape, 1, s.length);
        double[] out = new double[Math.toIntExact(Math.multiplyExact(c.numel(), (long) times))];
        double[] cv = c.toDoubleArray();
        System.arraycopy(cv, 0, out, out.length - cv.length, cv.length);
        return Tensor.of(dtype, out, shape);
    }

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
