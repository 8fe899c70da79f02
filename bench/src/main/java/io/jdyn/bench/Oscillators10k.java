package io.jdyn.bench;

import io.jdyn.Tensor;
import io.jdyn.ode.BatchView;
import io.jdyn.ode.Odeint;
import io.jdyn.ode.SampleStats;
import io.jdyn.ode.SampleVectorField;
import io.jdyn.ode.SolveOptions;
import io.jdyn.ode.SolveStats;
import io.jdyn.ode.Solution;
import io.jdyn.ode.VectorField;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;
import java.util.function.DoubleFunction;
import org.hipparchus.ode.ODEState;
import org.hipparchus.ode.ODEStateAndDerivative;
import org.hipparchus.ode.OrdinaryDifferentialEquation;
import org.hipparchus.ode.nonstiff.DormandPrince54Integrator;

/**
 * oscillators-10k: 10,000 damped oscillators x'' + 2 zeta w x' + w^2 x = 0, x(0) = 1, v(0) = 0, on
 * [0, 10], w over [0.5, 2] and zeta over [0.05, 0.3] on a 100 x 100 grid. jdyn solves them as one
 * batch [10000, 2] with dopri5 and a Java vector field; Hipparchus's DormandPrince54Integrator solves
 * them one by one with the same rtol and atol. Both are checked against the closed form at t = 10.
 *
 * <p>jdyn's batch shares one step size, controlled by the RMS of the scaled error over the whole
 * batch, so at equal tolerances its worst oscillator can be less accurate than Hipparchus's, which
 * controls each oscillator's own error. The second line, oscillators-10k-matched, tightens jdyn's
 * tolerance until its maximum error is no worse than Hipparchus's, and times that.
 *
 * <p>oscillators-10k-per-sample solves the batch with per-sample stepping (every oscillator its own
 * steps and error control, as Hipparchus does, in lockstep iterations over the batch) and a
 * {@link SampleVectorField}, at Hipparchus's tolerance; oscillators-10k-per-sample-matched tightens it
 * as the matched line does if its worst error is above Hipparchus's.
 */
final class Oscillators10k implements Benchmark {
    static final int N = 10_000;
    static final int GRID = 100;
    static final double T_END = 10;
    private static final String BASELINE = "DormandPrince54Integrator, one oscillator at a time";
    private static final String ERROR_MEASURE = "max over the batch of |x - x_exact| and |v - v_exact| at t = 10";

    private final double tol = Double.parseDouble(System.getProperty("bench.oscillators.tol", "1e-6"));
    private final double[] damping = new double[N]; // 2 zeta w
    private final double[] stiffness = new double[N]; // w^2
    private final double[] omega = new double[N];
    private final double[] zeta = new double[N];

    Oscillators10k() {
        for (int b = 0; b < N; b++) {
            omega[b] = 0.5 + 1.5 * (b / GRID) / (GRID - 1.0);
            zeta[b] = 0.05 + 0.25 * (b % GRID) / (GRID - 1.0);
            damping[b] = 2 * zeta[b] * omega[b];
            stiffness[b] = omega[b] * omega[b];
        }
    }

    @Override
    public String unit() {
        return "ms";
    }

    /** One jdyn solve: final states [N * 2] and the statistics. */
    private record JdynRun(double[] end, SolveStats stats) {}

    private JdynRun jdyn(double rtol, double atol) {
        return jdyn(rtol, atol, null);
    }

    /** With fieldNs non-null, the time spent inside the Java field is added to fieldNs[0]. */
    private JdynRun jdyn(double rtol, double atol, long[] fieldNs) {
        VectorField plain = (t, z, dz) -> oscillate(z, dz);
        VectorField field = fieldNs == null ? plain : (t, z, dz) -> {
            long start = System.nanoTime();
            plain.evaluate(t, z, dz);
            fieldNs[0] += System.nanoTime() - start;
        };
        SolveOptions options = SolveOptions.builder().method("dopri5").rtol(rtol).atol(atol).maxSteps(0).build();
        try (Tensor y0 = initialState(); Solution s = Odeint.odeint(field, y0, new double[] {0, T_END}, options)) {
            return endOf(s);
        }
    }

