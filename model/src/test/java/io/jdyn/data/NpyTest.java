package io.jdyn.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jdyn.io.FormatException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NpyTest {
    @TempDir
    Path dir;

    /** A file as NumPy writes it (version 1.0, header padded to 64). */
    private static byte[] npy(String header, byte[] data) {
        String h = header;
        int total = 10 + h.length() + 1;
        h = h + " ".repeat((64 - total % 64) % 64) + "\n";
        ByteBuffer b = ByteBuffer.allocate(10 + h.length() + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.put(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0}).putShort((short) h.length());
        b.put(h.getBytes(StandardCharsets.ISO_8859_1)).put(data);
        return b.array();
    }

    private Path file(String name, byte[] bytes) throws IOException {
        Path f = dir.resolve(name);
        Files.write(f, bytes);
        return f;
    }

    @Test
    void readsEverySupportedDtype() throws Exception {
        ByteBuffer f4 = ByteBuffer.allocate(24).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < 6; i++) f4.putFloat(i * 0.5f);
        NpyArray a = Npy.readArray(file("a.npy", npy("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 2), }", f4.array())));
        assertEquals("<f4", a.descr());
        assertArrayEquals(new long[] {3, 2}, a.shape());
        assertArrayEquals(new double[] {0, 0.5, 1, 1.5, 2, 2.5}, a.values());

        ByteBuffer i8 = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(-7).putLong(1L << 40);
        NpyArray b = Npy.readArray(file("b.npy", npy("{'descr': '<i8', 'fortran_order': False, 'shape': (2,), }", i8.array())));
        assertArrayEquals(new double[] {-7, 1L << 40}, b.values());

        ByteBuffer i4 = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN).putInt(0).putInt(1).putInt(-1);
        assertArrayEquals(new int[] {0, 1, -1},
                Npy.readInts(file("c.npy", npy("{'descr': '<i4', 'fortran_order': False, 'shape': (3,), }", i4.array()))));

        ByteBuffer f8 = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putDouble(Math.E);
        NpyArray s = Npy.readArray(file("d.npy", npy("{'descr': '<f8', 'fortran_order': False, 'shape': (), }", f8.array())));
        assertEquals(0, s.shape().length);
        assertArrayEquals(new double[] {Math.E}, s.values());
    }

    @Test
    void writeMatchesNumpyLayoutAndRoundTrips() throws Exception {
        Path f = dir.resolve("w.npy");
        NpyArray a = new NpyArray("<f8", new long[] {2, 3}, new double[] {1, -2, Math.PI, Double.MIN_VALUE, -0.0, 1e300});
        Npy.write(f, a);
        byte[] b = Files.readAllBytes(f);
        int hl = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).getShort(8);
        assertEquals(0, (10 + hl) % 64);
        assertEquals("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }", new String(b, 10, hl, StandardCharsets.ISO_8859_1).trim());
        NpyArray r = Npy.readArray(f);
        assertArrayEquals(a.shape(), r.shape());
        for (int i = 0; i < 6; i++) assertEquals(Double.doubleToRawLongBits(a.values()[i]), Double.doubleToRawLongBits(r.values()[i]));

        Npy.write(f, new int[] {3, 1, 4});
        assertTrue(new String(Files.readAllBytes(f), StandardCharsets.ISO_8859_1).contains("'shape': (3,)"));
        assertArrayEquals(new int[] {3, 1, 4}, Npy.readInts(f));
        for (String d : new String[] {"<f4", "<i4", "<i8"}) {
            Npy.write(f, new NpyArray(d, new long[] {4}, new double[] {1, 2, 3, -4}));
            assertArrayEquals(new double[] {1, 2, 3, -4}, Npy.readArray(f).values(), d);
        }
    }

    private String error(byte[] bytes) throws IOException {
        Path f = file("bad.npy", bytes);
        FormatException e = assertThrows(FormatException.class, () -> Npy.readArray(f));
        assertTrue(e.getMessage().startsWith(f.toString()), e.getMessage());
        return e.getMessage();
    }

    @Test
    void malformedFilesAreNamed() throws Exception {
        byte[] eight = new byte[8];
        assertTrue(error(npy("{'descr': '<f8', 'fortran_order': True, 'shape': (1,), }", eight)).contains("Fortran order"));
        assertTrue(error(npy("{'descr': '>f8', 'fortran_order': False, 'shape': (1,), }", eight)).contains("'>f8', which is not supported"));
        assertTrue(error(npy("{'descr': '<c16', 'fortran_order': False, 'shape': (1,), }", eight)).contains("not supported"));
        assertTrue(error(npy("{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }", eight)).contains("(truncated)"));
        assertTrue(error(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", eight)).contains("(trailing bytes)"));
        assertTrue(error(npy("{'shape': (1,), }", eight)).contains("malformed header"));
        assertTrue(error("hello world, not npy".getBytes(StandardCharsets.US_ASCII)).contains("magic"));
        byte[] good = npy("{'descr': '<f8', 'fortran_order': False, 'shape': (1,), }", eight);
        assertTrue(error(Arrays.copyOf(good, 30)).contains("runs past the end"));
        byte[] v9 = good.clone();
        v9[6] = 9;
        assertTrue(error(v9).contains("version 9"));
    }
}
