package io.jdyn.e2e;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jdyn.DType;
import io.jdyn.Tensor;
import io.jdyn.io.AtomicFiles;
import io.jdyn.io.Checkpoint;
import io.jdyn.io.FormatException;
import io.jdyn.io.SafeTensors;
import io.jdyn.nn.Augmenter;
import io.jdyn.nn.Basis;
import io.jdyn.nn.DepthCat;
import io.jdyn.nn.ELU;
import io.jdyn.nn.GalLinear;
import io.jdyn.nn.Linear;
import io.jdyn.nn.NeuralField;
import io.jdyn.nn.Sequential;
import io.jdyn.nn.Softplus;
import io.jdyn.nn.Tanh;
import java.io.IOException;
import java.lang.reflect.Field;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.Proxy;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Checkpoints of NeuralFields: round trips, the PyTorch naming, atomic saves, corrupted files. */
class CheckpointTest {
    @TempDir
    Path dir;

    private static final Sequential GAL = Sequential.of(new Augmenter(1), new DepthCat(), new Linear(4, 16), new Tanh(),
            new GalLinear(16, 2, Basis.fourier(1.5), 3));
    private static final Sequential MLP64 = Sequential.of(new Linear(3, 8, false), new Softplus(2.0, 10.0), new Linear(8, 8),
            new ELU(0.5), new GalLinear(8, 3, Basis.polynomial(), 2, false));

    private static void assertSameField(NeuralField a, NeuralField b) {
        assertEquals(a.net(), b.net());
        assertEquals(a.dim(), b.dim());
        assertEquals(a.dtype(), b.dtype());
        assertEquals(a.numParams(), b.numParams());
        for (int i = 0; i < a.net().size(); i++) {
            double[] x = a.parameters().layerValues(i), y = b.parameters().layerValues(i);
            assertEquals(x.length, y.length);
            for (int k = 0; k < x.length; k++) {
                assertEquals(Double.doubleToRawLongBits(x[k]), Double.doubleToRawLongBits(y[k]), "layer " + i + " value " + k);
            }
        }
        int d = a.dim();
        double[] z = new double[5 * d];
        for (int i = 0; i < z.length; i++) z[i] = Math.sin(1.3 * i) - 0.2;
        try (Tensor zt = Tensor.of(a.dtype(), z, 5, d); Tensor fa = a.forward(0.37, zt); Tensor fb = b.forward(0.37, zt)) {
            assertArrayEquals(fa.toDoubleArray(), fb.toDoubleArray(), 0.0);
        }
    }

    @Test
    void roundTripIsBitIdenticalInBothDtypes() throws Exception {
        try (NeuralField f = NeuralField.of(GAL, 2, DType.FLOAT32, 11)) {
            Path file = dir.resolve("gal.safetensors");
            Checkpoint.save(file, f, Map.of("epoch", "12", "loss", "0.031"));
            try (NeuralField g = Checkpoint.load(file)) {
                assertSameField(f, g);
            }
            Map<String, String> md = Checkpoint.metadata(file);
            assertEquals("12", md.get("epoch"));
            assertEquals("0.031", md.get("loss"));
            assertTrue(md.get(Checkpoint.ARCHITECTURE_KEY).contains("\"type\":\"GalLinear\""));
        }
        try (NeuralField f = NeuralField.of(MLP64, 3, DType.FLOAT64, 5)) {
            Checkpoint.save(dir, f, null);
            assertTrue(Files.isRegularFile(dir.resolve(Checkpoint.FILE_NAME)));
            try (NeuralField g = Checkpoint.load(dir)) {
                assertSameField(f, g);
            }
        }
    }

