package io.jdyn.e2e;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jdyn.DType;
import io.jdyn.Jdyn;
import io.jdyn.Tensor;
import io.jdyn.data.Dataset;
import io.jdyn.data.ToyDataset;
import io.jdyn.models.NeuralODE;
import io.jdyn.nn.Linear;
import io.jdyn.nn.Sequential;
import io.jdyn.nn.Tanh;
import io.jdyn.ode.Odeint;
import io.jdyn.ode.SolveOptions;
import io.jdyn.ode.Solution;
import io.jdyn.train.Callback;
import io.jdyn.train.StepMetrics;
import io.jdyn.train.Trainer;
import io.jdyn.train.TrainerState;
import io.jdyn.train.optim.Adam;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Jdyn.setThreads: the batch is split over worker threads with block boundaries set by the batch size
 * alone, so training gives bitwise the same losses and parameters with 1 and 2 threads.
 */
class ThreadsTest {
    // 8200 rows: 32 row blocks for the field, and the 16400-value state of a gradient solve is two
    // element blocks for the engine, so both kinds of splitting run.
    private static final int BATCH = 8200;

    @AfterEach
    void oneThreadAgain() {
        Jdyn.setThreads(1); // the tests share a JVM and the setting is process-wide
    }

    private record Run(double[] losses, long[] nfe, double[] params) {}

    private static Run train(int threads, String sensitivity) {
        Jdyn.setThreads(threads);
        Dataset d = ToyDataset.moons(BATCH, 0.1, 4, DType.FLOAT32);
        List<StepMetrics> steps = new ArrayList<>();
        Callback rec = new Callback() {
            @Override
            public void onStepEnd(TrainerState s, StepMetrics m) {
                steps.add(m);
            }
        };
        try (NeuralODE m = NeuralODE.builder(Sequential.of(new Linear(2, 16), new Tanh(), new Linear(16, 2)), 2).seed(3)
                .sensitivity(sensitivity).build()) {
            Trainer.builder().maxEpochs(3).batchSize(BATCH).seed(1).progress(false)
                    .optimizer(p -> Adam.of(p, 2e-2)).callbacks(rec).build().fit(m, d);
            return new Run(steps.stream().mapToDouble(StepMetrics::loss).toArray(),
                    steps.stream().mapToLong(s -> s.nfeForward() + 1000L * s.nfeBackward()).toArray(),
                    m.parameters().values().toDoubleArray());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"autograd", "adjoint"})
    void trainingStepsAreBitwiseTheSameWithOneAndTwoThreads(String sensitivity) {
        Run one = train(1, sensitivity);
        Run two = train(2, sensitivity);
        assertEquals(3, one.losses().length);
        assertTrue(one.losses()[2] < one.losses()[0], "the steps train: " + java.util.Arrays.toString(one.losses()));
        // Exact equality (delta 0): the parameters after three Adam steps are the same only if every
        // step's gradient was.
        assertArrayEquals(one.losses(), two.losses(), 0.0);
        assertArrayEquals(one.nfe(), two.nfe());
        assertArrayEquals(one.params(), two.params(), 0.0);
    }

    @Test
    void aJavaFieldRunsOnTheCallingThreadWhileTheArithmeticAroundItIsSplit() {
        // 10,000 rotations dz = (z1, -z0) w_r: the engine's arithmetic on 20,000 values runs in two
        // blocks; the Java field sees the whole batch on this thread.
        int n = 10_000;
        double[] y0 = new double[2 * n];
        for (int i = 0; i < n; i++) y0[2 * i] = 1;
        Thread caller = Thread.currentThread();
        double[][] ys = new double[2][];
        for (int threads = 1; threads <= 2; threads++) {
            Jdyn.setThreads(threads);
            assertEquals(threads, Jdyn.threads());
            try (Tensor y = Tensor.of(y0, n, 2);
                    Solution s = Odeint.odeint((t, z, dz) -> {
                        assertEquals(caller, Thread.currentThread());
                        for (int r = 0; r < n; r++) {
                            double w = 0.5 + r / (double) n;
                            dz.set(r, 0, w * z.get(r, 1));
                            dz.set(r, 1, -w * z.get(r, 0));
                        }
                    }, y, new double[] {0, 1}, SolveOptions.builder().rtol(1e-8).atol(1e-8).build())) {
                ys[threads - 1] = s.ys().toDoubleArray();
            }
        }
        assertArrayEquals(ys[0], ys[1], 0.0);
        // z0(1) = cos(w) for each row: rtol = atol = 1e-8 keeps the global error below 1e-6.
        for (int r = 0; r < n; r += 997) assertEquals(Math.cos(0.5 + r / (double) n), ys[1][2 * n + 2 * r], 1e-6);
        assertTrue(Jdyn.info().contains("threads: 2"), Jdyn.info());
    }

    @Test
    void aThreadCountOutsideOneTo1024IsRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Jdyn.setThreads(0));
        assertTrue(e.getMessage().contains("threads"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Jdyn.setThreads(1025));
        assertEquals(1, Jdyn.threads());
    }
}
