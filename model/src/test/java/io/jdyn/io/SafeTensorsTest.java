package io.jdyn.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The safetensors writer and reader, byte by byte, and their failure modes. */
class SafeTensorsTest {
    @TempDir
    Path dir;

    @AfterEach
    void clearHook() {
        AtomicFiles.hook = null;
    }

    private static Map<String, SafeTensors.Entry> sample() {
        Map<String, SafeTensors.Entry> m = new LinkedHashMap<>();
        m.put("0.weight", new SafeTensors.Entry("F32", new long[] {2, 3}, new double[] {1, 2, 3, 4, 5, 0.1f}));
        m.put("0.bias", new SafeTensors.Entry("F32", new long[] {2}, new double[] {-1.5, Float.MIN_VALUE}));
        m.put("2.weight", new SafeTensors.Entry("F64", new long[] {1, 2}, new double[] {Math.PI, -0.0}));
        return m;
    }

    private Path written() throws IOException {
        Path f = dir.resolve("m.safetensors");
        SafeTensors.write(f, sample(), Map.of("note", "hello \"world\""));
        return f;
    }

    @Test
    void headerMatchesTheFormatSpecByteForByte() throws Exception {
        Path f = written();
        byte[] b = Files.readAllBytes(f);
        long n = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
        assertEquals(0, n % 8, "header padded to a multiple of 8");
        assertEquals(8 + n + 6 * 4 + 2 * 4 + 2 * 8, b.length);
        String header = new String(b, 8, (int) n, StandardCharsets.UTF_8);
        assertTrue(header.startsWith("{"));
        assertEquals(header.stripTrailing().length() + (n - header.stripTrailing().length()), n);
        assertTrue(header.substring(header.stripTrailing().length()).chars().allMatch(c -> c == ' '), "padding is spaces");
        String expected = "{\"__metadata__\":{\"note\":\"hello \\\"world\\\"\"},"
                + "\"0.weight\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]},"
                + "\"0.bias\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[24,32]},"
                + "\"2.weight\":{\"dtype\":\"F64\",\"shape\":[1,2],\"data_offsets\":[32,48]}}";
        assertEquals(expected, header.stripTrailing());
        ByteBuffer data = ByteBuffer.wrap(b, 8 + (int) n, 48).slice().order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(1f, data.getFloat(0));
        assertEquals(0.1f, data.getFloat(20));
        assertEquals(-1.5f, data.getFloat(24));
        assertEquals(Float.MIN_VALUE, data.getFloat(28));
        assertEquals(Math.PI, data.getDouble(32));
        assertEquals(Double.doubleToRawLongBits(-0.0), Double.doubleToRawLongBits(data.getDouble(40)));
    }

    @Test
    void roundTripIsBitIdentical() throws Exception {
        SafeTensors.Contents c = SafeTensors.read(written());
        assertEquals(List.of("0.weight", "0.bias", "2.weight"), List.copyOf(c.tensors().keySet()));
        assertEquals(Map.of("note", "hello \"world\""), c.metadata());
        for (Map.Entry<String, SafeTensors.Entry> e : sample().entrySet()) {
            SafeTensors.Entry got = c.tensors().get(e.getKey());
            assertEquals(e.getValue().dtype(), got.dtype());
            assertArrayEquals(e.getValue().shape(), got.shape());
            for (int i = 0; i < got.values().length; i++) {
                assertEquals(Double.doubleToRawLongBits(e.getValue().values()[i]), Double.doubleToRawLongBits(got.values()[i]));
            }
        }
    }

    private FormatException corrupt(byte[] bytes) throws IOException {
        Path f = dir.resolve("bad.safetensors");
        Files.write(f, bytes);
        FormatException e = assertThrows(FormatException.class, () -> SafeTensors.read(f));
        assertTrue(e.getMessage().contains(f.toString()), e.getMessage());
        return e;
    }

    private byte[] withHeader(String json, int dataBytes) {
        byte[] h = json.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(h.length).put(h);
        return b.array();
    }

