package io.jdyn.e2e;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jdyn.DType;
import io.jdyn.Tensor;
import io.jdyn.fn.Eager;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * io.jdyn.fn.Eager from Java: values of operations against their definitions, backward (the native VJP
 * program) against central finite differences in float64, the bounded program cache, views and the reuse
 * of result buffers. The python-shim's own checks of the same operations are EagerTensorTest's.
 */
class EagerTest {
    private static Tensor t(double[] v, long... shape) {
        return Tensor.of(DType.FLOAT64, v, shape);
    }

    private static double[] random(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        double[] v = new double[n];
        for (int i = 0; i < v.length; i++) v[i] = r.nextDouble(-1.5, 1.5);
        return v;
    }

    @Test
    void valuesMatchTheirDefinitions() {
        double[] a = {1, -2, 3, 4, 5, -6};
        double[] b = {0.5, 2, -1};
        try (Tensor x = t(a, 2, 3); Tensor y = t(b, 3)) {
            assertArrayEquals(new double[] {0.5, -4, -3, 2, 10, 6}, Eager.binary("mul", x, y).toDoubleArray(), 0);
            assertArrayEquals(new double[] {0, 3, -2, -3, -4, 7}, Eager.scalar("rsub_s", x, 1).toDoubleArray(), 0);
            assertArrayEquals(new double[] {2, 3}, Eager.apply("sum", new long[] {0, -1}, null, 0, x).toDoubleArray(),
                    0);
            assertArrayEquals(new double[] {5, 3, -3}, Eager.apply("sum", new long[] {0, 0}, null, 0, x)
                    .toDoubleArray(), 0);
            assertArrayEquals(new double[] {-1, 9},
                    Eager.binary("matmul", x, t(new double[] {1, 1, 0}, 3)).toDoubleArray(), 0);
            // x[:, 1:] then x[1, 2]
            assertArrayEquals(new double[] {-2, 3, 5, -6},
                    Eager.apply("index", new long[] {1, 1, 1, 3, 2, 2, 2}, null, 0, x).toDoubleArray(), 0);
            assertEquals(-6, Eager.apply("index", new long[] {2, 0, 1, 2, 1, 2, 3, 0}, null, 0, x).toDoubleArray()[0]);
            assertArrayEquals(new double[] {2, 1}, Eager.apply("argmax", new long[] {1, 0}, null, 0, x).toDoubleArray(),
                    0);
            Tensor s = Eager.apply("softmax", new long[] {-1}, null, 0, y);
            double z = Math.exp(0.5) + Math.exp(2) + Math.exp(-1);
            assertArrayEquals(new double[] {Math.exp(0.5) / z, Math.exp(2) / z, Math.exp(-1) / z}, s.toDoubleArray(),
                    1e-15);
            assertArrayEquals(new long[] {2, 6}, Eager.apply("cat", new long[] {1}, null, 0, x, x).shape());
            assertArrayEquals(new long[] {2, 2, 3}, Eager.apply("stack", new long[] {0}, null, 0, x, x).shape());
            assertArrayEquals(new double[] {1, 2, 3, 4}, Eager.arange(DType.FLOAT64, 1, 1, 4).toDoubleArray(), 0);
            assertArrayEquals(new double[] {7, 7}, Eager.full(DType.FLOAT32, 7, 2).toDoubleArray(), 0);
            // mixed dtypes compute in float64
            try (Tensor f = Tensor.of(new float[] {2f}, 1)) {
                Tensor r = Eager.binary("mul", f, y);
                assertEquals(DType.FLOAT64, r.dtype());
                assertArrayEquals(new double[] {1, 4, -2}, r.toDoubleArray(), 0);
            }
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> Eager.binary("add", x, t(new double[] {1, 2}, 2)));
            assertTrue(e.getMessage().contains("[2, 3]") && e.getMessage().contains("[2]"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> Eager.unary("nope", x));
        }
    }

    /** d/d inputs of sum(w * op(inputs)) against central differences, every element. */
    private static void checkVjp(String op, long[] ia, double[] fa, double s, long[][] shapes) {
        Tensor[] in = new Tensor[shapes.length];
        for (int i = 0; i < in.length; i++) {
            long n = 1;
            for (long d : shapes[i]) n *= d;
            in[i] = t(random((int) n, 17 + i), shapes[i]);
        }
        Tensor out = Eager.apply(op, ia, fa, s, in);
        double[] w = random((int) out.numel(), 99);
        Tensor[] g = Eager.vjp(op, ia, fa, s, in, t(w, out.shape()), -1);
        double h = 1e-6;
        for (int i = 0; i < in.length; i++) {
            double[] x = in[i].toDoubleArray();
            double[] gi = g[i].toDoubleArray();
            assertArrayEquals(in[i].shape(), g[i].shape(), op);
            for (int e = 0; e < x.length; e++) {
                double[] p = x.clone(), m = x.clone();
                p[e] += h;
                m[e] -= h;
                Tensor[] ip = in.clone(), im = in.clone();
                ip[i] = t(p, in[i].shape());
                im[i] = t(m, in[i].shape());
                double fd = (dot(w, Eager.apply(op, ia, fa, s, ip)) - dot(w, Eager.apply(op, ia, fa, s, im))) / (2 * h);
                assertEquals(fd, gi[e], 1e-7 * Math.max(1, Math.abs(fd)), op + ": d/d input " + i + "[" + e + "]");
            }
        }
    }

