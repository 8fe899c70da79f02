package io.jdyn;

import io.jdyn.spi.Backends;
import io.jdyn.spi.NativeBuffer;
import java.util.Arrays;
import java.util.Objects;

/**
 * An n-dimensional array of float32 or float64 values in native memory, row-major. Tensors own
 * native memory: close them (try-with-resources) when done; a closed tensor throws
 * {@link TensorClosedException} on every use.
 */
public final class Tensor implements AutoCloseable {
    private final NativeBuffer buffer;
    private final long[] shape;
    private final long numel;

    private Tensor(NativeBuffer buffer, long[] shape) {
        this.buffer = buffer;
        this.shape = shape;
        this.numel = numel(shape);
    }

    /** A float64 tensor holding a copy of data, with the given shape (data.length must match it). */
    public static Tensor of(double[] data, long... shape) {
        return of(DType.FLOAT64, data, shape);
    }

    /** A float32 tensor holding a copy of data, with the given shape. */
    public static Tensor of(float[] data, long... shape) {
        Objects.requireNonNull(data, "data");
        long[] s = checkShape(shape, data.length);
        NativeBuffer b = Backends.get().allocate(DType.FLOAT32, data.length);
        b.copyFrom(data, 0, 0, data.length);
        return new Tensor(b, s);
    }

    /** A tensor of the given dtype holding data (rounded to float32 where dtype is FLOAT32). */
    public static Tensor of(DType dtype, double[] data, long... shape) {
        Objects.requireNonNull(dtype, "dtype");
        Objects.requireNonNull(data, "data");
        long[] s = checkShape(shape, data.length);
        NativeBuffer b = Backends.get().allocate(dtype, data.length);
        b.copyFrom(data, 0, 0, data.length);
        return new Tensor(b, s);
    }

    /** A tensor of zeros. */
    public static Tensor zeros(DType dtype, long... shape) {
        Objects.requireNonNull(dtype, "dtype");
        long[] s = checkShape(shape, -1);
        return new Tensor(Backends.get().allocate(dtype, numel(s)), s);
    }

    /** Internal: wraps a backend buffer (which must hold at least numel(shape) values). */
    public static Tensor wrap(NativeBuffer buffer, long... shape) {
        long[] s = checkShape(shape, -1);
        if (numel(s) > buffer.elements()) {
            throw new IllegalArgumentException("shape " + Arrays.toString(s) + " needs " + numel(s)
                    + " values but the buffer holds " + buffer.elements());
        }
        return new Tensor(buffer, s);
    }

    public long[] shape() {
        return shape.clone();
    }

    public long size(int dimension) {
        return shape[dimension];
    }

    public int rank() {
        return shape.length;
    }

    public long numel() {
        return numel;
    }

    public DType dtype() {
        return buffer.dtype();
    }

    /** The value at a full index, e.g. {@code get(t, b, d)}. */
    public double get(long... index) {
        return live().get(flatIndex(index));
    }

    /** Sets the value at a full index. */
    public void set(double value, long... index) {
        live().set(flatIndex(index), value);
    }

    /** A copy of all values as doubles. */
    public double[] toDoubleArray() {
        double[] out = new double[checkedLength()];
        live().copyTo(0, out, 0, out.length);
        return out;
    }

    /** A copy of all values as floats (rounded where the tensor is float64). */
    public float[] toFloatArray() {
        float[] out = new float[checkedLength()];
        live().copyTo(0, out, 0, out.length);
        return out;
    }

    /** A copy with the same dtype and shape, owned by the caller. */
    public Tensor copy() {
        return of(dtype(), toDoubleArray(), shape);
    }

    /** The same values in another shape with as many elements (a copy). */
    public Tensor reshape(long... newShape) {
        long[] s = checkShape(newShape, -1);
        if (numel(s) != numel) {
            throw new IllegalArgumentException("cannot reshape " + Arrays.toString(shape) + " (" + numel + " values) to "
                    + Arrays.toString(s));
        }
        return of(dtype(), toDoubleArray(), s);
    }

