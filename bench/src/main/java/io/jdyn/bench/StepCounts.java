package io.jdyn.bench;

import io.jdyn.Tensor;
import io.jdyn.ode.Odeint;
import io.jdyn.ode.SolveOptions;
import io.jdyn.ode.SolveStats;
import io.jdyn.ode.Solution;
import io.jdyn.ode.VectorField;
import java.util.function.Consumer;
import org.hipparchus.ode.ODEState;
import org.hipparchus.ode.ODEStateAndDerivative;
import org.hipparchus.ode.OrdinaryDifferentialEquation;
import org.hipparchus.ode.nonstiff.DormandPrince54Integrator;
import org.hipparchus.ode.nonstiff.DormandPrince853Integrator;
import org.hipparchus.ode.nonstiff.EmbeddedRungeKuttaIntegrator;

/**
 * steps-{vdp,arenstorf}-{dopri5,dopri8}: accepted + rejected steps of one jdyn solve against
 * Hipparchus's DormandPrince54Integrator / DormandPrince853Integrator at rtol = atol = 1e-8.
 *
 * <p>Hipparchus counts evaluations but not rejected steps. Its accepted steps are counted with a
 * step handler, and its rejected steps follow from its evaluation count, since its embedded
 * Runge-Kutta loop evaluates once at the start, once more for the initial step estimate, and
 * (stages - 1) times per attempted step, plus once per accepted step when no stage is at the step's
 * end (not the case for either method here). The derivation is checked: it must come out whole.
 */
final class StepCounts implements Benchmark {
    static final double TOL = 1e-8;

    enum Problem {
        VAN_DER_POL("vdp", "Van der Pol, mu = 1, y0 = (2, 0), t in [0, 20]", new double[] {2, 0}, 20) {
            @Override
            void rhs(double t, double[] y, double[] dy) {
                double mu = 1;
                dy[0] = y[1];
                dy[1] = mu * (1 - y[0] * y[0]) * y[1] - y[0];
            }
        },
        ARENSTORF("arenstorf", "Arenstorf orbit (Hairer, Norsett, Wanner I, II.0), mu = 0.012277471, one period",
                new double[] {0.994, 0, 0, -2.00158510637908252240537862224}, 17.0652165601579625588917206249) {
            @Override
            void rhs(double t, double[] y, double[] dy) {
                double mu = 0.012277471;
                double mup = 1 - mu;
                double a = (y[0] + mu) * (y[0] + mu) + y[1] * y[1];
                double b = (y[0] - mup) * (y[0] - mup) + y[1] * y[1];
                double d1 = a * Math.sqrt(a);
                double d2 = b * Math.sqrt(b);
                dy[0] = y[2];
                dy[1] = y[3];
                dy[2] = y[0] + 2 * y[3] - mup * (y[0] + mu) / d1 - mu * (y[0] - mup) / d2;
                dy[3] = y[1] - 2 * y[2] - mup * y[1] / d1 - mu * y[1] / d2;
            }
        };

        final String key;
        final String description;
        final double[] y0;
        final double tEnd;

        Problem(String key, String description, double[] y0, double tEnd) {
            this.key = key;
            this.description = description;
            this.y0 = y0;
            this.tEnd = tEnd;
        }

        abstract void rhs(double t, double[] y, double[] dy);
    }

    private final Problem problem;
    private final String method;

    StepCounts(Problem problem, String method) {
        this.problem = problem;
        this.method = method;
    }

    @Override
    public String unit() {
        return "steps";
    }

