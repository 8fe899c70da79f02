package io.jdyn.models;

import io.jdyn.DType;
import io.jdyn.Tensor;
import io.jdyn.nn.NeuralField;
import io.jdyn.nn.Sequential;
import java.util.Objects;

/**
 * An ordinary layer stack in a {@link SequentialModel} (an encoder or a decoder): x [batch, in] ->
 * [batch, out], evaluated at t = 0.
 *
 * <p>Runs natively whatever the widths, as a layer program compiled with
 * {@link NeuralField#layers(Sequential, int, DType, long)} (widening, narrowing or square), with its
 * parameters laid out as a NeuralField's and initialised as PyTorch does from the seed.
 */
public final class LayerBlock implements Block {
    private final Sequential net;
    private final int in;
    private final int out;
    private final DType dtype;
    private final NeuralField field;
    /** SNOpt's full_precond: the factors the next traced backward pass fills, and the last batch traced. */
    private final java.util.concurrent.atomic.AtomicReference<double[]> curvature =
            new java.util.concurrent.atomic.AtomicReference<>();
    private volatile long lastBatch;

    private LayerBlock(Sequential net, int in, DType dtype, long seed) {
        this.net = net;
        this.in = in;
        this.out = net.outFeatures(in);
        this.dtype = dtype;
        this.field = NeuralField.layers(net, in, dtype, seed);
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

    /** Whether the stack runs as a native layer program: always, whatever its widths. */
    /** The block's parameters (one flat value and gradient buffer), for an optimizer. */
    public io.jdyn.nn.Parameters parameters() {
        return field.parameters();
    }

    public boolean isNative() {
        return true;
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
        Tensors.batch(x, in, dtype, "this layer block");
        try (Tensor xc = x.copy()) {
            return field.forward(0, xc);
        }
    }

    /**
     * SNOpt's full_precond hook: the next backward pass of a trace of this block writes its Linear
     * layers' Kronecker factors into {@code factors} (per {@link #linearLayers()} layer, A then G,
     * row-major; one batch: A = E[[a, 1][a, 1]^T], G = batch E[g g^T] of the layer output's cotangent g).
     * null cancels a pending request.
     */
    public void collectCurvature(double[] factors) {
        curvature.set(factors);
    }

    /** Whether a {@link #collectCurvature(double[])} request still waits for a backward pass. */
    public boolean curvaturePending() {
        return curvature.get() != null;
    }

    /** The Linear layers SNOpt can precondition, 6 values each (as {@code ProgramHandle.linearLayers}). */
    public long[] linearLayers() {
        return field.program().linearLayers();
    }

    /** The batch size of the last traced input. */
    public long lastBatchSize() {
        return lastBatch;
    }

    @Override
    public Trace trace(Tensor x) {
        lastBatch = Tensors.batch(x, in, dtype, "this layer block");
        Tensor xc = x.copy();
        Tensor y;
        try {
            y = field.forward(0, xc);
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
                int batch = Tensors.batch(cotangent, out, dtype, "the cotangent of this layer block");
                double[] factors = curvature.getAndSet(null);
                if (factors != null) {
                    field.program().layerFactors(field.parameters().values().nativeBuffer(), 0, xc.nativeBuffer(),
                            cotangent.nativeBuffer(), batch, factors);
                }
                vjp = field.vjp(0, xc, cotangent);
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

    @Override
    public long numParams() {
        return field.numParams();
    }

    @Override
    public double param(long i) {
        return field.parameters().values().get(i);
    }

    @Override
    public void setParam(long i, double value) {
        field.parameters().values().set(value, i);
    }

    @Override
    public double[] grad() {
        return field.numParams() == 0 ? new double[0] : field.parameters().grad().toDoubleArray();
    }

    @Override
    public void zeroGrad() {
        if (field.numParams() > 0) field.parameters().zeroGrad();
    }

    @Override
    public void close() {
        field.close();
    }

    @Override
    public String toString() {
        return net.toString();
    }
}
