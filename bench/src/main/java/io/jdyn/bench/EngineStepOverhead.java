package io.jdyn.bench;

import java.util.function.Consumer;

/**
 * engine-step-overhead: what one dopri5 step costs in the engine beyond its vector field
 * evaluations, ns. A fixed-step dopri5 solve of the trivial field (dim 1, batch 1, 200,000 steps)
 * and the euler solve of upcall-eval are timed in alternation in the same run; each pair gives
 * (dopri5 solve time - dopri5 nfe * euler time per evaluation) / dopri5 steps, and the value is the
 * median over the pairs (pairing cancels load that comes and goes). The per-evaluation cost
 * includes euler's own step work, so the subtraction slightly overstates it and the overhead is, if
 * anything, a little low. With dim 1 the step is nearly all upcalls, so the figure is a small
 * difference of two large ones: its quartiles over the pairs are reported beside it.
 */
final class EngineStepOverhead implements Benchmark {
    @Override
    public String unit() {
        return "ns";
    }

    @Override
    public void run(Consumer<Json> out) throws Exception {
        int steps = UpcallEval.STEPS;
        try (UpcallEval.FixedStepSolve dopri = new UpcallEval.FixedStepSolve("dopri5", steps);
                UpcallEval.FixedStepSolve euler = new UpcallEval.FixedStepSolve("euler", steps)) {
            Timing.Result[] r = Timing.interleaved(new String[] {dopri.label, euler.label}, 5, 31, dopri::run,
                    euler::run);
            long n = dopri.stats.accepted();
            long nfe = dopri.stats.nfe();
            double upcallNs = r[1].medianNs() / euler.stats.nfe();
            double[] perPair = new double[r[0].iterations()];
            for (int i = 0; i < perPair.length; i++) {
                perPair[i] = (r[0].samplesNs()[i] - nfe * r[1].samplesNs()[i] / euler.stats.nfe()) / n;
            }
            double overhead = Timing.median(perPair);
            Json j = Json.bench("engine-step-overhead").num("value", overhead).str("unit", "ns")
                    .str("measure", "median over alternating pairs of (time of a fixed-step dopri5 solve - nfe *"
                            + " time of a fixed-step euler solve / its nfe) / steps")
                    .num("p25_ns", Timing.quantile(perPair, 0.25)).num("p75_ns", Timing.quantile(perPair, 0.75))
                    .str("caveat", "the euler time per evaluation includes euler's own per-step engine work, which is"
                            + " subtracted evals_per_step times too; at dim 1 a step is almost all upcalls, so the"
                            + " figure sits near the noise floor (see p25_ns, p75_ns) and may come out negative")
                    .str("method", "dopri5").num("steps", n).num("nfe", nfe).num("evals_per_step", (double) nfe / n)
                    .num("dim", 1).num("batch", 1).str("dtype", "float64")
                    .num("dopri5_step_ns", r[0].medianNs() / n).num("upcall_ns", upcallNs)
                    .num("solve_ms", r[0].medianMs()).num("euler_solve_ms", r[1].medianMs());
            out.accept(r[0].describe(j));
        }
    }
}