    /** Per-sample stepping with the row-time field (autonomous, so the rows' times go unread): each row its own steps. */
    private JdynRun jdynPerSample(double rtol, double atol) {
        SampleVectorField field = (t, z, dz) -> oscillate(z, dz);
        SolveOptions options = SolveOptions.builder().method("dopri5").rtol(rtol).atol(atol).maxSteps(0)
                .perSample(true).build();
        try (Tensor y0 = initialState();
                Solution s = Odeint.odeintPerSample(field, y0, new double[] {0, T_END}, options)) {
            return endOf(s);
        }
    }

    /** x' = v, v' = -2 zeta w v - w^2 x for every row, flat get/set over the views. */
    private void oscillate(BatchView z, BatchView dz) {
        final double[] c = damping; // locals: the view calls in the loop keep the JIT from hoisting field loads
        final double[] k = stiffness;
        int n = z.batch();
        for (int b = 0; b < n; b++) {
            long i = 2L * b;
            double x = z.get(i);
            double v = z.get(i + 1);
            dz.set(i, v);
            dz.set(i + 1, -c[b] * v - k[b] * x);
        }
    }

    /** x(0) = 1, v(0) = 0 for every oscillator: [N, 2]. */
    private static Tensor initialState() {
        double[] init = new double[2 * N];
        for (int b = 0; b < N; b++) init[2 * b] = 1;
        return Tensor.of(init, N, 2);
    }

    /** The states at t = 10 (ys is [2, N, 2]) and the statistics. */
    private static JdynRun endOf(Solution s) {
        double[] ys = s.ys().toDoubleArray();
        double[] end = new double[2 * N];
        System.arraycopy(ys, 2 * N, end, 0, 2 * N);
        return new JdynRun(end, s.stats());
    }

    private static final class Oscillator implements OrdinaryDifferentialEquation {
        double c;
        double k;

        @Override
        public int getDimension() {
            return 2;
        }

        @Override
        public double[] computeDerivatives(double t, double[] y) {
            return new double[] {y[1], -c * y[1] - k * y[0]};
        }
    }

    /** Hipparchus, one by one: final states [N * 2]; evaluations summed into evals[0]. */
    private double[] hipparchus(double rtol, double atol, long[] evals) {
        DormandPrince54Integrator integrator = new DormandPrince54Integrator(0, T_END, atol, rtol);
        Oscillator osc = new Oscillator();
        double[] end = new double[2 * N];
        long total = 0;
        for (int b = 0; b < N; b++) {
            osc.c = damping[b];
            osc.k = stiffness[b];
            ODEStateAndDerivative s = integrator.integrate(osc, new ODEState(0, new double[] {1, 0}), T_END);
            double[] y = s.getPrimaryState();
            end[2 * b] = y[0];
            end[2 * b + 1] = y[1];
            total += integrator.getEvaluations();
        }
        evals[0] = total;
        return end;
    }

    private double maxError(double[] end) {
        double worst = 0;
        for (int b = 0; b < N; b++) {
            double w = omega[b];
            double alpha = zeta[b] * w;
            double beta = w * Math.sqrt(1 - zeta[b] * zeta[b]);
            double decay = Math.exp(-alpha * T_END);
            double cos = Math.cos(beta * T_END);
            double sin = Math.sin(beta * T_END);
            double x = decay * (cos + alpha / beta * sin);
            double v = -decay * (w * w / beta) * sin;
            worst = Math.max(worst, Math.max(Math.abs(end[2 * b] - x), Math.abs(end[2 * b + 1] - v)));
        }
        return worst;
    }

    /** A tolerance (rtol = atol), its solve and that solve's worst error. */
    private record Matched(double tol, JdynRun run, double err) {}

    /**
     * Tightens the tolerance from {@link #tol} by quarter decades (at most 40) until the solve's worst
     * error is no worse than {@code target}; the first solve, at {@link #tol}, is given.
     */
    private Matched match(JdynRun first, double firstErr, double target, DoubleFunction<JdynRun> solve, String label) {
        Matched m = new Matched(tol, first, firstErr);
        for (int step = 1; m.err() > target && step <= 40; step++) {
            double t = tol * Math.pow(10, -step / 4.0);
            JdynRun r = solve.apply(t);
            m = new Matched(t, r, maxError(r.end()));
            BenchMain.log(String.format(Locale.ROOT, "  %s tol %.3g: max error %.3g", label, t, m.err()));
        }
        return m;
    }