    private static double dot(double[] w, Tensor t) {
        double[] v = t.toDoubleArray();
        double s = 0;
        for (int i = 0; i < v.length; i++) s += w[i] * v[i];
        return s;
    }

    @Test
    void backwardIsTheNativeVjpAndMatchesFiniteDifferences() {
        checkVjp("mul", null, null, 0, new long[][] {{2, 3}, {3}});
        checkVjp("div", null, null, 0, new long[][] {{2, 1}, {1, 3}});
        checkVjp("tanh", null, null, 0, new long[][] {{4}});
        checkVjp("rdiv_s", null, null, 3.0, new long[][] {{2, 2}});
        checkVjp("matmul", null, null, 0, new long[][] {{2, 3}, {3, 2}});
        checkVjp("matmul", null, null, 0, new long[][] {{3}, {3}});
        checkVjp("bmm", null, null, 0, new long[][] {{2, 2, 3}, {2, 3, 2}});
        checkVjp("sum", new long[] {1, -1}, null, 0, new long[][] {{2, 3}});
        checkVjp("amax", new long[] {0}, null, 0, new long[][] {{2, 3}});
        checkVjp("log_softmax", new long[] {0}, null, 0, new long[][] {{3, 2}});
        checkVjp("logsumexp", new long[] {0, 1}, null, 0, new long[][] {{2, 3}});
        checkVjp("index", new long[] {1, 1, 1, 3, 2, 2, 2}, null, 0, new long[][] {{2, 3}});
        checkVjp("cat", new long[] {-1}, null, 0, new long[][] {{2, 1}, {2, 2}});
        checkVjp("expand", new long[] {2, 3}, null, 0, new long[][] {{1, 3}});
        checkVjp("transpose", null, null, 0, new long[][] {{2, 3}});
        checkVjp("clamp", null, new double[] {-0.5, Double.NaN}, 0, new long[][] {{5}});
        // only the inputs asked for
        try (Tensor a = t(new double[] {1, 2}, 2); Tensor b = t(new double[] {3, 4}, 2)) {
            Tensor[] g = Eager.vjp("mul", null, null, 0, new Tensor[] {a, b}, t(new double[] {1, 1}, 2), 2);
            assertNull(g[0]);
            assertArrayEquals(new double[] {1, 2}, g[1].toDoubleArray(), 0);
            assertNull(Eager.vjp("gt", null, null, 0, new Tensor[] {a, b}, t(new double[] {1, 1}, 2), -1)[0]);
        }
    }

    @Test
    void randomTensorsAreReproducible() {
        Tensor a = Eager.randn(DType.FLOAT64, 5, 1000), b = Eager.randn(DType.FLOAT64, 5, 1000);
        assertArrayEquals(a.toDoubleArray(), b.toDoubleArray(), 0);
        double[] u = Eager.rand(DType.FLOAT32, 6, 10, 100).toDoubleArray();
        for (double v : u) assertTrue(v >= 0 && v < 1, "uniform in [0, 1): " + v);
    }

    @Test
    void theProgramCacheIsBoundedAndBuffersAreReused() {
        for (int n = 1; n <= Eager.CAPACITY + 10; n++) {
            try (Tensor x = Eager.full(DType.FLOAT64, 1.0, n)) {
                assertEquals(n, x.numel());
            }
        }
        assertTrue(Eager.cacheSize() <= Eager.CAPACITY, "cache of " + Eager.cacheSize());
        // a view shares the buffer; a result collected gives its buffer back for the next one
        Tensor x = Eager.full(DType.FLOAT64, 2.0, 2, 3);
        Tensor v = Eager.view(x, 3, 2);
        assertArrayEquals(x.toDoubleArray(), v.toDoubleArray(), 0);
        assertThrows(IllegalArgumentException.class, () -> Eager.view(x, 4));
        long[] before = Eager.poolBytes();
        assertTrue(before[0] > 0, "results are handed out from the pool");
    }
}
