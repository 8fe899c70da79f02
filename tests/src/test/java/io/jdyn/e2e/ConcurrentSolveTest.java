package io.jdyn.e2e;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jdyn.ode.SolveOptions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/** Solves on several threads at once: each solve's callbacks and errors stay on its own thread. */
class ConcurrentSolveTest {
    @Test
    void parallelSolvesMatchSequentialOnes() throws Exception {
        int n = 32;
        SolveOptions o = Problems.adaptive("dopri5", 1e-9);
        double[] times = {0, 1, 3};
        double[][][] sequential = new double[n][][];
        for (int i = 0; i < n; i++) sequential[i] = Problems.solve(Problems.harmonic(0.5 + 0.1 * i), new double[] {1, 0}, times, o);

        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<double[][]>> futures = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                double w = 0.5 + 0.1 * i;
                futures.add(pool.submit(() -> Problems.solve(Problems.harmonic(w), new double[] {1, 0}, times, o)));
            }
            // Failing solves on other threads at the same time must not leak into these.
            List<Future<Boolean>> failures = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                failures.add(pool.submit(() -> {
                    try {
                        Problems.solve((t, y, dy) -> {
                            throw new IllegalStateException("deliberate");
                        }, new double[] {1}, times, o);
                        return false;
                    } catch (io.jdyn.ode.VectorFieldException e) {
                        return e.getCause().getMessage().equals("deliberate");
                    }
                }));
            }
            for (int i = 0; i < n; i++) {
                double[][] got = futures.get(i).get();
                // The same solve, the same arithmetic: bit-identical to the sequential run.
                for (int k = 0; k < times.length; k++) assertArrayEquals(sequential[i][k], got[k], 0.0);
            }
            for (Future<Boolean> f : failures) assertTrue(f.get(), "each failure reports its own cause");
        } finally {
            pool.shutdownNow();
        }
    }
}
