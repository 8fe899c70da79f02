package io.jdyn.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.jdyn.DType;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class DatasetTest {
    private static Dataset numbered(int n) {
        double[] x = new double[2 * n];
        int[] y = new int[n];
        for (int i = 0; i < n; i++) {
            x[2 * i] = i;
            x[2 * i + 1] = -i;
            y[i] = i % 3;
        }
        return new Dataset(x, n, 2, y, DType.FLOAT64);
    }

    @Test
    void everySampleExactlyOncePerEpoch() {
        Dataset d = numbered(103);
        List<Batch> batches = d.batches(10, 5);
        assertEquals(11, batches.size());
        assertEquals(3, batches.get(10).size());
        int[] seen = new int[103];
        for (Batch b : batches) {
            double[] f = b.features();
            int[] y = b.y();
            int[] idx = b.indices();
            for (int k = 0; k < b.size(); k++) {
                seen[idx[k]]++;
                assertEquals(idx[k], f[2 * k], 0.0);
                assertEquals(-idx[k], f[2 * k + 1], 0.0);
                assertEquals(idx[k] % 3, y[k]);
            }
        }
        for (int s : seen) assertEquals(1, s);
    }

    @Test
    void deterministicPerSeedAndShuffled() {
        Dataset d = numbered(50);
        int[] a = d.batches(7, 1).get(0).indices(), b = d.batches(7, 1).get(0).indices();
        assertArrayEquals(a, b);
        assertFalse(Arrays.equals(a, d.batches(7, 2).get(0).indices()));
        int[] full = d.batches(50, 3).get(0).indices();
        assertEquals(1, d.batches(50, 3).size());
        assertEquals(1, d.batches(1000, 3).size());
        assertNotEquals(Arrays.toString(full), Arrays.toString(java.util.stream.IntStream.range(0, 50).toArray()));
        assertEquals(50, Arrays.stream(full).distinct().count());
        assertThrows(IllegalArgumentException.class, () -> d.batches(0, 1));
    }

    @Test
    void splitPartitions() {
        Dataset d = numbered(40);
        Dataset.Split s = d.split(0.75, 9);
        assertEquals(30, s.train().size());
        assertEquals(10, s.validation().size());
        boolean[] seen = new boolean[40];
        for (Dataset part : List.of(s.train(), s.validation())) {
            for (int i = 0; i < part.size(); i++) {
                int id = (int) part.sample(i)[0];
                assertFalse(seen[id]);
                seen[id] = true;
                assertEquals(id % 3, part.label(i));
            }
        }
        assertArrayEquals(s.train().features(), d.split(0.75, 9).train().features());
        assertThrows(IllegalArgumentException.class, () -> d.split(1.0, 1));
        assertThrows(IllegalArgumentException.class, () -> d.split(0.001, 1));
    }

    @Test
    void constructorChecks() {
        assertThrows(IllegalArgumentException.class, () -> new Dataset(new double[5], 3, 2, null, DType.FLOAT64));
        assertThrows(IllegalArgumentException.class, () -> new Dataset(new double[6], 3, 2, new int[2], DType.FLOAT64));
        Dataset f = new Dataset(new double[] {0.1, 0.2}, 1, 2, null, DType.FLOAT32);
        assertEquals((float) 0.1, f.features()[0], 0.0);
        assertThrows(IllegalStateException.class, () -> f.label(0));
    }
}
