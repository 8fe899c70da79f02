package io.jdyn.bench;

import io.jdyn.Tensor;
import io.jdyn.ode.Odeint;
import io.jdyn.ode.SolveOptions;
import io.jdyn.ode.SolveStats;
import io.jdyn.ode.Solution;
import io.jdyn.ode.VectorField;
import java.lang.management.ManagementFactory;
import java.util.function.Consumer;

/**
 * upcall-eval: what one evaluation of a Java vector field costs through the engine, ns. A trivial
 * field dz = -z, dim 1, batch 1, is solved with euler on a fixed grid of 200,000 steps; the median
 * time of the solve divided by its evaluation count. That includes the upcall from native code into
 * Java and back, re-pointing the two BatchViews, the field's get and set, and euler's own work per
 * step in the engine (a length-1 update), which is small beside the upcall.
 */
final class UpcallEval implements Benchmark {
    static final int STEPS = 200_000;

    /** A trivial Java field: one get and one set. */
    static final VectorField TRIVIAL = (t, z, dz) -> dz.set(0L, -z.get(0L));

    /** A fixed-step solve of the trivial field, ready to be timed; its statistics come from a first run. */
    static final class FixedStepSolve implements AutoCloseable {
        final String label;
        final SolveStats stats;
        private final Tensor y0 = Tensor.of(new double[] {1}, 1);
        private final SolveOptions options;
        private final double[] t = {0, 1};

        FixedStepSolve(String method, int steps) {
            label = method + ", " + steps + " fixed steps of a trivial Java field (dim 1, batch 1)";
            options = SolveOptions.builder().method(method).dt(1.0 / steps).maxSteps(0).build();
            try (Solution s = Odeint.odeint(TRIVIAL, y0, t, options)) {
                stats = s.stats();
            }
        }

        void run() {
            try (Solution s = Odeint.odeint(TRIVIAL, y0, t, options)) {
                if (s.stats().nfe() != stats.nfe()) throw new IllegalStateException("nfe changed between runs");
            }
        }

        @Override
        public void close() {
            y0.close();
        }
    }

    @Override
    public String unit() {
        return "ns";
    }

    @Override
    public void run(Consumer<Json> out) throws Exception {
        try (FixedStepSolve euler = new FixedStepSolve("euler", STEPS)) {
            Timing.Result r = Timing.measure(euler.label, 5, 21, euler::run);
            double bytesPerEval = Double.NaN;
            if (ManagementFactory.getThreadMXBean() instanceof com.sun.management.ThreadMXBean t
                    && t.isThreadAllocatedMemorySupported()) {
                long before = t.getCurrentThreadAllocatedBytes();
                euler.run();
                bytesPerEval = (double) (t.getCurrentThreadAllocatedBytes() - before) / euler.stats.nfe();
            }
            Json j = Json.bench("upcall-eval").num("value", r.medianNs() / euler.stats.nfe()).str("unit", "ns")
                    .str("measure", "median time of a fixed-step euler solve of dz = -z (dim 1, batch 1) / nfe")
                    .str("method", "euler").num("steps", euler.stats.accepted()).num("nfe", euler.stats.nfe())
                    .num("dim", 1).num("batch", 1).str("dtype", "float64").num("solve_ms", r.medianMs())
                    .num("min_ns", r.minNs() / euler.stats.nfe()).num("heap_bytes_per_eval", bytesPerEval)
                    .str("includes", "native-to-Java upcall and return, re-pointing the BatchViews, one get and one"
                            + " set, euler's per-step engine work")
                    .str("baseline_note", "none yet: there is no native vector field to compare with");
            out.accept(r.describe(j));
        }
    }
}