    @Override
    public void run(Consumer<Json> out) throws Exception {
        long[] evals = new long[1];
        double baseErr = maxError(hipparchus(tol, tol, evals));
        long baseEvals = evals[0];
        JdynRun check = jdyn(tol, tol);
        double jdynErr = maxError(check.end());
        BenchMain.log(String.format(Locale.ROOT, "  tol %.3g: jdyn max error %.3g (%s), hipparchus max error %.3g",
                tol, jdynErr, check.stats(), baseErr));

        // the same accuracy: tighten jdyn's tolerance by quarter decades until its worst error is no worse
        Matched shared = match(check, jdynErr, baseErr, t -> jdyn(t, t), "jdyn");
        double matched = shared.tol();
        JdynRun matchedRun = shared.run();
        double matchedErr = shared.err();
        boolean found = matchedErr <= baseErr;
        boolean tightened = found && matched != tol;

        // per-sample stepping at Hipparchus's tolerance, tightened likewise only if its worst row is worse
        JdynRun psRun = jdynPerSample(tol, tol);
        double psErr = maxError(psRun.end());
        BenchMain.log(String.format(Locale.ROOT, "  per-sample tol %.3g: max error %.3g (%s)", tol, psErr,
                psRun.stats()));
        Matched perSampleMatch = match(psRun, psErr, baseErr, t -> jdynPerSample(t, t), "per-sample");
        double psMatched = perSampleMatch.tol();
        JdynRun psMatchedRun = perSampleMatch.run();
        double psMatchedErr = perSampleMatch.err();
        boolean psFound = psMatchedErr <= baseErr;
        boolean psTightened = psFound && psMatched != tol;
        final double pmt = psMatched;

        // timed in alternation, so that load that comes and goes hits every side alike
        final double mt = matched;
        Timing.Body hip = () -> hipparchus(tol, tol, new long[1]);
        Timing.Body same = () -> jdyn(tol, tol);
        List<String> names = new ArrayList<>(List.of("hipparchus one by one", "jdyn batch"));
        List<Timing.Body> bodies = new ArrayList<>(List.of(hip, same));
        if (tightened) {
            names.add("jdyn batch, matched tolerance " + Json.number(mt));
            bodies.add(() -> jdyn(mt, mt));
        }
        names.add("jdyn per-sample");
        bodies.add(() -> jdynPerSample(tol, tol));
        if (psTightened) {
            names.add("jdyn per-sample, matched tolerance " + Json.number(pmt));
            bodies.add(() -> jdynPerSample(pmt, pmt));
        }
        Timing.Result[] r = Timing.interleaved(names.toArray(String[]::new), 3, 11,
                bodies.toArray(Timing.Body[]::new));
        Timing.Result base = r[0];
        Timing.Result mine = r[1];
        Timing.Result tight = tightened ? r[2] : mine;
        Timing.Result perSample = r[tightened ? 3 : 2];
        Timing.Result perSampleTight = psTightened ? r[r.length - 1] : perSample;

        // where jdyn's time goes: the share spent inside the Java field (instrumented runs, not the timed ones)
        List<double[]> shares = new ArrayList<>();
        Timing.measure("jdyn batch, field instrumented", 5, 7, () -> {
            long[] fieldNs = {0};
            long start = System.nanoTime();
            jdyn(tol, tol, fieldNs);
            long total = System.nanoTime() - start;
            shares.add(new double[] {fieldNs[0] / 1e6, (double) fieldNs[0] / total});
        });
        List<double[]> timed = shares.subList(shares.size() - 7, shares.size());
        double fieldMs = Timing.median(timed.stream().mapToDouble(x -> x[0]).toArray());
        double share = Timing.median(timed.stream().mapToDouble(x -> x[1]).toArray());
        BenchMain.log(String.format(Locale.ROOT, "  jdyn: %.3f ms inside the Java field per solve, %.0f%% of the solve",
                fieldMs, 100 * share));

        Json line = Json.bench("oscillators-10k").num("value", mine.medianMs()).str("unit", "ms")
                .str("baseline", Hipparchus.version() + " " + BASELINE).num("baseline_value", base.medianMs())
                .num("ratio", mine.medianNs() / base.medianNs());
        describe(line, tol, check, jdynErr, baseErr, baseEvals);
        line.num("jdyn_field_ms", fieldMs).num("jdyn_field_share", share)
                .str("field_share_measure", "median of 7 instrumented solves after warm-up: time inside the Java field"
                        + " / solve time");
        out.accept(mine.describe(line));

        Json p = Json.bench("oscillators-10k-per-sample").num("value", perSample.medianMs()).str("unit", "ms")
                .str("baseline", Hipparchus.version() + " " + BASELINE).num("baseline_value", base.medianMs())
                .num("ratio", perSample.medianNs() / base.medianNs());
        describePerSample(p, tol, psRun, psErr, baseErr, baseEvals);
        out.accept(perSample.describe(p));
        if (psTightened || !psFound) {
            Json pm = Json.bench("oscillators-10k-per-sample-matched");
            if (!psFound) {
                pm.nul("value").str("unit", "ms").str("error", "no tolerance down to " + Json.number(psMatched)
                        + " brought per-sample's max error down to Hipparchus's");
                out.accept(pm);
            } else {
                pm.num("value", perSampleTight.medianMs()).str("unit", "ms")
                        .str("baseline", Hipparchus.version() + " " + BASELINE + ", at rtol = atol = "
                                + Json.number(tol))
                        .num("baseline_value", base.medianMs())
                        .num("ratio", perSampleTight.medianNs() / base.medianNs());
                describePerSample(pm, psMatched, psMatchedRun, psMatchedErr, baseErr, baseEvals);
                pm.num("baseline_rtol", tol).num("baseline_atol", tol).bool("tightened", true);
                out.accept(perSampleTight.describe(pm));
            }
        }

        Json m = Json.bench("oscillators-10k-matched");
        if (!found) {
            m.nul("value").str("unit", "ms").str("error", "no tolerance down to " + Json.number(matched)
                    + " brought jdyn's max error down to Hipparchus's");
            out.accept(m);
            return;
        }
        m.num("value", tight.medianMs()).str("unit", "ms")
                .str("baseline", Hipparchus.version() + " " + BASELINE + ", at rtol = atol = " + Json.number(tol))
                .num("baseline_value", base.medianMs()).num("ratio", tight.medianNs() / base.medianNs());
        describe(m, matched, matchedRun, matchedErr, baseErr, baseEvals);
        m.num("baseline_rtol", tol).num("baseline_atol", tol).bool("tightened", tightened)
                .str("matching", "jdyn rtol = atol = " + Json.number(tol) + " * 10^(-k/4), smallest k >= 0 with "
                        + "jdyn_max_error <= baseline_max_error");
        out.accept(tight.describe(m));
    }

