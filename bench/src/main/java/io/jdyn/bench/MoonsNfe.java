package io.jdyn.bench;

import io.jdyn.nn.NeuralField;
import io.jdyn.ode.GradOptions;
import io.jdyn.ode.Sensitivity;
import java.util.function.Consumer;

/**
 * moons-nfe-full, moons-nfe-seminorm and moons-grad-step-*: one gradient step (forward with
 * gradients, the cross-entropy and its gradient, backward) of the trained moons field with each
 * sensitivity: autograd, the adjoint with the full norm (the largest RMS over z, a_z and each
 * parameter tensor's adjoint, torchdiffeq's mixed norm), the adjoint with the seminorm (a_theta left out of step control), and the
 * interpolated adjoint (seminorm). Forward and backward NFE of each, and the median time of a step,
 * the four timed in alternation. The seminorm line compares its backward NFE with the full norm's and
 * says "ok": false if the seminorm took more.
 */
final class MoonsNfe implements Benchmark {
    /** One sensitivity configuration, its line's name suffix and its options. */
    record Config(String suffix, String label, GradOptions options) {}

    static final Config[] CONFIGS = {
        new Config("autograd", "autograd", GradOptions.builder().sensitivity(Sensitivity.AUTOGRAD).build()),
        new Config("adjoint-full", "adjoint, full norm",
                GradOptions.builder().sensitivity(Sensitivity.ADJOINT).seminorm(false).build()),
        new Config("adjoint-seminorm", "adjoint, seminorm",
                GradOptions.builder().sensitivity(Sensitivity.ADJOINT).seminorm(true).build()),
        new Config("interpolated-adjoint", "interpolated adjoint, seminorm",
                GradOptions.builder().sensitivity(Sensitivity.INTERPOLATED_ADJOINT).seminorm(true).build()),
    };

    @Override
    public String unit() {
        return "nfe";
    }

    @Override
    public void run(Consumer<Json> out) throws Exception {
        MoonsWorkload data = MoonsWorkload.standard();
        int k = CONFIGS.length;
        GradStep[] steps = new GradStep[k];
        try (NeuralField field = data.trainedMoonsField()) {
            GradStep.Result[] first = new GradStep.Result[k];
            Timing.Body[] bodies = new Timing.Body[k];
            String[] labels = new String[k];
            try {
                for (int i = 0; i < k; i++) {
                    GradStep step = new GradStep(field, data, MoonsWorkload.dopri5(MoonsWorkload.TOL),
                            CONFIGS[i].options());
                    steps[i] = step;
                    first[i] = step.run();
                    final GradStep.Result want = first[i];
                    bodies[i] = () -> {
                        GradStep.Result r = step.run();
                        if (r.forwardNfe() != want.forwardNfe() || r.backwardNfe() != want.backwardNfe()) {
                            throw new IllegalStateException("nfe changed between runs");
                        }
                    };
                    labels[i] = "moons gradient step, " + CONFIGS[i].label() + " (fwd nfe " + first[i].forwardNfe()
                            + ", bwd nfe " + first[i].backwardNfe() + ")";
                }
                Timing.Result[] r = Timing.interleaved(labels, 10, 41, bodies);

                GradStep.Result full = first[1], semi = first[2];
                Json jf = Json.bench("moons-nfe-full").num("value", full.backwardNfe()).str("unit", "nfe")
                        .str("measure", "backward NFE of the adjoint with the full norm (Hairer's RMS over"
                                + " [z, a_z, a_theta]) for one gradient of the moons loss");
                out.accept(common(jf, full, r[1]));
                double ratio = (double) semi.backwardNfe() / full.backwardNfe();
                Json js = Json.bench("moons-nfe-seminorm").num("value", semi.backwardNfe()).str("unit", "nfe")
                        .str("measure", "backward NFE of the adjoint with the seminorm (a_theta out of step control)")
                        .str("baseline", "adjoint with the full norm, same forward pass")
                        .num("baseline_value", full.backwardNfe()).num("ratio", ratio)
                        .num("fewer_share", 1 - ratio).bool("ok", semi.backwardNfe() <= full.backwardNfe())
                        .str("ok_means", "the seminorm took no more backward NFE than the full norm");
                out.accept(common(js, semi, r[2]));
                for (int i = 0; i < k; i++) {
                    Json j = Json.bench("moons-grad-step-" + CONFIGS[i].suffix()).num("value", r[i].medianMs())
                            .str("unit", "ms").str("measure", "median time of one gradient step: forward with"
                                    + " gradients, loss and its gradient in Java, backward")
                            .str("sensitivity", CONFIGS[i].options().sensitivity().torchName())
                            .bool("seminorm", CONFIGS[i].options().seminorm()
                                    && CONFIGS[i].options().sensitivity() != Sensitivity.AUTOGRAD)
                            .num("forward_nfe", first[i].forwardNfe()).num("backward_nfe", first[i].backwardNfe())
                            .num("forward_steps", first[i].forwardSteps())
                            .num("backward_steps", first[i].backwardSteps()).num("min_ms", r[i].minNs() / 1e6)
                            .num("tape_bytes", first[i].tapeBytes());
                    MoonsWorkload.describeMoons(j, MoonsWorkload.TRAINED).num("loss_value", first[i].loss())
                            .num("accuracy", first[i].accuracy()).num("blas_threads", 1);
                    out.accept(r[i].describe(j));
                }
            } finally {
                for (GradStep s : steps) {
                    if (s != null) s.close();
                }
            }
        }
    }

    private static Json common(Json j, GradStep.Result res, Timing.Result time) {
        j.num("forward_nfe", res.forwardNfe()).num("backward_steps", res.backwardSteps())
                .num("step_ms", time.medianMs()).num("threads", 1);
        return MoonsWorkload.describeMoons(j, MoonsWorkload.TRAINED);
    }
}
