package io.jdyn.data;

import io.jdyn.DType;
import io.jdyn.Tensor;
import io.jdyn.io.AtomicFiles;
import io.jdyn.io.FormatException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * NumPy's {@code .npy} format (versions 1.0, 2.0, 3.0): little-endian {@code <f4}, {@code <f8},
 * {@code <i4}, {@code <i8} in C order. Fortran order, other byte orders and other dtypes are refused
 * with a {@link FormatException} naming the file, as are truncated or malformed files. Writes are
 * atomic and use version 1.0 with the header padded to 64 bytes, as NumPy does.
 */
public final class Npy {
    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    private static final Pattern DESCR = Pattern.compile("'descr'\\s*:\\s*'([^']*)'");
    private static final Pattern FORTRAN = Pattern.compile("'fortran_order'\\s*:\\s*(True|False)");
    private static final Pattern SHAPE = Pattern.compile("'shape'\\s*:\\s*\\(([^)]*)\\)");

    private Npy() {}

    static int elementSize(String descr) {
        return switch (descr) {
            case "<f4", "<i4" -> 4;
            case "<f8", "<i8" -> 8;
            default -> -1;
        };
    }

    /** Reads a file's dtype, shape and values. */
    public static NpyArray readArray(Path file) throws IOException {
        long size = Files.size(file);
        if (size > Integer.MAX_VALUE - 8) throw new FormatException(file, "is " + size + " bytes, too large to read");
        return parse(file, Files.readAllBytes(file));
    }

