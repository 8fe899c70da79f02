package io.jdyn.polyglot;

import io.jdyn.DType;
import io.jdyn.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.graalvm.polyglot.Value;

/**
 * Guest data to Tensors and back, for the python-shim and JavaScript scripts (data conversion only: the
 * shim's tensor arithmetic and autograd run natively through {@link io.jdyn.fn.Eager}). Nested lists (Python
 * lists and tuples, JavaScript arrays) are walked on the Java side, so a script makes one call per
 * tensor, not one per element; contiguous buffers (Python's array.array, memoryview, bytes) are read
 * in bulk through the polyglot buffer protocol, with their element format named by the caller (a raw
 * buffer does not carry it: reading array.array('d') as if it were a list of numbers would turn its
 * bytes into separate values).
 */
public final class Values {
    private Values() {}

    /** "float32"/"float64" (also "float", "double", torch's "torch.float32"...) to a DType. */
    public static DType dtype(String name) {
        if (name == null) return DType.FLOAT32;
        String n = name.toLowerCase(Locale.ROOT).replace("torch.", "");
        return switch (n) {
            case "float32", "float", "f4", "single" -> DType.FLOAT32;
            case "float64", "double", "f8" -> DType.FLOAT64;
            default -> throw new IllegalArgumentException("unknown dtype '" + name + "': use float32 or float64");
        };
    }

    /**
     * A tensor from a number, a nested list (any depth, rectangular) of numbers, a Java double[] or
     * float[], or a Tensor (copied). Names the first bad element: a ragged row, a non-number.
     */
    public static Tensor tensor(Value data, String dtype) {
        DType dt = dtype(dtype);
        if (data == null || data.isNull()) throw new IllegalArgumentException("tensor data is None/null");
        if (data.isHostObject() && data.asHostObject() instanceof Tensor t) {
            return Tensor.of(dt, t.toDoubleArray(), t.shape());
        }
        if (data.isHostObject() && data.asHostObject() instanceof double[] d) return Tensor.of(dt, d.clone(), d.length);
        if (data.isHostObject() && data.asHostObject() instanceof float[] f) {
            double[] d = new double[f.length];
            for (int i = 0; i < f.length; i++) d[i] = f[i];
            return Tensor.of(dt, d, f.length);
        }
        if (data.isNumber()) {
            return Tensor.of(dt, new double[] {number(data, "the value")}, 1);
        }
        if (!data.hasArrayElements()) {
            throw new IllegalArgumentException("cannot make a tensor from " + describe(data)
                    + ": give a number, a (nested) list of numbers, or a buffer with its format");
        }
        List<Long> shape = new ArrayList<>();
        for (Value v = data; v.hasArrayElements(); v = v.getArrayElement(0)) {
            long n = v.getArraySize();
            if (n == 0) throw new IllegalArgumentException("tensor data has an empty dimension at depth " + shape.size());
            shape.add(n);
        }
        long[] s = shape.stream().mapToLong(Long::longValue).toArray();
        long numel = 1;
        for (long n : s) numel = Math.multiplyExact(numel, n);
        if (numel > Integer.MAX_VALUE - 8) throw new IllegalArgumentException("tensor data too large: " + numel + " values");
        double[] out = new double[(int) numel];
        int[] pos = {0};
        fill(data, s, 0, out, pos, new long[s.length]);
        return Tensor.of(dt, out, s);
    }

    private static void fill(Value v, long[] shape, int depth, double[] out, int[] pos, long[] index) {
        if (depth == shape.length) {
            if (v.hasArrayElements()) {
                throw new IllegalArgumentException("ragged tensor data: element " + at(index, depth)
                        + " is a list where a number was expected (shape " + Arrays.toString(shape) + ")");
            }
            out[pos[0]++] = number(v, "element " + at(index, depth));
            return;
        }
        if (!v.hasArrayElements() || v.getArraySize() != shape[depth]) {
            throw new IllegalArgumentException("ragged tensor data: element " + at(index, depth) + " has "
                    + (v.hasArrayElements() ? v.getArraySize() + " entries" : "no entries (" + describe(v) + ")")
                    + ", expected " + shape[depth] + " (shape " + Arrays.toString(shape) + ")");
        }
        for (long i = 0; i < shape[depth]; i++) {
            index[depth] = i;
            fill(v.getArrayElement(i), shape, depth + 1, out, pos, index);
        }
    }

