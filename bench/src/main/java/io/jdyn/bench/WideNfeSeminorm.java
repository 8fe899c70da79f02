package io.jdyn.bench;

import io.jdyn.DType;
import io.jdyn.nn.NeuralField;
import io.jdyn.ode.GradOptions;
import io.jdyn.ode.Sensitivity;
import java.util.Locale;
import java.util.function.Consumer;

/**
 * wide-nfe-seminorm: the seminorm on a field where the parameter adjoint a_theta (67,074 values
 * against 2,048 of [z, a_z]) would drive step control: Linear(2, 256) - Tanh - Linear(256, 256) - Tanh
 * - Linear(256, 2), float64, on the moons points (batch 512), dopri5 at rtol = atol = 1e-6, its own
 * seeded initialisation followed by {@link #PRETRAIN_STEPS} Adam steps (lr 1e-3, adjoint gradients with
 * the seminorm at the same tolerances). The backward NFE of the adjoint with the full norm and with
 * the seminorm, and the relative error of each one's parameter gradient, ||g - g_ref|| / ||g_ref||,
 * against autograd at rtol = atol = 1e-10. The interpolated adjoint and autograd at 1e-6 are reported
 * beside them for context.
 */
final class WideNfeSeminorm implements Benchmark {
    static final double TOL = 1e-6;
    static final double REF_TOL = 1e-10;
    static final long SEED = 2;
    static final int PRETRAIN_STEPS = Integer.getInteger("bench.wide.pretrain", 5);
    static final double LR = 1e-3;
    static final double TARGET_RATIO = 0.6;
    static final double ERROR_BAR = 1e-2;

    @Override
    public String unit() {
        return "nfe";
    }

    /** One gradient with the given options; the parameter gradient and the step's counts and time. */
    private record Grad(GradStep.Result result, double[] g, double ms) {}

    private static Grad gradient(NeuralField field, MoonsWorkload data, double tol, GradOptions options, String label) {
        try (GradStep step = new GradStep(field, data, MoonsWorkload.dopri5(tol), options)) {
            long start = System.nanoTime();
            GradStep.Result r = step.run();
            double ms = (System.nanoTime() - start) / 1e6;
            BenchMain.log(String.format(Locale.ROOT, "  wide field, %s at %.0e: fwd nfe %d, bwd nfe %d, %.1f ms",
                    label, tol, r.forwardNfe(), r.backwardNfe(), ms));
            return new Grad(r, field.parameters().grad().toDoubleArray(), ms);
        }
    }

    static double relError(double[] g, double[] ref) {
        double d = 0, n = 0;
        for (int i = 0; i < g.length; i++) {
            double e = g[i] - ref[i];
            d += e * e;
            n += ref[i] * ref[i];
        }
        return Math.sqrt(d / n);
    }

