package io.jdyn.nn;

import io.jdyn.fn.Fn;
import io.jdyn.fn.Params;
import io.jdyn.fn.Sym;
import java.util.List;
import java.util.Objects;

/**
 * Layers applied in order: PyTorch's {@code nn.Sequential}, a description only. Compile it for a
 * state width and dtype with {@link NeuralField#of(Sequential, int, io.jdyn.DType)}.
 *
 * <p>As an {@link Fn} it applies its layers in order, layer i's parameters scoped "i." (PyTorch's
 * state_dict names: "0.weight", "0.bias", ...).
 */
public final class Sequential implements Fn {
    private final List<Layer> layers;

    private Sequential(List<Layer> layers) {
        if (layers.isEmpty()) throw new IllegalArgumentException("a Sequential needs at least one layer");
        this.layers = layers;
    }

    public static Sequential of(Layer... layers) {
        Objects.requireNonNull(layers, "layers");
        for (int i = 0; i < layers.length; i++) Objects.requireNonNull(layers[i], "layer " + i);
        return new Sequential(List.of(layers));
    }

    public static Sequential of(List<? extends Layer> layers) {
        return of(layers.toArray(new Layer[0]));
    }

    public List<Layer> layers() {
        return layers;
    }

    public int size() {
        return layers.size();
    }

    public Layer get(int index) {
        return layers.get(index);
    }

    /** The width of the output for inputs of width in; throws IllegalArgumentException naming the first layer that does not fit. */
    public int outFeatures(int in) {
        Widths.positive(in, "input width");
        int w = in;
        for (int i = 0; i < layers.size(); i++) w = Widths.outWidth(layers.get(i), w, i);
        return w;
    }

    /** The layers' graph operations in order; a failure names the layer. */
    @Override
    public Sym apply(Sym t, Sym x, Params p) {
        Objects.requireNonNull(p, "p");
        Sym y = x;
        for (int i = 0; i < layers.size(); i++) {
            try {
                y = layers.get(i).apply(t, y, p.scope(Integer.toString(i)));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("layer " + i + " (" + layers.get(i) + "): " + e.getMessage(), e);
            }
        }
        return y;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Sequential s && s.layers.equals(layers);
    }

    @Override
    public int hashCode() {
        return layers.hashCode();
    }

    /** As PyTorch prints it: one indexed line per layer. */
    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("Sequential(\n");
        for (int i = 0; i < layers.size(); i++) sb.append("  (").append(i).append("): ").append(layers.get(i)).append('\n');
        return sb.append(')').toString();
    }
}
