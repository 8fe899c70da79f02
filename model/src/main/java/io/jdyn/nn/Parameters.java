package io.jdyn.nn;

import io.jdyn.DType;
import io.jdyn.Tensor;
import io.jdyn.spi.NativeBuffer;
import io.jdyn.spi.ProgramHandle;

/**
 * The parameters of a {@link NeuralField}: one flat tensor of values and one flat tensor of
 * gradients of the same size ({@link #numParams()}), in the field's dtype, with each layer's block at
 * {@link #offset(int)} (its {@link #count(int)} values; for a Linear, W [out, in] row-major then b
 * [out], as PyTorch stores them). Backward passes accumulate into {@link #grad()} as PyTorch's
 * {@code .grad} does; {@link #zeroGrad()} clears it. Owned and closed by the field.
 *
 * <p>The values must not change between a solve with gradients and its backward pass (the tape reads
 * them).
 */
public final class Parameters {
    private final ProgramHandle program;
    private final long numParams;
    private final long[] offsets;
    private final long[] counts;
    private final Tensor values;
    private final Tensor grad;
    private final boolean[] frozen;

    Parameters(ProgramHandle program, int layers) {
        this.program = program;
        this.numParams = program.numParams();
        this.offsets = new long[layers];
        this.counts = new long[layers];
        this.frozen = new boolean[layers];
        for (int i = 0; i < layers; i++) {
            offsets[i] = program.layerOffset(i);
            counts[i] = program.layerCount(i);
        }
        // A field without parameters still hands the core a (one-element) buffer; values() refuses it.
        long n = Math.max(1, numParams);
        Tensor v = Tensor.zeros(program.dtype(), n);
        try {
            this.grad = Tensor.zeros(program.dtype(), n);
        } catch (RuntimeException e) {
            v.close();
            throw e;
        }
        this.values = v;
    }

    public long numParams() {
        return numParams;
    }

    public DType dtype() {
        return program.dtype();
    }

    /** The number of layers (each has an offset and a count, 0 for layers without parameters). */
    public int numLayers() {
        return offsets.length;
    }

    /** Where layer {@code layer}'s parameters start in {@link #values()} and {@link #grad()}. */
    public long offset(int layer) {
        return offsets[checkLayer(layer)];
    }

    /** How many parameters layer {@code layer} has. */
    public long count(int layer) {
        return counts[checkLayer(layer)];
    }

    /** All values, [numParams]: the field reads them in every solve (not a copy). */
    public Tensor values() {
        requireSome();
        return values;
    }

    /** The accumulated gradients dL/dtheta, [numParams] (not a copy). */
    public Tensor grad() {
        requireSome();
        return grad;
    }

    /** A copy of layer {@code layer}'s values. */
    public double[] layerValues(int layer) {
        return copy(values, layer);
    }

    /** A copy of layer {@code layer}'s gradients. */
    public double[] layerGrad(int layer) {
        return copy(grad, layer);
    }

    /** Overwrites layer {@code layer}'s values (data.length must equal count(layer)). */
    public void setLayerValues(int layer, double[] data) {
        long c = count(layer);
        if (data.length != c) {
            throw new IllegalArgumentException("layer " + layer + " has " + c + " parameters, " + data.length + " given");
        }
        if (c > 0) values.nativeBuffer().copyFrom(data, 0, offsets[layer], data.length);
    }

    /** PyTorch's default initialisation (Kaiming-uniform weights, uniform biases), reproducible from seed, done natively. */
    public void init(long seed) {
        program.initParams(seed, values.nativeBuffer());
    }

    /**
     * Freezes a layer (PyTorch's requires_grad = False): backward passes leave its block of
     * {@link #grad()} as it was (zero after {@link #zeroGrad()}), so optimizers do not move it.
     */
    public void freeze(int layer) {
        frozen[checkLayer(layer)] = true;
    }

    public void unfreeze(int layer) {
        frozen[checkLayer(layer)] = false;
    }

    public boolean isFrozen(int layer) {
        return frozen[checkLayer(layer)];
    }

    /** Internal: saves the gradient blocks of the frozen layers; the returned action puts them back. */
    public Runnable frozenGradSnapshot() {
        int layers = frozen.length;
        double[][] saved = new double[layers][];
        boolean any = false;
        for (int i = 0; i < layers; i++) {
            if (frozen[i] && counts[i] > 0) {
                saved[i] = copy(grad, i);
                any = true;
            }
        }
        if (!any) return () -> {};
        return () -> {
            for (int i = 0; i < layers; i++) {
                if (saved[i] != null) grad.nativeBuffer().copyFrom(saved[i], 0, offsets[i], saved[i].length);
            }
        };
    }

    /** Sets every gradient to zero. */
    public void zeroGrad() {
        NativeBuffer g = grad.nativeBuffer();
        int chunk = 1 << 16;
        double[] zeros = new double[(int) Math.min(chunk, g.elements())];
        for (long i = 0; i < g.elements(); i += chunk) {
            g.copyFrom(zeros, 0, i, (int) Math.min(chunk, g.elements() - i));
        }
    }

    NativeBuffer valuesBuffer() {
        return values.nativeBuffer();
    }

    NativeBuffer gradBuffer() {
        return grad.nativeBuffer();
    }

    boolean isClosed() {
        return values.isClosed() || grad.isClosed();
    }

    void close() {
        values.close();
        grad.close();
    }

    private double[] copy(Tensor t, int layer) {
        long c = count(layer);
        if (c > Integer.MAX_VALUE - 8) throw new IllegalStateException("layer " + layer + " has too many parameters for one array");
        double[] out = new double[(int) c];
        if (c > 0) t.nativeBuffer().copyTo(offsets[layer], out, 0, out.length);
        return out;
    }

    private int checkLayer(int layer) {
        if (layer < 0 || layer >= offsets.length) {
            throw new IndexOutOfBoundsException("layer " + layer + " is outside [0, " + offsets.length + ")");
        }
        return layer;
    }

    private void requireSome() {
        if (numParams == 0) throw new IllegalStateException("this field has no parameters");
    }

    @Override
    public String toString() {
        return "Parameters(numParams=" + numParams + ", dtype=" + dtype() + ")";
    }
}
