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
}
