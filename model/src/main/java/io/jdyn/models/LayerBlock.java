package io.jdyn.models;

import io.jdyn.DType;
import io.jdyn.Tensor;
import io.jdyn.nn.Augmenter;
import io.jdyn.nn.Layer;
import io.jdyn.nn.NeuralField;
import io.jdyn.nn.Sequential;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * An ordinary layer stack in a {@link SequentialModel} (an encoder or a decoder): x [batch, in] ->
 * [batch, out], evaluated at t = 0.
 *
 * <p>Natively, as a {@link NeuralField}, where in >= out: a NeuralField must return as many values as
 * it takes, so a narrowing stack (a decoder) is compiled with a trailing {@code Augmenter(in - out)}
 * and the padding columns dropped (their cotangent is zero). A widening stack (an encoder, in < out)
 * cannot be compiled that way (there is no layer that drops columns), so it runs in Java
 * ({@link #isNative()} false): Linear, the activations, Augmenter and DepthCat; not GalLinear.
 * Parameters are laid out as a NeuralField's either way and initialised as PyTorch does from the seed
 * (the Java path with its own generator, so values differ from the native one's for the same seed).
 */
public final class LayerBlock implements Block {
    private final Sequential net;
    private final int in;
    private final int out;
    private final DType dtype;
    private final NeuralField field;
    private final JavaNet javaNet;

    private LayerBlock(Sequential net, int in, DType dtype, long seed) {
        this.net = net;
        this.in = in;
        this.out = net.outFeatures(in);
        this.dtype = dtype;
        if (out <= in) {
            List<Layer> layers = new ArrayList<>(net.layers());
            if (out < in) layers.add(new Augmenter(in - out));
            this.field = NeuralField.of(Sequential.of(layers), in, dtype, seed);
            this.javaNet = null;
        } else {
            this.field = null;
            this.javaNet = new JavaNet(net, in, seed);
        }
    }

    /** net compiled for inputs of width in. */
    public static LayerBlock of(Sequential net, int in, DType dtype, long seed) {
        Objects.requireNonNull(net, "net");
        Objects.requireNonNull(dtype, "dtype");
        return new LayerBlock(net, in, dtype, seed);
    }

    public static LayerBlock of(Sequential net, int in, DType dtype) {
        return of(net, in, dtype, java.util.concurrent.ThreadLocalRandom.current().nextLong());
    }

    /** Whether the stack runs as a native layer program (in >= out) rather than in Java. */
    public boolean isNative() {
        return field != null;
    }

    public Sequential net() {
        return net;
    }

    @Override
    public int inFeatures() {
        return in;
    }

    @Override
    public int outFeatures() {
        return out;
    }

    @Override
    public DType dtype() {
        return dtype;
    }

    @Override
    public Tensor forward(Tensor x) {
        try (Trace t = trace(x)) {
            return Tensors.copy(t.output());
        }
    }

    @Override
    public Trace trace(Tensor x) {
        int batch = Tensors.batch(x, in, dtype, "this layer block");
        return field != null ? nativeTrace(x, batch) : javaTrace(x, batch);
    }

    private Trace nativeTrace(Tensor x, int batch) {
        Tensor xc = Tensors.copy(x);
        Tensor y;
        try (Tensor full = field.forward(0, xc)) {
            y = out == in ? Tensors.copy(full) : Tensor.of(dtype, columns(full.toDoubleArray(), batch, in, out),
                    Tensors.withLast(x.shape(), out));
        } catch (RuntimeException | Error e) {
            xc.close();
            throw e;
        }
        return new Trace() {
            private NeuralField.Vjp vjp;

            @Override
            public Tensor output() {
                return y;
            }

            @Override
            public Tensor backward(Tensor cotangent) {
                if (vjp != null) throw new IllegalStateException("backward was already called on this trace");
                Tensors.batch(cotangent, out, dtype, "the cotangent of this layer block");
                double[] c = cotangent.toDoubleArray();
                double[] padded = new double[batch * in];
                for (int b = 0; b < batch; b++) System.arraycopy(c, b * out, padded, b * in, out);
                try (Tensor v = Tensor.of(dtype, padded, x.shape())) {
                    vjp = field.vjp(0, xc, v);
                }
                return vjp.gz();
            }

            @Override
            public void close() {
                xc.close();
                y.close();
                if (vjp != null) vjp.close();
            }
        };
    }

    private Trace javaTrace(Tensor x, int batch) {
        double[][] acts = javaNet.forward(0, x.toDoubleArray(), batch);
        Tensor y = Tensor.of(dtype, acts[acts.length - 1], Tensors.withLast(x.shape(), out));
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
                Tensors.batch(cotangent, out, dtype, "the cotangent of this layer block");
                gx = Tensor.of(dtype, javaNet.vjp(acts, cotangent.toDoubleArray(), batch), xShape);
                return gx;
            }

            @Override
            public void close() {
                y.close();
                if (gx != null) gx.close();
            }
        };
    }

    private static double[] columns(double[] v, int batch, int w, int keep) {
        double[] o = new double[batch * keep];
        for (int b = 0; b < batch; b++) System.arraycopy(v, b * w, o, b * keep, keep);
        return o;
    }

    @Override
    public long numParams() {
        return field != null ? field.numParams() : javaNet.params.length;
    }

    @Override
    public double param(long i) {
        return field != null ? field.parameters().values().get(i) : javaNet.params[Math.toIntExact(i)];
    }

    @Override
    public void setParam(long i, double value) {
        if (field != null) {
            field.parameters().values().set(value, i);
        } else {
            javaNet.params[Math.toIntExact(i)] = dtype == DType.FLOAT32 ? (float) value : value;
        }
    }

    @Override
    public double[] grad() {
        if (field != null) return field.numParams() == 0 ? new double[0] : field.parameters().grad().toDoubleArray();
        return javaNet.grad.clone();
    }

    @Override
    public void zeroGrad() {
        if (field != null) {
            if (field.numParams() > 0) field.parameters().zeroGrad();
        } else {
            java.util.Arrays.fill(javaNet.grad, 0);
        }
    }

    @Override
    public void close() {
        if (field != null) field.close();
    }

    @Override
    public String toString() {
        return net.toString();
    }
}