    static NpyArray parse(Path file, byte[] b) throws FormatException {
        if (b.length < 10) throw new FormatException(file, "is " + b.length + " bytes, too short for a .npy header");
        for (int i = 0; i < MAGIC.length; i++) {
            if (b[i] != MAGIC[i]) throw new FormatException(file, "does not start with the .npy magic \\x93NUMPY");
        }
        int major = b[6] & 0xff;
        ByteBuffer bb = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
        long headerLen;
        int start;
        if (major == 1) {
            headerLen = bb.getShort(8) & 0xffff;
            start = 10;
        } else if (major == 2 || major == 3) {
            if (b.length < 12) throw new FormatException(file, "is too short for a version " + major + " header");
            headerLen = bb.getInt(8) & 0xffffffffL;
            start = 12;
        } else {
            throw new FormatException(file, "has unsupported .npy version " + major + "." + (b[7] & 0xff));
        }
        if (start + headerLen > b.length) {
            throw new FormatException(file, "header length " + headerLen + " runs past the end of the file (" + b.length
                    + " bytes): truncated");
        }
        String header = new String(b, start, (int) headerLen, major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
        Matcher d = DESCR.matcher(header), f = FORTRAN.matcher(header), s = SHAPE.matcher(header);
        if (!header.trim().startsWith("{") || !d.find() || !f.find() || !s.find()) {
            throw new FormatException(file, "has a malformed header (needs 'descr', 'fortran_order' and 'shape'): " + header.trim());
        }
        String descr = d.group(1);
        if (elementSize(descr) < 0) {
            throw new FormatException(file, "has dtype '" + descr + "', which is not supported (supported: <f4, <f8, <i4, <i8)");
        }
        if (f.group(1).equals("True")) {
            throw new FormatException(file, "is in Fortran order, which is not supported: save it in C order "
                    + "(numpy.ascontiguousarray) first");
        }
        List<Long> dims = new ArrayList<>();
        for (String part : s.group(1).split(",")) {
            String t = part.trim();
            if (t.isEmpty()) continue;
            try {
                long v = Long.parseLong(t.endsWith("L") ? t.substring(0, t.length() - 1) : t);
                if (v < 0) throw new NumberFormatException();
                dims.add(v);
            } catch (NumberFormatException e) {
                throw new FormatException(file, "has a malformed shape (" + s.group(1) + ")");
            }
        }
        long[] shape = dims.stream().mapToLong(Long::longValue).toArray();
        long n = 1;
        try {
            for (long v : shape) n = Math.multiplyExact(n, v);
        } catch (ArithmeticException e) {
            throw new FormatException(file, "has an overflowing shape (" + s.group(1) + ")");
        }
        int es = elementSize(descr);
        long dataStart = start + headerLen;
        long expected = n * es;
        if (b.length - dataStart != expected) {
            throw new FormatException(file, "has " + (b.length - dataStart) + " bytes of data but shape (" + s.group(1).trim()
                    + ") of " + descr + " needs " + expected + (b.length - dataStart < expected ? " (truncated)" : " (trailing bytes)"));
        }
        double[] values = new double[(int) n];
        int p = (int) dataStart;
        for (int i = 0; i < values.length; i++, p += es) {
            values[i] = switch (descr) {
                case "<f4" -> bb.getFloat(p);
                case "<f8" -> bb.getDouble(p);
                case "<i4" -> bb.getInt(p);
                default -> {
                    long v = bb.getLong(p);
                    if (Math.abs(v) > (1L << 53)) {
                        throw new FormatException(file, "holds the int64 value " + v + " at index " + i
                                + ", which a double cannot hold exactly");
                    }
                    yield v;
                }
            };
        }
        return new NpyArray(descr, shape, values);
    }

    /**
     * Reads a file as a tensor: {@code <f4} as FLOAT32, the others as FLOAT64; a scalar becomes shape
     * [1]. Arrays with a zero-length dimension cannot be tensors and are refused. The caller closes it.
     */
    public static Tensor read(Path file) throws IOException {
        NpyArray a = readArray(file);
        long[] shape = a.shape().length == 0 ? new long[] {1} : a.shape();
        for (long s : shape) if (s == 0) throw new FormatException(file, "has a zero-length dimension; a Tensor cannot hold it");
        return Tensor.of(a.descr().equals("<f4") ? DType.FLOAT32 : DType.FLOAT64, a.values(), shape);
    }

    /** Reads integer labels from a one-dimensional {@code <i4} or {@code <i8} file. */
    public static int[] readInts(Path file) throws IOException {
        NpyArray a = readArray(file);
        if (!a.descr().startsWith("<i")) throw new FormatException(file, "has dtype " + a.descr() + ", not an integer type");
        if (a.shape().length != 1) throw new FormatException(file, "has " + a.shape().length + " dimensions, labels need 1");
        double[] v = a.values();
        int[] out = new int[v.length];
        for (int i = 0; i < v.length; i++) {
            if (v[i] < Integer.MIN_VALUE || v[i] > Integer.MAX_VALUE) {
                throw new FormatException(file, "value " + (long) v[i] + " at index " + i + " does not fit an int");
            }
            out[i] = (int) v[i];
        }
        return out;
    }

    /** Writes a tensor ({@code <f4} for FLOAT32, {@code <f8} for FLOAT64), atomically. */
    public static void write(Path file, Tensor tensor) throws IOException {
        write(file, new NpyArray(tensor.dtype() == DType.FLOAT32 ? "<f4" : "<f8", tensor.shape(), tensor.toDoubleArray()));
    }

    /** Writes labels as a one-dimensional {@code <i4} array, atomically. */
    public static void write(Path file, int[] labels) throws IOException {
        double[] v = new double[labels.length];
        for (int i = 0; i < v.length; i++) v[i] = labels[i];
        write(file, new NpyArray("<i4", new long[] {labels.length}, v));
    }

    /** Writes an array, atomically. */
    public static void write(Path file, NpyArray array) throws IOException {
        StringBuilder h = new StringBuilder("{'descr': '").append(array.descr()).append("', 'fortran_order': False, 'shape': (");
        long[] shape = array.shape();
        for (int i = 0; i < shape.length; i++) {
            if (i > 0) h.append(' ');
            h.append(shape[i]).append(',');
        }
        if (shape.length > 1) h.setLength(h.length() - 1);
        h.append("), }");
        int total = 10 + h.length() + 1;
        int pad = (64 - total % 64) % 64;
        h.append(" ".repeat(pad)).append('\n');
        byte[] header = h.toString().getBytes(StandardCharsets.ISO_8859_1);
        if (header.length > 0xffff) throw new IllegalArgumentException("shape too long for a version 1.0 header");
        String descr = array.descr();
        int es = elementSize(descr);
        double[] values = array.values();
        AtomicFiles.write(file, sink -> {
            ByteBuffer pre = ByteBuffer.allocate(10).order(ByteOrder.LITTLE_ENDIAN);
            pre.put(MAGIC).put((byte) 1).put((byte) 0).putShort((short) header.length).flip();
            sink.write(pre);
            sink.write(ByteBuffer.wrap(header));
            ByteBuffer buf = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
            for (double v : values) {
                if (buf.remaining() < es) {
                    sink.write(buf.flip());
                    buf.clear();
                }
                switch (descr) {
                    case "<f4" -> buf.putFloat((float) v);
                    case "<f8" -> buf.putDouble(v);
                    case "<i4" -> buf.putInt((int) v);
                    default -> buf.putLong((long) v);
                }
            }
            if (buf.position() > 0) sink.write(buf.flip());
        });
    }
}
