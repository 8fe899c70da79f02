package io.jdyn.nn;

import io.jdyn.DType;
import io.jdyn.Tensor;
import io.jdyn.fn.ParamInfo;
import io.jdyn.spi.NativeBuffer;
import io.jdyn.spi.ProgramHandle;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The parameters of a {@link NeuralField}: one flat tensor of values and one flat tensor of
 * gradients of the same size ({@link #numParams()}), in the field's dtype, with each block at
 * {@link #offset(int)} (its {@link #count(int)} values). The blocks ("layers" below) are a
 * Sequential's layers (for a Linear, W [out, in] row-major then b [out], as PyTorch stores them), or
 * the parameter tensors of a field built from an {@link io.jdyn.fn.Fn}, one block each. Either way
 * the named tensors ({@link #infos()}, PyTorch's state_dict names such as "0.weight") are views of the
 * same buffer: {@link #get(String)}, {@link #set(String, double[])}, {@link #grad(String)}. Backward
 * passes accumulate into {@link #grad()} as PyTorch's {@code .grad} does; {@link #zeroGrad()} clears
 * it. Owned and closed by the field.
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
    private final List<ParamInfo> infos;
    private final Map<String, ParamInfo> byName;

    /** A Sequential's parameters: one block per layer, tensors named as PyTorch's state_dict names them. */
    Parameters(ProgramHandle program, Sequential net) {
        this(program, blocks(program, net.size(), true), blocks(program, net.size(), false), names(program, net));
    }

    /** An Fn's parameters: one block per parameter tensor, in layout order. */
    Parameters(ProgramHandle program, List<ParamInfo> tensors) {
        this(program, tensors.stream().mapToLong(ParamInfo::offset).toArray(),
                tensors.stream().mapToLong(ParamInfo::count).toArray(), tensors);
    }

    private Parameters(ProgramHandle program, long[] offsets, long[] counts, List<ParamInfo> tensors) {
        this.program = program;
        this.numParams = program.numParams();
        this.offsets = offsets;
        this.counts = counts;
        this.frozen = new boolean[offsets.length];
        this.infos = List.copyOf(tensors);
        Map<String, ParamInfo> m = new LinkedHashMap<>();
        for (ParamInfo p : infos) {
            if (m.put(p.name(), p) != null) throw new IllegalStateException("parameter " + p.name() + " is named twice");
        }
        this.byName = m;
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

    /** The named parameter tensors, in layout order. */
    public List<ParamInfo> infos() {
        return infos;
    }

    /** The parameter tensors' names, in layout order. */
    public List<String> names() {
        return List.copyOf(byName.keySet());
    }

    /** The named tensor; IllegalArgumentException (listing the names) when there is none. */
    public ParamInfo info(String name) {
        ParamInfo p = byName.get(name);
        if (p == null) throw new IllegalArgumentException("no parameter named \"" + name + "\"; the parameters are " + byName.keySet());
        return p;
    }

    /** A copy of the named tensor's values (row-major). */
    public double[] get(String name) {
        ParamInfo p = info(name);
        return copy(values, p.offset(), p.count(), name);
    }

    /** A copy of the named tensor's gradients (row-major). */
    public double[] grad(String name) {
        ParamInfo p = info(name);
        return copy(grad, p.offset(), p.count(), name);
    }

    /** Overwrites the named tensor's values (data.length must equal its element count). */
    public void set(String name, double[] data) {
        ParamInfo p = info(name);
        if (data.length != p.count()) {
            throw new IllegalArgumentException("parameter " + name + " " + java.util.Arrays.toString(p.shape()) + " has "
                    + p.count() + " values, " + data.length + " given");
        }
        if (data.length > 0) values.nativeBuffer().copyFrom(data, 0, p.offset(), data.length);
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
        return copy(t, offsets[checkLayer(layer)], counts[layer], "layer " + layer);
    }

    private static double[] copy(Tensor t, long offset, long c, String what) {
        if (c > Integer.MAX_VALUE - 8) throw new IllegalStateException(what + " has too many parameters for one array");
        double[] out = new double[(int) c];
        if (c > 0) t.nativeBuffer().copyTo(offset, out, 0, out.length);
        return out;
    }

    private static long[] blocks(ProgramHandle program, int layers, boolean offsets) {
        long[] out = new long[layers];
        for (int i = 0; i < layers; i++) out[i] = offsets ? program.layerOffset(i) : program.layerCount(i);
        return out;
    }

    /** A Sequential's tensors as PyTorch's state_dict names and shapes them. */
    private static List<ParamInfo> names(ProgramHandle program, Sequential net) {
        List<ParamInfo> out = new ArrayList<>();
        for (int i = 0; i < net.size(); i++) {
            long off = program.layerOffset(i);
            if (program.layerCount(i) == 0) continue;
            switch (net.get(i)) {
                case Linear l -> {
                    long w = (long) l.outFeatures() * l.inFeatures();
                    out.add(new ParamInfo(i + ".weight", new long[] {l.outFeatures(), l.inFeatures()}, off, w));
                    if (l.bias()) out.add(new ParamInfo(i + ".bias", new long[] {l.outFeatures()}, off + w, l.outFeatures()));
                }
                case GalLinear g -> {
                    long w = (long) g.nBasis() * g.outFeatures() * g.inFeatures();
                    out.add(new ParamInfo(i + ".coeffs_weight", new long[] {g.nBasis(), g.outFeatures(), g.inFeatures()},
                            off, w));
                    if (g.bias()) {
                        out.add(new ParamInfo(i + ".coeffs_bias", new long[] {g.nBasis(), g.outFeatures()}, off + w,
                                (long) g.nBasis() * g.outFeatures()));
                    }
                }
                default -> throw new IllegalStateException("layer " + i + " (" + net.get(i) + ") has parameters jdyn cannot name");
            }
        }
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