    /**
     * Entry index along the first dimension (negative counts from the end) as a new tensor of the remaining
     * shape ([1] for a 1-d tensor); copies that slice alone.
     */
    public Tensor select(long index) {
        long n = shape[0];
        long i = index < 0 ? index + n : index;
        if (i < 0 || i >= n) {
            throw new IndexOutOfBoundsException("index " + index + " is out of range for dimension 0 of size " + n);
        }
        long[] rest = shape.length == 1 ? new long[] {1} : Arrays.copyOfRange(shape, 1, shape.length);
        double[] out = new double[Math.toIntExact(numel / n)];
        live().copyTo(i * out.length, out, 0, out.length);
        return of(dtype(), out, rest);
    }

    /**
     * A tensor [size, *part.shape] of part's dtype, zero except entry index of the first dimension, which is
     * part: how dL/d(x.select(index)) flows back to dL/dx (a loss on one output time is this cotangent).
     */
    public static Tensor embed(Tensor part, long size, long index) {
        Objects.requireNonNull(part, "part");
        if (index < 0 || index >= size) {
            throw new IndexOutOfBoundsException("index " + index + " is out of range for dimension 0 of size " + size);
        }
        long[] s = new long[part.shape.length + 1];
        s[0] = size;
        System.arraycopy(part.shape, 0, s, 1, part.shape.length);
        double[] v = part.toDoubleArray();
        Tensor out = zeros(part.dtype(), s);
        try {
            out.buffer.copyFrom(v, 0, index * v.length, v.length);
        } catch (RuntimeException e) {
            out.close();
            throw e;
        }
        return out;
    }

    public boolean isClosed() {
        return buffer.isClosed();
    }

    /** Internal: the native buffer, for the backend. */
    public NativeBuffer nativeBuffer() {
        return live();
    }

    @Override
    public void close() {
        buffer.close();
    }

    @Override
    public String toString() {
        if (isClosed()) return "Tensor(closed)";
        StringBuilder sb = new StringBuilder("Tensor(shape=").append(Arrays.toString(shape)).append(", dtype=")
                .append(dtype()).append(", values=[");
        long show = Math.min(numel, 8);
        for (long i = 0; i < show; i++) {
            if (i > 0) sb.append(", ");
            sb.append(buffer.get(i));
        }
        if (numel > show) sb.append(", ...");
        return sb.append("])").toString();
    }

    private NativeBuffer live() {
        if (buffer.isClosed()) throw new TensorClosedException("tensor of shape " + Arrays.toString(shape) + " is closed");
        return buffer;
    }

    private int checkedLength() {
        if (numel > Integer.MAX_VALUE - 8) {
            throw new IllegalStateException("tensor has " + numel + " values, too many for one Java array");
        }
        return (int) numel;
    }

    private long flatIndex(long[] index) {
        if (index.length != shape.length) {
            throw new IllegalArgumentException("index has " + index.length + " dimensions but the tensor has "
                    + shape.length + " (shape " + Arrays.toString(shape) + ")");
        }
        long flat = 0;
        for (int i = 0; i < shape.length; i++) {
            if (index[i] < 0 || index[i] >= shape[i]) {
                throw new IndexOutOfBoundsException("index " + Arrays.toString(index) + " is outside shape "
                        + Arrays.toString(shape));
            }
            flat = flat * shape[i] + index[i];
        }
        return flat;
    }

    private static long numel(long[] shape) {
        long n = 1;
        for (long s : shape) n = Math.multiplyExact(n, s);
        return n;
    }

    private static long[] checkShape(long[] shape, long expected) {
        Objects.requireNonNull(shape, "shape");
        if (shape.length == 0) throw new IllegalArgumentException("a tensor needs at least one dimension");
        for (long s : shape) {
            if (s < 1) throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " has a dimension < 1");
        }
        long n = numel(shape);
        if (expected >= 0 && n != expected) {
            throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " holds " + n + " values but "
                    + expected + " were given");
        }
        return shape.clone();
    }
}
