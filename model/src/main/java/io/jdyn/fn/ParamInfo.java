package io.jdyn.fn;

import java.util.Arrays;
import java.util.Objects;

/**
 * One named parameter tensor of a program or a {@link io.jdyn.nn.NeuralField}: its name (PyTorch's
 * state_dict spelling, e.g. {@code "0.weight"}), its shape, and where its values sit in the flat
 * parameter buffer ({@code count} values from {@code offset}, row-major).
 */
public record ParamInfo(String name, long[] shape, long offset, long count) {
    public ParamInfo {
        Objects.requireNonNull(name, "name");
        shape = shape.clone();
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ParamInfo p && p.name.equals(name) && Arrays.equals(p.shape, shape) && p.offset == offset
                && p.count == count;
    }

    @Override
    public int hashCode() {
        return Objects.hash(name, Arrays.hashCode(shape), offset, count);
    }

    @Override
    public String toString() {
        return name + " " + Arrays.toString(shape) + " @" + offset;
    }
}
