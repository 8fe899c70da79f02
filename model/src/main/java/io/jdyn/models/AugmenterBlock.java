package io.jdyn.models;

import io.jdyn.DType;
import io.jdyn.Tensor;

/**
 * torchdyn's {@code Augmenter(augment_idx=1, augment_dims=k)} before a Neural ODE (ANODE): pads
 * x [batch, in] with k zero columns, first (torchdyn's default order) or last. No parameters; its
 * VJP drops the cotangent of the padding.
 */
public final class AugmenterBlock implements Block {
    private final int in;
    private final int augmentDims;
    private final boolean zerosFirst;
    private final DType dtype;

    private AugmenterBlock(int in, int augmentDims, boolean zerosFirst, DType dtype) {
        if (in < 1) throw new IllegalArgumentException("in must be >= 1, got " + in);
        if (augmentDims < 1) throw new IllegalArgumentException("augment_dims must be >= 1, got " + augmentDims);
        this.in = in;
        this.augmentDims = augmentDims;
        this.zerosFirst = zerosFirst;
        this.dtype = java.util.Objects.requireNonNull(dtype, "dtype");
    }

    /** Zeros first, as torchdyn's default {@code order='first'}. */
    public static AugmenterBlock of(int in, int augmentDims, DType dtype) {
        return new AugmenterBlock(in, augmentDims, true, dtype);
    }

    /** order "first" (zeros before x) or "last" (after). */
    public static AugmenterBlock of(int in, int augmentDims, String order, DType dtype) {
        return switch (order) {
            case "first" -> new AugmenterBlock(in, augmentDims, true, dtype);
            case "last" -> new AugmenterBlock(in, augmentDims, false, dtype);
            default -> throw new IllegalArgumentException("order must be 'first' or 'last', got '" + order + "'");
        };
    }

    @Override
    public int inFeatures() {
        return in;
    }

    @Override
    public int outFeatures() {
        return in + augmentDims;
    }

    @Override
    public DType dtype() {
        return dtype;
    }

    @Override
    public Tensor forward(Tensor x) {
        int batch = Tensors.batch(x, in, dtype, "this augmenter");
        int w = in + augmentDims, at = zerosFirst ? augmentDims : 0;
        double[] xv = x.toDoubleArray();
        double[] y = new double[batch * w];
        for (int b = 0; b < batch; b++) System.arraycopy(xv, b * in, y, b * w + at, in);
        return Tensor.of(dtype, y, Tensors.withLast(x.shape(), w));
    }

    @Override
    public Trace trace(Tensor x) {
        Tensor y = forward(x);
        int batch = x.numel() == in ? 1 : Math.toIntExact(x.shape()[0]);
        long[] xShape = x.shape();
        return new Trace() {
            private Tensor gx;

            @Override
            public Tensor output() {
                return y;
            }

            @Override
            public Tensor backward(Tensor cotangent) {
                if (gx != null) throw new IllegalStateException("backward was already called on this trace");
                int w = in + augmentDims, at = zerosFirst ? augmentDims : 0;
                Tensors.batch(cotangent, w, dtype, "the cotangent of this augmenter");
                double[] c = cotangent.toDoubleArray();
                double[] g = new double[batch * in];
                for (int b = 0; b < batch; b++) System.arraycopy(c, b * w + at, g, b * in, in);
                gx = Tensor.of(dtype, g, xShape);
                return gx;
            }

            @Override
            public void close() {
                y.close();
                if (gx != null) gx.close();
            }
        };
    }

    @Override
    public long numParams() {
        return 0;
    }

    @Override
    public double param(long i) {
        throw new IndexOutOfBoundsException("an augmenter has no parameters");
    }

    @Override
    public void setParam(long i, double value) {
        throw new IndexOutOfBoundsException("an augmenter has no parameters");
    }

    @Override
    public double[] grad() {
        return new double[0];
    }

    @Override
    public void zeroGrad() {}

    @Override
    public void close() {}

    @Override
    public String toString() {
        return "Augmenter(augment_idx=1, augment_dims=" + augmentDims + ", order='" + (zerosFirst ? "first" : "last")
                + "')";
    }
}