    @Test
    void tensorsAreNamedAndShapedAsPytorchStateDict() throws Exception {
        try (NeuralField f = NeuralField.of(GAL, 2, DType.FLOAT32, 3)) {
            Path file = dir.resolve("gal.safetensors");
            Checkpoint.save(file, f);
            SafeTensors.Contents c = SafeTensors.read(file);
            assertEquals(List.of("2.weight", "2.bias", "4.coeffs_weight", "4.coeffs_bias"), List.copyOf(c.tensors().keySet()));
            assertArrayEquals(new long[] {16, 4}, c.tensors().get("2.weight").shape());
            assertArrayEquals(new long[] {16}, c.tensors().get("2.bias").shape());
            assertArrayEquals(new long[] {3, 2, 16}, c.tensors().get("4.coeffs_weight").shape());
            assertArrayEquals(new long[] {3, 2}, c.tensors().get("4.coeffs_bias").shape());
            for (SafeTensors.Entry e : c.tensors().values()) assertEquals("F32", e.dtype());
            double[] l2 = f.parameters().layerValues(2);
            // W [out, in] row-major first: weight[1][3] is flat 1 * 4 + 3
            assertEquals(l2[7], c.tensors().get("2.weight").values()[7], 0.0);
            assertEquals(l2[64], c.tensors().get("2.bias").values()[0], 0.0);
            // the raw bytes of 2.weight are the float32 parameters, little-endian
            byte[] b = Files.readAllBytes(file);
            long n = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
            String header = new String(b, 8, (int) n, StandardCharsets.UTF_8);
            assertTrue(header.contains("\"2.weight\":{\"dtype\":\"F32\",\"shape\":[16,4],\"data_offsets\":[0,256]}"), header);
            ByteBuffer data = ByteBuffer.wrap(b, 8 + (int) n, b.length - 8 - (int) n).slice().order(ByteOrder.LITTLE_ENDIAN);
            for (int k = 0; k < 64; k++) assertEquals((float) l2[k], data.getFloat(4 * k));
        }
    }

    @Test
    void reservedMetadataKeyIsRefused() {
        try (NeuralField f = NeuralField.of(MLP64, 3, DType.FLOAT64, 5)) {
            assertThrows(IllegalArgumentException.class,
                    () -> Checkpoint.save(dir.resolve("x.safetensors"), f, Map.of(Checkpoint.ARCHITECTURE_KEY, "{}")));
        }
    }

    private static void setHook(Object hook) throws Exception {
        Field h = AtomicFiles.class.getDeclaredField("hook");
        h.setAccessible(true);
        h.set(null, hook);
    }

    @Test
    void aSaveThatFailsMidWayLeavesThePreviousCheckpoint() throws Exception {
        Path file = dir.resolve("ckpt.safetensors");
        try (NeuralField old = NeuralField.of(MLP64, 3, DType.FLOAT64, 1); NeuralField next = NeuralField.of(MLP64, 3, DType.FLOAT64, 2)) {
            Checkpoint.save(file, old, Map.of("step", "1"));
            byte[] before = Files.readAllBytes(file);
            Class<?> hookType = Class.forName("io.jdyn.io.AtomicFiles$Hook");
            InvocationHandler crash = (proxy, method, args) -> {
                if (method.getName().equals("afterWrite") && (long) args[1] > 100) throw new IOException("simulated crash");
                return null;
            };
            setHook(Proxy.newProxyInstance(hookType.getClassLoader(), new Class<?>[] {hookType}, crash));
            try {
                IOException e = assertThrows(IOException.class, () -> Checkpoint.save(file, next, Map.of("step", "2")));
                assertTrue(e.getMessage().contains("simulated crash"));
            } finally {
                setHook(null);
            }
            assertArrayEquals(before, Files.readAllBytes(file));
            try (var s = Files.list(dir)) {
                assertEquals(1, s.count(), "the temporary file is removed");
            }
            try (NeuralField back = Checkpoint.load(file)) {
                assertSameField(old, back);
                assertEquals("1", Checkpoint.metadata(file).get("step"));
            }
            Checkpoint.save(file, next, Map.of("step", "2"));
            try (NeuralField back = Checkpoint.load(file)) {
                assertSameField(next, back);
            }
        }
    }

    private String loadError(byte[] bytes) throws IOException {
        Path f = dir.resolve("bad.safetensors");
        Files.write(f, bytes);
        FormatException e = assertThrows(FormatException.class, () -> Checkpoint.load(f));
        assertTrue(e.getMessage().startsWith(f.toString()), e.getMessage());
        return e.getMessage();
    }