    @Override
    public void run(Consumer<Json> out) throws Exception {
        MoonsWorkload data = MoonsWorkload.standard();
        GradOptions full = GradOptions.builder().sensitivity(Sensitivity.ADJOINT).seminorm(false).build();
        GradOptions semi = GradOptions.builder().sensitivity(Sensitivity.ADJOINT).seminorm(true).build();
        GradOptions interp = GradOptions.builder().sensitivity(Sensitivity.INTERPOLATED_ADJOINT).seminorm(true).build();
        GradOptions autograd = GradOptions.builder().sensitivity(Sensitivity.AUTOGRAD).build();
        try (NeuralField field = NeuralField.of(MoonsWorkload.wideNet(), 2, DType.FLOAT64, SEED)) {
            if (PRETRAIN_STEPS > 0) {
                try (GradStep step = new GradStep(field, data, MoonsWorkload.dopri5(TOL), semi)) {
                    Adam adam = new Adam(field.parameters(), LR);
                    for (int i = 0; i < PRETRAIN_STEPS; i++) {
                        GradStep.Result r = step.train(adam);
                        BenchMain.log(String.format(Locale.ROOT, "  wide field, Adam step %d: loss %.4f, accuracy %.3f,"
                                + " fwd nfe %d, bwd nfe %d", i + 1, r.loss(), r.accuracy(), r.forwardNfe(),
                                r.backwardNfe()));
                    }
                }
            }
            Grad ref = gradient(field, data, REF_TOL, autograd, "autograd (reference)");
            Grad f = gradient(field, data, TOL, full, "adjoint, full norm");
            Grad s = gradient(field, data, TOL, semi, "adjoint, seminorm");
            Grad ia = gradient(field, data, TOL, interp, "interpolated adjoint, seminorm");
            Grad ag = gradient(field, data, TOL, autograd, "autograd");
            long zSize = (long) MoonsWorkload.N * 2;
            double fullErr = relError(f.g(), ref.g());
            double semiErr = relError(s.g(), ref.g());
            double ratio = (double) s.result().backwardNfe() / f.result().backwardNfe();
            Json j = Json.bench("wide-nfe-seminorm").num("value", s.result().backwardNfe()).str("unit", "nfe")
                    .str("measure", "backward NFE of the adjoint with the seminorm for one gradient of the moons loss"
                            + " on the wide field")
                    .str("baseline", "adjoint with the full norm (largest RMS over z, a_z and each parameter tensor)")
                    .num("baseline_value", f.result().backwardNfe()).num("ratio", ratio).num("fewer_share", 1 - ratio)
                    .num("target_ratio", TARGET_RATIO).bool("target_met", ratio <= TARGET_RATIO)
                    .bool("ok", s.result().backwardNfe() <= f.result().backwardNfe())
                    .str("ok_means", "the seminorm took no more backward NFE than the full norm")
                    .num("z_size", zSize).num("a_z_size", zSize).num("a_theta_size", field.numParams())
                    .num("a_theta_share", (double) field.numParams() / (2 * zSize + field.numParams()))
                    .str("full_norm", "one RMS of the scaled error over all 2 * z_size + a_theta_size components")
                    .num("full_grad_rel_error", fullErr).num("seminorm_grad_rel_error", semiErr)
                    .num("error_bar", ERROR_BAR).bool("errors_within_bar", fullErr <= ERROR_BAR && semiErr <= ERROR_BAR)
                    .str("reference", "autograd, dopri5 at rtol = atol = 1e-10")
                    .num("reference_forward_nfe", ref.result().forwardNfe())
                    .num("reference_backward_nfe", ref.result().backwardNfe())
                    .num("forward_nfe", s.result().forwardNfe())
                    .num("full_backward_steps", f.result().backwardSteps())
                    .num("seminorm_backward_steps", s.result().backwardSteps())
                    .num("full_step_ms", f.ms()).num("seminorm_step_ms", s.ms())
                    .num("interpolated_backward_nfe", ia.result().backwardNfe())
                    .num("interpolated_grad_rel_error", relError(ia.g(), ref.g()))
                    .num("autograd_backward_nfe", ag.result().backwardNfe())
                    .num("autograd_grad_rel_error", relError(ag.g(), ref.g()))
                    .str("timing", "step_ms fields: one run each, not medians")
                    .str("workload", "moons").num("batch", MoonsWorkload.N).str("dtype", "float64")
                    .str("field", "Linear(2, 256) - Tanh - Linear(256, 256) - Tanh - Linear(256, 2)")
                    .num("num_params", field.numParams()).str("method", "dopri5").num("rtol", TOL).num("atol", TOL)
                    .str("span", "[0, 1]").str("parameters", "seeded init " + SEED + ", then " + PRETRAIN_STEPS
                            + " Adam steps (lr 1e-3, adjoint with seminorm at 1e-6)")
                    .num("loss_value", s.result().loss()).num("accuracy", s.result().accuracy())
                    .num("threads", 1).num("blas_threads", 1);
            out.accept(j);
        }
    }
}