    @Override
    public void run(Consumer<Json> out) {
        int dim = problem.y0.length;
        double[] zBuf = new double[dim];
        double[] dzBuf = new double[dim];
        VectorField field = (t, z, dz) -> {
            z.copyTo(zBuf);
            problem.rhs(t, zBuf, dzBuf);
            dz.copyFrom(dzBuf);
        };
        SolveStats js;
        double[] jEnd;
        SolveOptions options = SolveOptions.builder().method(method).rtol(TOL).atol(TOL).maxSteps(0).build();
        try (Tensor y0 = Tensor.of(problem.y0.clone(), 1, dim);
                Solution s = Odeint.odeint(field, y0, new double[] {0, problem.tEnd}, options)) {
            js = s.stats();
            double[] ys = s.ys().toDoubleArray();
            jEnd = java.util.Arrays.copyOfRange(ys, dim, 2 * dim);
        }

        EmbeddedRungeKuttaIntegrator hi = method.equals("dopri5")
                ? new DormandPrince54Integrator(0, problem.tEnd, TOL, TOL)
                : new DormandPrince853Integrator(0, problem.tEnd, TOL, TOL);
        long[] accepted = new long[1];
        hi.addStepHandler(interpolator -> accepted[0]++);
        OrdinaryDifferentialEquation ode = new OrdinaryDifferentialEquation() {
            @Override
            public int getDimension() {
                return dim;
            }

            @Override
            public double[] computeDerivatives(double t, double[] y) {
                double[] dy = new double[dim];
                problem.rhs(t, y, dy);
                return dy;
            }
        };
        ODEStateAndDerivative end = hi.integrate(ode, new ODEState(0, problem.y0.clone()), problem.tEnd);
        double[] hEnd = end.getPrimaryState();
        long hEvals = hi.getEvaluations();
        int stages = Hipparchus.stages(hi);
        boolean fsal = Hipparchus.fsal(hi);
        long perAttempt = stages - 1;
        long attemptEvals = hEvals - 2 - (fsal ? 0 : accepted[0]);
        boolean whole = attemptEvals >= 0 && attemptEvals % perAttempt == 0;
        long hSteps = attemptEvals / perAttempt;
        long hRejected = hSteps - accepted[0];
        long jSteps = js.accepted() + js.rejected();
        BenchMain.log("  jdyn " + js + "; hipparchus accepted=" + accepted[0] + ", evaluations=" + hEvals
                + ", derived rejected=" + hRejected + (whole ? "" : " (NOT whole: derivation does not hold)"));

        String name = "steps-" + problem.key + "-" + method;
        Json j = Json.bench(name).num("value", jSteps).str("unit", "steps")
                .str("baseline", Hipparchus.version() + " " + hi.getClass().getSimpleName());
        if (whole) {
            j.num("baseline_value", hSteps).num("ratio", (double) jSteps / hSteps)
                    .str("compared", "accepted + rejected steps; Hipparchus's rejected steps derived from its"
                            + " evaluations = 2 + " + perAttempt + " * (accepted + rejected)"
                            + (fsal ? "" : " + accepted"));
        } else {
            j.num("baseline_value", accepted[0]).num("ratio", (double) js.accepted() / accepted[0])
                    .str("compared", "accepted steps only: Hipparchus's rejected steps could not be derived from"
                            + " its evaluation count");
        }
        j.num("jdyn_accepted", js.accepted()).num("jdyn_rejected", js.rejected())
                .num("baseline_accepted", accepted[0]);
        if (whole) {
            j.num("baseline_rejected", hRejected);
        } else {
            j.nul("baseline_rejected");
        }
        j.num("accepted_ratio", (double) js.accepted() / accepted[0])
                .num("jdyn_nfe", js.nfe()).num("baseline_nfe", hEvals).num("nfe_ratio", (double) js.nfe() / hEvals)
                .num("baseline_stages_per_attempt", perAttempt)
                .str("method", method).num("rtol", TOL).num("atol", TOL).str("problem", problem.description)
                .num("t_end", problem.tEnd).num("max_final_state_diff", maxDiff(jEnd, hEnd));
        if (problem == Problem.ARENSTORF) {
            // the orbit is periodic: after one period the exact state is y0 again
            j.num("jdyn_final_error", maxDiff(jEnd, problem.y0)).num("baseline_final_error", maxDiff(hEnd, problem.y0));
        }
        out.accept(j);
    }

    private static double maxDiff(double[] a, double[] b) {
        double m = 0;
        for (int i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
        return m;
    }
}