    private static String at(long[] index, int depth) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < depth; i++) b.append('[').append(index[i]).append(']');
        return b.length() == 0 ? "(top)" : b.toString();
    }

    private static double number(Value v, String what) {
        if (v.isNumber() && v.fitsInDouble()) return v.asDouble();
        if (v.isNumber()) return v.asDouble(); // big ints: asDouble rounds or throws with its own message
        if (v.isBoolean()) return v.asBoolean() ? 1 : 0;
        throw new IllegalArgumentException(what + " is " + describe(v) + ", not a number");
    }

    private static String describe(Value v) {
        if (v.isString()) return "the string '" + v.asString() + "'";
        if (v.isNull()) return "None/null";
        Value meta = v.getMetaObject();
        return meta == null ? v.toString() : "a " + meta.getMetaSimpleName();
    }

    /**
     * A tensor from a contiguous buffer: format is the struct code of its elements ('d' float64, 'f'
     * float32, 'i'/'l'/'q' integers), shape the tensor's shape (its product times the item size must be the
     * buffer's length). One bulk read, no per-element calls.
     */
    public static Tensor fromBuffer(Value buffer, String format, long[] shape, String dtype) {
        DType dt = dtype(dtype);
        if (buffer == null || !buffer.hasBufferElements()) {
            throw new IllegalArgumentException("not a buffer: " + (buffer == null ? "null" : describe(buffer)));
        }
        String f = format == null ? "B" : format.replace("@", "").replace("=", "").replace("<", "");
        int item = switch (f) {
            case "d", "q", "Q" -> 8;
            case "f", "i", "I" -> 4;
            case "l", "L" -> 8;
            case "b", "B" -> 1;
            default -> throw new IllegalArgumentException("buffer format '" + format + "' is not supported: use 'd' (float64), "
                    + "'f' (float32) or an integer format");
        };
        long bytes = buffer.getBufferSize();
        long numel = 1;
        for (long n : shape) {
            if (n < 1) throw new IllegalArgumentException("bad shape " + Arrays.toString(shape));
            numel = Math.multiplyExact(numel, n);
        }
        if (numel * item != bytes) {
            throw new IllegalArgumentException("a buffer of " + bytes + " bytes holds " + (bytes / item) + " '" + f
                    + "' values, not the " + numel + " of shape " + Arrays.toString(shape));
        }
        if (bytes > Integer.MAX_VALUE - 8) throw new IllegalArgumentException("buffer too large: " + bytes + " bytes");
        byte[] raw = new byte[(int) bytes];
        buffer.readBuffer(0, raw, 0, raw.length);
        ByteBuffer bb = ByteBuffer.wrap(raw).order(ByteOrder.nativeOrder());
        double[] out = new double[(int) numel];
        for (int i = 0; i < out.length; i++) {
            out[i] = switch (f) {
                case "d" -> bb.getDouble();
                case "f" -> bb.getFloat();
                case "q", "l", "L", "Q" -> bb.getLong();
                case "i" -> bb.getInt();
                case "I" -> Integer.toUnsignedLong(bb.getInt());
                case "b" -> bb.get();
                default -> Byte.toUnsignedInt(bb.get());
            };
        }
        return Tensor.of(dt, out, shape);
    }

    /**
     * A one-element tensor (shape [1]) holding v: the python-shim's 0-d tensors (a number in an operation, a
     * loss value). The shim's tensor arithmetic itself runs natively through {@link io.jdyn.fn.Eager}.
     */
    public static Tensor scalarTensor(double v, String dtype) {
        return Tensor.of(dtype(dtype), new double[] {v}, 1);
    }

    /** How many entries of two label arrays are equal (they must have one length). */
    public static int countEqual(int[] a, int[] b) {
        if (a.length != b.length) {
            throw new IllegalArgumentException("cannot compare " + a.length + " labels with " + b.length);
        }
        int n = 0;
        for (int i = 0; i < a.length; i++) if (a[i] == b[i]) n++;
        return n;
    }

    /** Python and JavaScript ints as labels (a list of class indices). */
    public static int[] labels(Value data) {
        if (data.isHostObject() && data.asHostObject() instanceof int[] a) return a.clone();
        if (!data.hasArrayElements()) throw new IllegalArgumentException("labels must be a list of ints, got " + describe(data));
        int[] out = new int[Math.toIntExact(data.getArraySize())];
        for (int i = 0; i < out.length; i++) {
            Value v = data.getArrayElement(i);
            if (v.isNumber() && v.fitsInInt()) {
                out[i] = v.asInt();
            } else if (v.isNumber() && v.fitsInDouble() && v.asDouble() == Math.rint(v.asDouble())) {
                out[i] = (int) v.asDouble();
            } else {
                throw new IllegalArgumentException("label [" + i + "] is " + describe(v) + ", not a class index");
            }
        }
        return out;
    }
}
