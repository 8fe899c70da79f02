package io.jdyn.cli;

import io.jdyn.Tensor;
import io.jdyn.ode.Method;
import io.jdyn.ode.Odeint;
import io.jdyn.ode.SolveOptions;
import io.jdyn.ode.Solution;
import io.jdyn.ode.VectorField;
import java.io.PrintWriter;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code jdyn solve PROBLEM}: a built-in classic ODE, solved by odeint, as a table or CSV. */
@Command(name = "solve", mixinStandardHelpOptions = true,
        description = "Solve a built-in classic ODE and print the state at evenly spaced times, then the solver's statistics.",
        footer = {"", "Problems:",
                "  vdp        Van der Pol oscillator, mu = 1, from (x, v) = (2, 0), t1 = 20",
                "  lorenz     Lorenz system, sigma 10, rho 28, beta 8/3, from (1, 1, 1), t1 = 20",
                "  harmonic   x'' = -x from (1, 0), t1 = 10 (exact: cos t, -sin t)",
                "  arenstorf  Arenstorf's periodic orbit of the restricted three-body problem, t1 = one period"})
final class SolveCommand implements Callable<Integer> {
    /** The built-in problems. */
    enum Problem {
        vdp(20, new String[] {"x", "v"}, new double[] {2, 0}, (t, z, dz) -> {
            for (int b = 0; b < z.batch(); b++) {
                double x = z.get(b, 0), v = z.get(b, 1);
                dz.set(b, 0, v);
                dz.set(b, 1, (1 - x * x) * v - x);
            }
        }),
        lorenz(20, new String[] {"x", "y", "z"}, new double[] {1, 1, 1}, (t, z, dz) -> {
            for (int b = 0; b < z.batch(); b++) {
                double x = z.get(b, 0), y = z.get(b, 1), w = z.get(b, 2);
                dz.set(b, 0, 10 * (y - x));
                dz.set(b, 1, x * (28 - w) - y);
                dz.set(b, 2, x * y - 8.0 / 3.0 * w);
            }
        }),
        harmonic(10, new String[] {"x", "v"}, new double[] {1, 0}, (t, z, dz) -> {
            for (int b = 0; b < z.batch(); b++) {
                dz.set(b, 0, z.get(b, 1));
                dz.set(b, 1, -z.get(b, 0));
            }
        }),
        arenstorf(17.0652165601579625588917206249, new String[] {"x", "y", "vx", "vy"},
                new double[] {0.994, 0, 0, -2.00158510637908252240537862224}, (t, z, dz) -> {
            double mu = 0.012277471, nu = 1 - mu;
            for (int b = 0; b < z.batch(); b++) {
                double x = z.get(b, 0), y = z.get(b, 1), vx = z.get(b, 2), vy = z.get(b, 3);
                double d1 = Math.pow((x + mu) * (x + mu) + y * y, 1.5);
                double d2 = Math.pow((x - nu) * (x - nu) + y * y, 1.5);
                dz.set(b, 0, vx);
                dz.set(b, 1, vy);
                dz.set(b, 2, x + 2 * vy - nu * (x + mu) / d1 - mu * (x - nu) / d2);
                dz.set(b, 3, y - 2 * vx - nu * y / d1 - mu * y / d2);
            }
        });

        final double t1;
        final String[] names;
        final double[] y0;
        final VectorField field;

