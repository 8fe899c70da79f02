package io.jdyn.bench;

import io.jdyn.DType;
import io.jdyn.Jdyn;
import io.jdyn.Tensor;
import io.jdyn.nn.NeuralField;
import io.jdyn.ode.GradOptions;
import io.jdyn.ode.GradSolution;
import io.jdyn.ode.Odeint;
import io.jdyn.ode.SampleStats;
import io.jdyn.ode.Sensitivity;
import io.jdyn.ode.SolveOptions;
import java.util.Arrays;
import java.util.Locale;
import java.util.function.Consumer;

/**
 * moons-train-step-per-sample: moons-train-step's training step (trained moons field, batch 512,
 * dopri5 1e-4, forward with gradients, cross-entropy in Java, backward, Adam) with every sample stepping
 * on its own (SolveOptions.perSample: one native sub-solve and sub-tape per row) against the same step
 * with the batch sharing its steps; median ms per sensitivity, the two timed in alternation. ratio =
 * per-sample / shared. Also the per-row accepted steps (min, median, mean, max) against the shared
 * solve's, and the NFE: a per-sample evaluation is one row's, a shared one the whole batch's.
 */
final class MoonsTrainStepPerSample implements Benchmark {
    static final Sensitivity[] SENSITIVITIES = {Sensitivity.AUTOGRAD, Sensitivity.ADJOINT,
        Sensitivity.INTERPOLATED_ADJOINT};

    @Override
    public String unit() {
        return "ms";
    }

    @Override
    public void run(Consumer<Json> out) throws Exception {
        MoonsWorkload data = MoonsWorkload.standard();
        SolveOptions shared = MoonsWorkload.dopri5(MoonsWorkload.TOL);
        SolveOptions perSample = shared.toBuilder().perSample(true).build();
        try (NeuralField field = data.trainedMoonsField(); Tensor y0 = data.y0(DType.FLOAT32)) {
            for (Sensitivity sens : SENSITIVITIES) {
                GradOptions g = GradOptions.builder().sensitivity(sens).seminorm(true).build();
                SampleStats rows;
                long sharedAccepted;
                try (GradSolution s = Odeint.odeint(field, y0, MoonsWorkload.T, perSample, g)) {
                    rows = s.stats().perSample();
                }
                try (GradSolution s = Odeint.odeint(field, y0, MoonsWorkload.T, shared, g)) {
                    sharedAccepted = s.stats().accepted();
                }
                try (GradStep a = new GradStep(field, data, perSample, g); GradStep b = new GradStep(field, data, shared, g)) {
                    Adam adam = new Adam(field.parameters(), MoonsWorkload.LR);
                    Adam.State start = adam.snapshot();
                    GradStep.Result ra = a.train(adam);
                    adam.restore(start);
                    GradStep.Result rb = b.train(adam);
                    adam.restore(start);
                    Timing.Body[] bodies = {() -> {
                        adam.restore(start);
                        a.train(adam);
                    }, () -> {
                        adam.restore(start);
                        b.train(adam);
                    }};
                    String[] labels = {"per-sample training step, " + sens, "shared training step, " + sens};
                    Timing.Result[] r = Timing.interleaved(labels, 3, 15, bodies);
                    adam.restore(start);
                    long[] acc = rows.accepted();
                    long[] sorted = acc.clone();
                    Arrays.sort(sorted);
                    double mean = Arrays.stream(acc).average().orElse(0);
                    double ms = r[0].medianMs(), base = r[1].medianMs();
                    BenchMain.log(String.format(Locale.ROOT, "  %s: per-sample %.2f ms, shared %.2f ms; accepted steps"
                            + " per row min %d median %d mean %.1f max %d, shared %d", sens, ms, base, sorted[0],
                            sorted[sorted.length / 2], mean, sorted[sorted.length - 1], sharedAccepted));
                    Json j = Json.bench("moons-train-step-per-sample").num("value", ms).str("unit", "ms")
                            .str("measure", "median time of one training step with per-sample stepping: forward with"
                                    + " gradients, loss and its gradient in Java, backward, Adam update")
                            .str("sensitivity", sens.torchName()).bool("seminorm", sens != Sensitivity.AUTOGRAD)
                            .str("baseline", "the same step with the batch sharing its steps (moons-train-step)")
                            .num("baseline_value", base).num("ratio", ms / base)
                            .num("forward_nfe", ra.forwardNfe()).num("backward_nfe", ra.backwardNfe())
                            .num("shared_forward_nfe", rb.forwardNfe()).num("shared_backward_nfe", rb.backwardNfe())
                            .str("nfe_note", "a per-sample evaluation is one row's (batch 1), a shared one the whole"
                                    + " batch's (512 rows)")
                            .num("row_accepted_min", sorted[0]).num("row_accepted_median", sorted[sorted.length / 2])
                            .num("row_accepted_mean", mean).num("row_accepted_max", sorted[sorted.length - 1])
                            .num("shared_accepted", sharedAccepted)
                            .num("loss_per_sample", ra.loss()).num("loss_shared", rb.loss());
                    MoonsWorkload.describeMoons(j, MoonsWorkload.TRAINED)
                            .str("optimizer", "Adam lr 1e-2, betas 0.9/0.999, eps 1e-8 (in Java)")
                            .num("blas_threads", Jdyn.threads());
                    out.accept(r[0].describe(j));
                }
            }
        }
    }
}