    @Test
    void truncatedAndCorruptedCheckpointsAreRefused() throws Exception {
        Path file = dir.resolve("good.safetensors");
        try (NeuralField f = NeuralField.of(GAL, 2, DType.FLOAT32, 4)) {
            Checkpoint.save(file, f);
        }
        byte[] good = Files.readAllBytes(file);
        long n = ByteBuffer.wrap(good).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
        for (int len : new int[] {0, 4, 8, 20, (int) n + 7, (int) n + 8, (int) n + 9, good.length - 4, good.length - 1}) {
            String m = loadError(Arrays.copyOf(good, len));
            assertTrue(m.contains("truncated") || m.contains("header length") || m.contains("outside the data section"), len + ": " + m);
        }
        byte[] appended = Arrays.copyOf(good, good.length + 4);
        assertTrue(loadError(appended).contains("trailing bytes"));

        byte[] badLen = good.clone();
        ByteBuffer.wrap(badLen).order(ByteOrder.LITTLE_ENDIAN).putLong(0, good.length);
        assertTrue(loadError(badLen).contains("header length"));

        byte[] notJson = good.clone();
        notJson[8] = 'x';
        assertTrue(loadError(notJson).contains("header is not valid JSON"));

        String header = new String(good, 8, (int) n, StandardCharsets.UTF_8);
        assertTrue(loadError(replaceInHeader(good, header, "\"F32\",\"shape\":[16,4]", "\"F16\",\"shape\":[16,4]"))
                .contains("unsupported dtype \"F16\""));
        assertTrue(loadError(replaceInHeader(good, header, "\"shape\":[16,4]", "\"shape\":[16,5]"))
                .contains("but data_offsets [0, 256] cover 256 bytes"));
        assertTrue(loadError(replaceInHeader(good, header, "\"2.weight\"", "\"7.weight\"")).contains("missing tensor \"2.weight\""));
        assertTrue(loadError(replaceInHeader(good, header, "[0,256]", "[0,999]")).contains("outside the data section"));
        assertTrue(loadError(replaceInHeader(good, header, "Linear\\\",\\\"in_features\\\":4", "Linear\\\",\\\"in_features\\\":5"))
                .contains("architecture is inconsistent"));
    }

    @Test
    void tensorsThatDoNotFitTheArchitectureAreRefused() throws Exception {
        Path file = dir.resolve("good.safetensors");
        try (NeuralField f = NeuralField.of(MLP64, 3, DType.FLOAT64, 4)) {
            Checkpoint.save(file, f);
        }
        SafeTensors.Contents c = SafeTensors.read(file);
        Path bad = dir.resolve("bad.safetensors");
        Map<String, SafeTensors.Entry> t = new LinkedHashMap<>(c.tensors());
        t.put("0.weight", new SafeTensors.Entry("F64", new long[] {3, 8}, c.tensors().get("0.weight").values()));
        SafeTensors.write(bad, t, c.metadata());
        assertTrue(assertThrows(FormatException.class, () -> Checkpoint.load(bad)).getMessage()
                .contains("tensor \"0.weight\" has shape [3, 8] but the architecture needs [8, 3]"));
        t = new LinkedHashMap<>(c.tensors());
        double[] w = c.tensors().get("0.weight").values();
        t.put("0.weight", new SafeTensors.Entry("F32", new long[] {8, 3}, w));
        SafeTensors.write(bad, t, c.metadata());
        assertTrue(assertThrows(FormatException.class, () -> Checkpoint.load(bad)).getMessage().contains("is F32 but"));
        t = new LinkedHashMap<>(c.tensors());
        t.put("0.bias", new SafeTensors.Entry("F64", new long[] {8}, new double[8]));
        SafeTensors.write(bad, t, c.metadata());
        assertTrue(assertThrows(FormatException.class, () -> Checkpoint.load(bad)).getMessage().contains("no place for"));
        SafeTensors.write(bad, c.tensors(), Map.of("x", "y"));
        assertTrue(assertThrows(FormatException.class, () -> Checkpoint.load(bad)).getMessage().contains("not a jdyn checkpoint"));
    }

    /** The file with one header substring replaced (the header length adjusted). */
    private static byte[] replaceInHeader(byte[] file, String header, String from, String to) {
        assertTrue(header.contains(from), from);
        byte[] h = header.replace(from, to).getBytes(StandardCharsets.UTF_8);
        int oldLen = header.getBytes(StandardCharsets.UTF_8).length;
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + file.length - 8 - oldLen).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(h.length).put(h).put(file, 8 + oldLen, file.length - 8 - oldLen);
        return b.array();
    }
}
