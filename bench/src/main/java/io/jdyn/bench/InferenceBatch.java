package io.jdyn.bench;

import io.jdyn.DType;
import io.jdyn.Tensor;
import io.jdyn.nn.Linear;
import io.jdyn.nn.NeuralField;
import io.jdyn.nn.Sequential;
import io.jdyn.nn.Tanh;
import io.jdyn.ode.Odeint;
import io.jdyn.ode.Solution;
import io.jdyn.ode.SolveOptions;
import java.util.SplittableRandom;
import java.util.function.Consumer;

/**
 * inference-batch: the forward solve (no gradients) of a 2-64-64-2 tanh field, Linear(2, 64) - Tanh -
 * Linear(64, 64) - Tanh - Linear(64, 2), PyTorch's default init (seed 0), float32, dopri5 at rtol =
 * atol = 1e-5 over t in [0, 1], from points uniform in [-1, 1]^2, at batch 1, 256, 4096 and 65536: the
 * median time of one {@code Odeint.odeint} call (including its ys allocation and the solution's close)
 * and samples per second. Baseline: the same GEMMs and activations alone, nfe x (one
 * {@code NeuralField.forward} at that batch minus the allocation and close of its output tensor, timed
 * alone in the same loop, as moons-train-step does); ratio = solve / baseline. The three are timed in
 * alternation, each a loop of solves or evaluations sized so that one timed run is a few ms or more.
 * Goals (the issue's): ratio within 1.25 at batch 4096 and above, under 0.1 ms per solve at batch 1.
 */
final class InferenceBatch implements Benchmark {
    static final int[] BATCHES = {1, 256, 4096, 65536};
    static final double GOAL_RATIO = 1.25;
    static final double GOAL_BATCH1_MS = 0.1;

    @Override
    public String unit() {
        return "ms";
    }

    @Override
    public void run(Consumer<Json> out) throws Exception {
        SolveOptions opts = SolveOptions.builder().method("dopri5").rtol(1e-5).atol(1e-5).build();
        double[] ts = {0, 1};
        try (NeuralField field = NeuralField.of(Sequential.of(new Linear(2, 64), new Tanh(), new Linear(64, 64),
                new Tanh(), new Linear(64, 2)), 2, DType.FLOAT32, 0)) {
            for (int batch : BATCHES) {
                double[] pts = new double[2 * batch];
                SplittableRandom rng = new SplittableRandom(batch);
                for (int i = 0; i < pts.length; i++) pts[i] = rng.nextDouble(-1, 1);
                try (Tensor x = Tensor.of(DType.FLOAT32, pts, batch, 2)) {
                    long nfe, steps;
                    try (Solution s = Odeint.odeint(field, x, ts, opts)) {
                        nfe = s.stats().nfe();
                        steps = s.stats().accepted() + s.stats().rejected();
                    }
                    // inner loops: a timed run is a few ms or more (an allocation alone costs tens of us here)
                    int solveReps = Math.max(1, 1024 / batch);
                    int evalReps = Math.max(4, 2048 / Math.max(1, batch / 32));
                    int iterations = batch >= 65536 ? 7 : 21;
                    Timing.Result[] r = Timing.interleaved(new String[] {
                            solveReps + " x odeint, batch " + batch,
                            evalReps + " x NeuralField.forward, batch " + batch,
                            evalReps + " x Tensor.zeros([" + batch + ", 2]) and close"}, 2, iterations,
                            () -> {
                                for (int i = 0; i < solveReps; i++) Odeint.odeint(field, x, ts, opts).close();
                            },
                            () -> {
                                for (int i = 0; i < evalReps; i++) field.forward(0.5, x).close();
                            },
                            () -> {
                                for (int i = 0; i < evalReps; i++) Tensor.zeros(DType.FLOAT32, batch, 2).close();
                            });
                    double solveMs = r[0].medianMs() / solveReps;
                    double callMs = r[1].medianMs() / evalReps;
                    double allocMs = r[2].medianMs() / evalReps;
                    double evalMs = Math.max(0, callMs - allocMs);
                    double baseline = nfe * evalMs;
                    double ratio = solveMs / baseline;
                    Json j = r[0].describe(Json.bench("inference-batch")).num("value", solveMs).str("unit", "ms")
                            .str("measure", "median time of one forward solve (Odeint.odeint on the NeuralField,"
                                    + " ys allocated and closed), no gradients")
                            .num("batch", batch).str("dtype", "float32").str("method", "dopri5")
                            .num("rtol", 1e-5).num("atol", 1e-5).str("field", "Linear(2,64)-Tanh-Linear(64,64)-Tanh-Linear(64,2)")
                            .num("nfe", nfe).num("steps", steps)
                            .num("samples_per_s", batch / (solveMs / 1e3))
                            .str("baseline", "the same GEMMs and activations alone: nfe x forward_eval_ms")
                            .num("baseline_value", baseline).num("ratio", ratio)
                            .num("forward_eval_ms", evalMs).num("forward_call_ms", callMs).num("tensor_alloc_ms", allocMs)
                            .num("min_ms", r[0].minNs() / 1e6 / solveReps).num("solves_per_timed_run", solveReps)
                            .num("blas_threads", 1);
                    if (batch >= 4096) {
                        j.num("goal_ratio", GOAL_RATIO).bool("goal_met", ratio <= GOAL_RATIO);
                    }
                    if (batch == 1) {
                        j.num("goal_ms", GOAL_BATCH1_MS).bool("goal_met", solveMs < GOAL_BATCH1_MS);
                    }
                    out.accept(j);
                }
            }
        }
    }
}
