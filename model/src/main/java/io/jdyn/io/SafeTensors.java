package io.jdyn.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Reads and writes the safetensors format (https://github.com/huggingface/safetensors): an 8-byte
 * little-endian header length N, a UTF-8 JSON header of N bytes (one entry per tensor,
 * {@code {"dtype": "F32"|"F64", "shape": [...], "data_offsets": [begin, end]}}, plus an optional
 * {@code "__metadata__"} object of strings; padded with spaces to a multiple of 8), then the tensors'
 * little-endian, row-major bytes, contiguous, in header order. Only F32 and F64 are supported.
 * Writes are atomic ({@link AtomicFiles}).
 */
public final class SafeTensors {
    /** The largest header accepted (the reference implementation's limit). */
    public static final long MAX_HEADER = 100_000_000L;

    /** One tensor: dtype "F32" or "F64", its shape, and its values row-major (as doubles; exact for F32). */
    public record Entry(String dtype, long[] shape, double[] values) {
        public Entry {
            Objects.requireNonNull(dtype, "dtype");
            Objects.requireNonNull(shape, "shape");
            Objects.requireNonNull(values, "values");
            if (elementSize(dtype) < 0) throw new IllegalArgumentException("unsupported dtype " + dtype + " (F32 or F64)");
            long n = 1;
            for (long s : shape) {
                if (s < 0) throw new IllegalArgumentException("negative dimension in shape " + Arrays.toString(shape));
                n = Math.multiplyExact(n, s);
            }
            if (n != values.length) {
                throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " holds " + n + " values but "
                        + values.length + " were given");
            }
            shape = shape.clone();
        }

        @Override
        public long[] shape() {
            return shape.clone();
        }
    }

    /** The contents of a file: tensors in header order, and the metadata (empty when absent). */
    public record Contents(Map<String, Entry> tensors, Map<String, String> metadata) {}

    private SafeTensors() {}

    static int elementSize(String dtype) {
        return switch (dtype) {
            case "F32" -> 4;
            case "F64" -> 8;
            default -> -1;
        };
    }

    /** The complete bytes of a file holding tensors (in the map's order) and metadata. */
    static byte[] header(Map<String, Entry> tensors, Map<String, String> metadata) {
        Map<String, Object> h = new LinkedHashMap<>();
        if (metadata != null && !metadata.isEmpty()) h.put("__metadata__", new LinkedHashMap<>(metadata));
        long offset = 0;
        for (Map.Entry<String, Entry> e : tensors.entrySet()) {
            String name = e.getKey();
            if (name == null || name.equals("__metadata__")) throw new IllegalArgumentException("invalid tensor name " + name);
            Entry t = e.getValue();
            long bytes = (long) t.values().length * elementSize(t.dtype());
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("dtype", t.dtype());
            List<Object> shape = new ArrayList<>();
            for (long s : t.shape) shape.add(s);
            m.put("shape", shape);
            m.put("data_offsets", List.of(offset, offset + bytes));
            h.put(name, m);
            offset += bytes;
        }
        StringBuilder json = new StringBuilder(Json.write(h));
        while (json.length() % 8 != 0) json.append(' ');
        byte[] b = json.toString().getBytes(StandardCharsets.UTF_8);
        // Multi-byte characters can make the byte length differ from the char length: pad again.
        int pad = (8 - b.length % 8) % 8;
        if (pad == 0) return b;
        byte[] padded = Arrays.copyOf(b, b.length + pad);
        Arrays.fill(padded, b.length, padded.length, (byte) ' ');
        return padded;
    }

    /** Writes tensors (in the map's order) and metadata to file, atomically. */
    public static void write(Path file, Map<String, Entry> tensors, Map<String, String> metadata) throws IOException {
        Objects.requireNonNull(tensors, "tensors");
        byte[] header = header(tensors, metadata);
        AtomicFiles.write(file, sink -> {
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(header.length).flip();
            sink.write(len);
            sink.write(ByteBuffer.wrap(header));
            ByteBuffer buf = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
            for (Entry t : tensors.values()) {
                boolean f32 = t.dtype().equals("F32");
                for (double v : t.values()) {
                    if (buf.remaining() < 8) {
                        sink.write(buf.flip());
                        buf.clear();
                    }
                    if (f32) buf.putFloat((float) v);
                    else buf.putDouble(v);
                }
            }
            if (buf.position() > 0) sink.write(buf.flip());
        });
    }

    /** Reads a file; a malformed one gives a {@link FormatException} naming the file and the problem. */
    public static Contents read(Path file) throws IOException {
        long size = Files.size(file);
        if (size > Integer.MAX_VALUE - 8) throw new FormatException(file, "is " + size + " bytes, too large to read");
        return parse(file, Files.readAllBytes(file));
    }

    static Contents parse(Path file, byte[] bytes) throws FormatException {
        if (bytes.length < 8) {
            throw new FormatException(file, "is " + bytes.length + " bytes, shorter than the 8-byte header length (truncated?)");
        }
        ByteBuffer bb = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        long n = bb.getLong(0);
        long after = bytes.length - 8L;
        if (n <= 0 || n > after || n > MAX_HEADER) {
            throw new FormatException(file, "header length " + Long.toUnsignedString(n) + " is out of range (the file has "
                    + after + " bytes after the length field; limit " + MAX_HEADER + "): truncated or not a safetensors file");
        }
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes, 8, (int) n)).toString();
        } catch (CharacterCodingException e) {
            throw new FormatException(file, "header is not valid UTF-8", e);
        }
        Object parsed;
        try {
            parsed = Json.parse(text);
        } catch (Json.ParseException e) {
            throw new FormatException(file, "header is not valid JSON: " + e.getMessage(), e);
        }
        if (!(parsed instanceof Map<?, ?> header)) throw new FormatException(file, "header is not a JSON object");
        int dataStart = 8 + (int) n;
        long dataLen = bytes.length - (long) dataStart;
        Map<String, String> metadata = new LinkedHashMap<>();
        Map<String, Entry> tensors = new LinkedHashMap<>();
        List<long[]> ranges = new ArrayList<>();
        for (Map.Entry<?, ?> e : header.entrySet()) {
            String name = (String) e.getKey();
            if (name.equals("__metadata__")) {
                if (!(e.getValue() instanceof Map<?, ?> md)) throw new FormatException(file, "__metadata__ is not an object");
                for (Map.Entry<?, ?> m : md.entrySet()) {
                    if (!(m.getValue() instanceof String v)) {
                        throw new FormatException(file, "__metadata__ value of \"" + m.getKey() + "\" is not a string");
                    }
                    metadata.put((String) m.getKey(), v);
                }
                continue;
            }
            if (!(e.getValue() instanceof Map<?, ?> t)) throw new FormatException(file, "tensor \"" + name + "\" is not an object");
            if (!(t.get("dtype") instanceof String dtype)) throw new FormatException(file, "tensor \"" + name + "\" has no dtype string");
            int es = elementSize(dtype);
            if (es < 0) {
                throw new FormatException(file, "tensor \"" + name + "\" has unknown or unsupported dtype \"" + dtype
                        + "\" (supported: F32, F64)");
            }
            long[] shape = longs(file, name, "shape", t.get("shape"), -1);
            long[] off = longs(file, name, "data_offsets", t.get("data_offsets"), 2);
            if (off[0] > off[1] || off[1] > dataLen) {
                throw new FormatException(file, "tensor \"" + name + "\" has data_offsets " + Arrays.toString(off)
                        + " outside the data section of " + dataLen + " bytes (truncated or corrupted)");
            }
            long numel = 1;
            try {
                for (long s : shape) numel = Math.multiplyExact(numel, s);
                Math.multiplyExact(numel, (long) es);
            } catch (ArithmeticException ex) {
                throw new FormatException(file, "tensor \"" + name + "\" has an overflowing shape " + Arrays.toString(shape));
            }
            if (numel * es != off[1] - off[0]) {
                throw new FormatException(file, "tensor \"" + name + "\" has shape " + Arrays.toString(shape) + " of " + dtype
                        + " (" + numel * es + " bytes) but data_offsets " + Arrays.toString(off) + " cover "
                        + (off[1] - off[0]) + " bytes");
            }
            double[] values = new double[(int) numel];
            int p = dataStart + (int) off[0];
            for (int k = 0; k < values.length; k++, p += es) values[k] = es == 4 ? bb.getFloat(p) : bb.getDouble(p);
            tensors.put(name, new Entry(dtype, shape, values));
            ranges.add(off);
        }
        ranges.sort((a, b) -> Long.compare(a[0], b[0]));
        long end = 0;
        for (long[] r : ranges) {
            if (r[0] != end) {
                throw new FormatException(file, "tensor data is not contiguous: a range starts at byte " + r[0] + " where "
                        + end + " was expected (overlap or gap)");
            }
            end = r[1];
        }
        if (end != dataLen) {
            throw new FormatException(file, "the data section has " + dataLen + " bytes but the tensors cover " + end
                    + " (truncated or trailing bytes)");
        }
        return new Contents(Collections.unmodifiableMap(tensors), Collections.unmodifiableMap(metadata));
    }

    private static long[] longs(Path file, String tensor, String field, Object v, int expectLen) throws FormatException {
        if (!(v instanceof List<?> l) || (expectLen >= 0 && l.size() != expectLen)) {
            throw new FormatException(file, "tensor \"" + tensor + "\" has a malformed " + field
                    + (expectLen >= 0 ? " (expected a list of " + expectLen + " integers)" : " (expected a list of integers)"));
        }
        long[] out = new long[l.size()];
        for (int k = 0; k < out.length; k++) {
            if (!(l.get(k) instanceof Long x) || x < 0) {
                throw new FormatException(file, "tensor \"" + tensor + "\" has a malformed " + field + ": element " + k
                        + " is " + l.get(k) + ", not a non-negative integer");
            }
            out[k] = x;
        }
        return out;
    }
}