    @Test
    void truncatedFilesAreRefused() throws Exception {
        byte[] good = Files.readAllBytes(written());
        assertTrue(corrupt(Arrays.copyOf(good, 5)).getMessage().contains("shorter than the 8-byte header length"));
        assertTrue(corrupt(Arrays.copyOf(good, 40)).getMessage().contains("header length"));
        String m = corrupt(Arrays.copyOf(good, good.length - 3)).getMessage();
        assertTrue(m.contains("outside the data section"), m);
        assertTrue(corrupt(new byte[0]).getMessage().contains("0 bytes"));
    }

    @Test
    void badHeaderLengthIsRefused() throws Exception {
        byte[] b = Files.readAllBytes(written());
        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putLong(0, 1L << 40);
        assertTrue(corrupt(b).getMessage().contains("header length 1099511627776 is out of range"));
        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putLong(0, -5);
        assertTrue(corrupt(b).getMessage().contains("out of range"));
    }

    @Test
    void headerThatIsNotJsonIsRefused() throws Exception {
        byte[] b = Files.readAllBytes(written());
        b[8] = (byte) '#';
        assertTrue(corrupt(b).getMessage().contains("header is not valid JSON"));
        assertTrue(corrupt(withHeader("[1,2]   ", 0)).getMessage().contains("not a JSON object"));
        byte[] bad = withHeader("{\"a\":\"\u00e9\"}", 0);
        bad[8 + 6] = (byte) 0xff;
        assertTrue(corrupt(bad).getMessage().contains("UTF-8"));
    }

    @Test
    void offsetsShapesAndDtypesAreChecked() throws Exception {
        assertTrue(corrupt(withHeader("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,16]}}", 8)).getMessage()
                .contains("outside the data section of 8 bytes"));
        assertTrue(corrupt(withHeader("{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8)).getMessage()
                .contains("has shape [3] of F32 (12 bytes) but data_offsets [0, 8] cover 8 bytes"));
        assertTrue(corrupt(withHeader("{\"a\":{\"dtype\":\"BF16\",\"shape\":[4],\"data_offsets\":[0,8]}}", 8)).getMessage()
                .contains("unknown or unsupported dtype \"BF16\""));
        assertTrue(corrupt(withHeader("{\"a\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", 8)).getMessage()
                .contains("malformed shape"));
        assertTrue(corrupt(withHeader("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0]}}", 8)).getMessage()
                .contains("malformed data_offsets"));
        assertTrue(corrupt(withHeader("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8)).getMessage()
                .contains("not contiguous"));
        assertTrue(corrupt(withHeader("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 8)).getMessage()
                .contains("trailing bytes"));
        assertTrue(corrupt(withHeader("{\"__metadata__\":{\"k\":1}}", 0)).getMessage().contains("not a string"));
    }

    @Test
    void aFailedWriteLeavesTheOldFileIntactAndNoTemporaryFile() throws Exception {
        Path f = written();
        byte[] before = Files.readAllBytes(f);
        AtomicFiles.hook = (target, written) -> {
            if (written > 8) throw new IOException("simulated crash after " + written + " bytes");
        };
        Map<String, SafeTensors.Entry> other = Map.of("x", new SafeTensors.Entry("F64", new long[] {20000}, new double[20000]));
        IOException e = assertThrows(IOException.class, () -> SafeTensors.write(f, other, Map.of()));
        assertTrue(e.getMessage().contains("simulated crash"));
        assertArrayEquals(before, Files.readAllBytes(f));
        try (var s = Files.list(dir)) {
            assertEquals(List.of(f.getFileName().toString()), s.map(p -> p.getFileName().toString()).toList());
        }
        AtomicFiles.hook = null;
        SafeTensors.write(f, other, Map.of());
        assertFalse(Arrays.equals(before, Files.readAllBytes(f)));
        assertEquals(20000, SafeTensors.read(f).tensors().get("x").values().length);
    }
}