    private void describePerSample(Json j, double t, JdynRun run, double err, double baseErr, long baseEvals) {
        SampleStats ps = run.stats().perSample();
        long max = 0;
        long sum = 0;
        long nfe = 0;
        for (int b = 0; b < ps.batch(); b++) {
            max = Math.max(max, ps.steps(b));
            sum += ps.steps(b);
            nfe += ps.nfe()[b];
        }
        j.num("batch", N).num("dim", 2).str("method", "dopri5").str("dtype", "float64").num("rtol", t).num("atol", t)
                .num("t_end", T_END).str("omega", "0.5..2").str("zeta", "0.05..0.3").bool("per_sample", true)
                .num("jdyn_max_error", err).num("baseline_max_error", baseErr).str("error_measure", ERROR_MEASURE)
                .num("row_steps_mean", (double) sum / ps.batch()).num("row_steps_max", max)
                .num("row_nfe_total", nfe).num("baseline_nfe_total", baseEvals)
                .num("jdyn_field_calls", run.stats().nfe())
                .str("field", "SampleVectorField (rows at their own times), flat get/set over the BatchView");
    }

    private void describe(Json j, double t, JdynRun run, double jdynErr, double baseErr, long baseEvals) {
        j.num("batch", N).num("dim", 2).str("method", "dopri5").str("dtype", "float64").num("rtol", t).num("atol", t)
                .num("t_end", T_END).str("omega", "0.5..2").str("zeta", "0.05..0.3")
                .num("jdyn_max_error", jdynErr).num("baseline_max_error", baseErr).str("error_measure", ERROR_MEASURE)
                .num("jdyn_accepted", run.stats().accepted()).num("jdyn_rejected", run.stats().rejected())
                .num("jdyn_nfe", run.stats().nfe()).num("baseline_nfe_total", baseEvals)
                .str("field", "Java lambda, flat get/set over the BatchView");
    }
}
