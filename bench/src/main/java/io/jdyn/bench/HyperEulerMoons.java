package io.jdyn.bench;

import io.jdyn.examples.HyperEulerDemo;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.function.Consumer;

/**
 * hypereuler-moons: seed 000's hypersolver claim on the moons Neural ODE (the examples' HyperEulerDemo
 * at full size: 512 points, 10 field evaluations a solve, the hypernets Linear(5, 2) fitted for 1000
 * epochs). One line per solver: NFE of one solve of the batch and the mean terminal error |z(1) -
 * z_dopri5(1)| against dopri5 as the model was trained (rtol = atol = 1e-4); each hypersolver's line has
 * its base method at the same NFE as baseline (ratio = hyper error / base error, below 1 is better) and
 * the dopri5 NFE beside it. Not a timing: the figures are deterministic for the seed.
 */
final class HyperEulerMoons implements Benchmark {
    @Override
    public String unit() {
        return "error";
    }

    @Override
    public void run(Consumer<Json> out) throws Exception {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        HyperEulerDemo.Outcome r;
        HyperEulerDemo.Options o = HyperEulerDemo.Options.defaults();
        o = new HyperEulerDemo.Options(o.n(), o.maxEpochs(), o.seed(), o.steps(), o.fitEpochs(), o.fitLr(), true,
                Path.of("target", "hypereuler-flows.png"));
        try (PrintStream ps = new PrintStream(buf, true, StandardCharsets.UTF_8)) {
            r = HyperEulerDemo.run(o, ps);
        }
        for (String line : buf.toString(StandardCharsets.UTF_8).split("\n")) BenchMain.log("  " + line);
        String[][] pairs = {{"HyperEuler", "euler"}, {"HyperMidpoint", "midpoint"}, {"HyperRungeKutta4", "rk4"}};
        for (String[] p : pairs) {
            HyperEulerDemo.Row h = r.row(p[0]);
            HyperEulerDemo.Row b = r.row(p[1]);
            out.accept(Json.bench("hypereuler-moons").str("solver", p[0]).num("value", h.meanError()).str("unit", "error")
                    .str("measure", "mean over the 512 moons points of |z(1) - z_dopri5(1)|, the trained moons model,"
                            + " dopri5 at rtol = atol = 1e-4 as reference")
                    .num("nfe", h.nfe()).num("steps", h.steps()).num("max_error", h.maxError())
                    .num("accuracy", h.accuracy()).num("held_out_mean_error", h.heldOutMeanError())
                    .str("baseline", p[1] + " at the same NFE").num("baseline_value", b.meanError())
                    .num("baseline_max_error", b.maxError()).num("baseline_accuracy", b.accuracy())
                    .num("ratio", h.meanError() / b.meanError()).num("dopri5_nfe", r.dopriNfe())
                    .num("dopri5_accuracy", r.dopriAccuracy()).num("dopri5_error_vs_tight", r.dopriMeanErrorVsTight())
                    .num("hypernet_params", r.hypernetParams()).str("hypernet", "Linear(5, 2) on [eps, z, f(z)]")
                    .num("fit_epochs", o.fitEpochs()));
        }
    }
}