        Problem(double t1, String[] names, double[] y0, VectorField field) {
            this.t1 = t1;
            this.names = names;
            this.y0 = y0;
            this.field = field;
        }
    }

    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "PROBLEM", description = "One of: ${COMPLETION-CANDIDATES}.")
    Problem problem;

    @Option(names = "--method", paramLabel = "NAME", defaultValue = "dopri5",
            description = "euler, midpoint, heun, rk4, rk4_38, bosh3, dopri5, tsit5, dopri8 (default: ${DEFAULT-VALUE}).")
    String method;

    @Option(names = "--rtol", defaultValue = "1e-7", description = "Relative tolerance (default: ${DEFAULT-VALUE}).")
    double rtol;

    @Option(names = "--atol", defaultValue = "1e-9", description = "Absolute tolerance (default: ${DEFAULT-VALUE}).")
    double atol;

    @Option(names = "--dt", description = "Fixed step size (needed by the fixed-step methods; makes any method fixed-step).")
    Double dt;

    @Option(names = "--t1", description = "End time (default: the problem's).")
    Double t1;

    @Option(names = "--points", defaultValue = "11", description = "Output times from 0 to t1, evenly spaced (default: ${DEFAULT-VALUE}).")
    int points;

    @Option(names = "--csv", description = "Print CSV (header t,<state>) instead of a table; the statistics go to stderr.")
    boolean csv;

    @Override
    public Integer call() {
        if (points < 2) throw new ParameterException(spec.commandLine(), "--points must be at least 2, got " + points);
        double end = t1 != null ? t1 : problem.t1;
        if (!Double.isFinite(end) || end == 0) throw new ParameterException(spec.commandLine(), "--t1 must be finite and non-zero, got " + end);
        Method m;
        try {
            m = Method.of(method);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), "--method: " + e.getMessage());
        }
        if (!(rtol > 0) || !Double.isFinite(rtol)) throw new ParameterException(spec.commandLine(), "--rtol must be positive, got " + rtol);
        if (!(atol > 0) || !Double.isFinite(atol)) throw new ParameterException(spec.commandLine(), "--atol must be positive, got " + atol);
        if (dt != null && (!(dt > 0) || !Double.isFinite(dt))) throw new ParameterException(spec.commandLine(), "--dt must be positive, got " + dt);
        SolveOptions.Builder ob = SolveOptions.builder().method(method).rtol(rtol).atol(atol);
        if (dt != null) ob.dt(dt);
        else if (!m.isAdaptive()) {
            throw new ParameterException(spec.commandLine(), "--method " + method + " is fixed-step: give --dt");
        }
        double[] ts = new double[points];
        for (int i = 0; i < points; i++) ts[i] = end * i / (points - 1);
        ts[points - 1] = end;
        PrintWriter out = spec.commandLine().getOut();
        int d = problem.y0.length;
        try (Tensor y0 = Tensor.of(problem.y0.clone(), 1, d);
             Solution s = Odeint.odeint(problem.field, y0, ts, ob.build())) {
            Tensor ys = s.ys(); // [T, 1, D]
            if (csv) {
                out.println("t," + String.join(",", problem.names));
                for (int i = 0; i < points; i++) {
                    StringBuilder sb = new StringBuilder(Double.toString(ts[i]));
                    for (int j = 0; j < d; j++) sb.append(',').append(ys.get(i, 0, j));
                    out.println(sb);
                }
                PrintWriter err = spec.commandLine().getErr();
                err.println("# " + statsLine(problem, m, s));
                err.flush();
            } else {
                out.println(statsHeader(problem, end));
                StringBuilder h = new StringBuilder(String.format(Locale.ROOT, "%12s", "t"));
                for (String n : problem.names) h.append(String.format(Locale.ROOT, " %18s", n));
                out.println(h);
                for (int i = 0; i < points; i++) {
                    StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "%12.6f", ts[i]));
                    for (int j = 0; j < d; j++) sb.append(String.format(Locale.ROOT, " %+18.10e", ys.get(i, 0, j)));
                    out.println(sb);
                }
                out.println(statsLine(problem, m, s));
            }
        }
        out.flush();
        return 0;
    }

    private static String statsHeader(Problem p, double end) {
        return p.name() + " on [0, " + num(end) + "]";
    }

    /** 20, 17.065216560157964, 1e-7: numbers as a user would type them. */
    static String num(double x) {
        if (x == Math.rint(x) && Math.abs(x) < 1e15) return Long.toString((long) x);
        return Double.toString(x).replace(".0E", "E").replace("E", "e");
    }

    private String statsLine(Problem p, Method m, Solution s) {
        var st = s.stats();
        return String.format(Locale.ROOT, "%s, %s: nfe %d, accepted %d, rejected %d, last dt %.4g, t reached %s",
                method, dt != null ? "fixed dt " + num(dt) : "rtol " + num(rtol) + ", atol " + num(atol),
                st.nfe(), st.accepted(), st.rejected(), st.lastDt(), num(st.tReached()));
    }
}
