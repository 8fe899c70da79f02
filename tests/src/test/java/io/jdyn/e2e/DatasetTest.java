package io.jdyn.e2e;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jdyn.DType;
import io.jdyn.Tensor;
import io.jdyn.data.Batch;
import io.jdyn.data.Csv;
import io.jdyn.data.Dataset;
import io.jdyn.data.Npy;
import io.jdyn.data.ToyDataset;
import io.jdyn.io.FormatException;
import io.jdyn.nn.Linear;
import io.jdyn.nn.NeuralField;
import io.jdyn.nn.Sequential;
import io.jdyn.nn.Tanh;
import io.jdyn.ode.Odeint;
import io.jdyn.ode.Solution;
import io.jdyn.ode.SolveOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Data sets as tensors through the native backend: toy data, .npy and CSV files, batches into a solve. */
class DatasetTest {
    @TempDir
    Path dir;

    @Test
    void toyDataAsTensors() {
        Dataset d = ToyDataset.generate("moons", 64, 1, DType.FLOAT32);
        try (Tensor x = d.x()) {
            assertArrayEquals(new long[] {64, 2}, x.shape());
            assertEquals(DType.FLOAT32, x.dtype());
            assertArrayEquals(d.features(), x.toDoubleArray(), 0.0);
        }
        int total = 0;
        for (Batch b : d.batches(16, 3)) {
            try (Tensor x = b.x()) {
                assertArrayEquals(new long[] {16, 2}, x.shape());
                total += (int) x.size(0);
            }
        }
        assertEquals(64, total);
    }

    @Test
    void npyTensorRoundTrip() throws Exception {
        Path f = dir.resolve("x.npy");
        for (DType t : DType.values()) {
            Dataset d = ToyDataset.spheres(30, 0.01, 3, 0.5, 1.0, 2, t);
            try (Tensor x = d.x()) {
                Npy.write(f, x);
                try (Tensor r = Npy.read(f)) {
                    assertEquals(t, r.dtype());
                    assertArrayEquals(x.shape(), r.shape());
                    assertArrayEquals(x.toDoubleArray(), r.toDoubleArray(), 0.0);
                }
            }
            Path y = dir.resolve("y.npy");
            Npy.write(y, d.y());
            assertArrayEquals(d.y(), Npy.readInts(y));
        }
        Files.write(f, new byte[] {1, 2, 3});
        FormatException e = assertThrows(FormatException.class, () -> Npy.read(f));
        assertTrue(e.getMessage().contains(f.toString()));
    }

    @Test
    void csvBatchesDriveASolve() throws Exception {
        Path f = dir.resolve("moons.csv");
        Csv.Options o = Csv.Options.defaults().withHeader(true).withLabelColumn(2).withDType(DType.FLOAT64);
        Csv.write(f, ToyDataset.moons(40, 0.1, 9, DType.FLOAT64), o);
        Dataset d = Csv.read(f, o);
        Dataset.Split s = d.split(0.8, 1);
        assertEquals(32, s.train().size());
        try (NeuralField field = NeuralField.of(Sequential.of(new Linear(2, 8), new Tanh(), new Linear(8, 2)), 2, DType.FLOAT64, 0)) {
            for (Batch b : s.train().batches(8, 4)) {
                try (Tensor y0 = b.x(); Solution sol = Odeint.odeint(field, y0, new double[] {0, 1}, SolveOptions.builder().build())) {
                    assertArrayEquals(new long[] {2, 8, 2}, sol.ys().shape());
                }
            }
        }
    }

    @Test
    void pinwheelHasFfjordsArmsAndRadius() {
        // A point of arm k is 2 R(theta)^T (f0, f1), f0 ~ N(1, 0.3^2), f1 ~ N(0, 0.1^2), theta = 2 pi k / 5 +
        // 0.25 e^f0: its radius / 2 is about f0 (mean 1.005 with f1's share), its angle about -theta.
        Dataset d = ToyDataset.generate("pinwheel", 5000, 3, DType.FLOAT64);
        double[] x = d.features();
        int[] y = d.y();
        assertEquals(5000, y.length);
        int[] counts = new int[5];
        double rs = 0;
        double[] residuals = new double[y.length];
        for (int i = 0; i < y.length; i++) {
            counts[y[i]]++;
            double r = Math.hypot(x[2 * i], x[2 * i + 1]);
            rs += r;
            double predicted = -(2 * Math.PI * y[i] / 5 + 0.25 * Math.exp(r / 2));
            double e = Math.atan2(x[2 * i + 1], x[2 * i]) - predicted;
            residuals[i] = Math.abs(Math.IEEEremainder(e, 2 * Math.PI));
        }
        assertArrayEquals(new int[] {1000, 1000, 1000, 1000, 1000}, counts);
        // radius / 2 has standard deviation about 0.3: 5 standard errors of the mean over 5000 points is 0.021.
        assertEquals(2 * 1.005, rs / y.length, 2 * 0.021);
        java.util.Arrays.sort(residuals);
        // f1 / f0 is about 0.1 rad: the median residual angle is well under 0.15 for points on their arm.
        assertTrue(residuals[y.length / 2] < 0.15, "median angle residual " + residuals[y.length / 2]);
        assertThrows(IllegalArgumentException.class, () -> ToyDataset.pinwheel(4, 1, DType.FLOAT32));
    }
}
