package io.jdyn.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jdyn.DType;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class ToyDatasetTest {
    private static int count(int[] y, int label) {
        return (int) Arrays.stream(y).filter(v -> v == label).count();
    }

    @Test
    void moonsSizesBalanceAndArcs() {
        Dataset d = ToyDataset.moons(101, 0.0, 1, DType.FLOAT64);
        assertEquals(101, d.size());
        assertEquals(2, d.dim());
        assertEquals(50, count(d.y(), 0));
        assertEquals(51, count(d.y(), 1));
        for (int i = 0; i < d.size(); i++) {
            double[] p = d.sample(i);
            if (d.label(i) == 0) {
                assertEquals(1.0, Math.hypot(p[0], p[1]), 1e-12);
                assertTrue(p[1] >= -1e-12);
            } else {
                assertEquals(1.0, Math.hypot(p[0] - 1, p[1] - 0.5), 1e-12);
                assertTrue(p[1] <= 0.5 + 1e-12);
            }
        }
        // endpoints as sklearn's linspace(0, pi, n)
        assertArrayEquals(new double[] {1, 0}, d.sample(0), 1e-15);
        assertArrayEquals(new double[] {-1, 0}, d.sample(49), 1e-15);
        assertArrayEquals(new double[] {0, 0.5}, d.sample(50), 1e-15);
        assertArrayEquals(new double[] {2, 0.5}, d.sample(100), 1e-15);
    }

    @Test
    void moonsNoiseHasTheRequestedStd() {
        Dataset clean = ToyDataset.moons(20000, 0, 3, DType.FLOAT64);
        Dataset noisy = ToyDataset.moons(20000, 0.1, 3, DType.FLOAT64);
        double[] a = clean.features(), b = noisy.features();
        double s = 0, s2 = 0;
        for (int i = 0; i < a.length; i++) {
            double e = b[i] - a[i];
            s += e;
            s2 += e * e;
        }
        double mean = s / a.length, std = Math.sqrt(s2 / a.length - mean * mean);
        assertEquals(0, mean, 0.005);
        assertEquals(0.1, std, 0.005);
    }

    @Test
    void seededAndReproducible() {
        for (String type : new String[] {"moons", "spirals", "gaussians", "gaussians_spiral", "spheres"}) {
            Dataset a = ToyDataset.generate(type, 64, 42, DType.FLOAT32);
            Dataset b = ToyDataset.generate(type, 64, 42, DType.FLOAT32);
            Dataset c = ToyDataset.generate(type, 64, 43, DType.FLOAT32);
            assertArrayEquals(a.features(), b.features(), type);
            assertArrayEquals(a.y(), b.y(), type);
            assertFalse(Arrays.equals(a.features(), c.features()), type);
            assertEquals(DType.FLOAT32, a.dtype());
            for (double v : a.features()) assertEquals((float) v, v, 0.0);
        }
        assertThrows(IllegalArgumentException.class, () -> ToyDataset.generate("checkerboard", 10, 0, DType.FLOAT64));
    }

    @Test
    void spiralsAreMirroredPairs() {
        Dataset d = ToyDataset.spirals(300, 0.0, 7, DType.FLOAT64);
        assertEquals(600, d.size());
        assertEquals(300, count(d.y(), 0));
        for (int i = 0; i < 300; i++) {
            double[] p = d.sample(i), q = d.sample(300 + i);
            assertEquals(-p[0], q[0], 0.0);
            assertEquals(-p[1], q[1], 0.0);
            double r = Math.hypot(p[0], p[1]);
            assertTrue(r <= 780 * 2 * Math.PI / 360 + 1e-9);
            // on the spiral (-n cos n, n sin n) with n = r
            assertEquals(-r * Math.cos(r), p[0], 1e-9);
            assertEquals(r * Math.sin(r), p[1], 1e-9);
        }
    }

    @Test
    void gaussiansSitOnTheRing() {
        Dataset d = ToyDataset.gaussians(2000, 5, 3, 4.0, 0.1, 0.0, 9, DType.FLOAT64);
        assertEquals(10000, d.size());
        assertEquals(3, d.dim());
        for (int g = 0; g < 5; g++) {
            assertEquals(2000, count(d.y(), g));
            double[] mean = new double[3];
            for (int i = g * 2000; i < (g + 1) * 2000; i++) {
                for (int k = 0; k < 3; k++) mean[k] += d.sample(i)[k] / 2000;
            }
            double a = 2 * Math.PI * (g + 1) / 5;
            assertArrayEquals(new double[] {4 * Math.cos(a), 4 * Math.sin(a), 0}, mean, 0.02);
        }
    }

    @Test
    void gaussiansSpiralRadiiShrink() {
        Dataset d = ToyDataset.gaussiansSpiral(3000, 7, 4, 2, 1.0, 0.2, 0.03, 0.01, 0.0, 5, DType.FLOAT64);
        assertEquals(21000, d.size());
        for (int g = 0; g < 7; g++) {
            double mx = 0, my = 0;
            for (int i = g * 3000; i < (g + 1) * 3000; i++) {
                mx += d.sample(i)[0] / 3000;
                my += d.sample(i)[1] / 3000;
            }
            double r = 1.0 + (0.2 - 1.0) * g / 6, a = 2 * Math.PI * (g + 1) / 4;
            assertEquals(r * Math.cos(a), mx, 0.005);
            assertEquals(r * Math.sin(a), my, 0.005);
        }
    }

    @Test
    void spheresHaveTheirRadii() {
        Dataset d = ToyDataset.spheres(101, 0.0, 4, 0.5, 1.0, 11, DType.FLOAT64);
        assertEquals(101, d.size());
        assertEquals(50, count(d.y(), 1));
        assertEquals(51, count(d.y(), 0));
        for (int i = 0; i < d.size(); i++) {
            double n = 0;
            for (double v : d.sample(i)) n += v * v;
            assertEquals(d.label(i) == 1 ? 0.5 : 1.0, Math.sqrt(n), 1e-12);
        }
    }
}
