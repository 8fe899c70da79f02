package io.jdyn.e2e;

import io.jdyn.Tensor;
import io.jdyn.ode.BatchView;
import io.jdyn.ode.Odeint;
import io.jdyn.ode.Solution;
import io.jdyn.ode.SolveOptions;
import io.jdyn.ode.VectorField;
import java.util.List;
import java.util.function.DoubleFunction;
import org.hipparchus.ode.ExpandableODE;
import org.hipparchus.ode.ODEState;
import org.hipparchus.ode.OrdinaryDifferentialEquation;
import org.hipparchus.ode.nonstiff.DormandPrince54Integrator;
import org.hipparchus.ode.nonstiff.DormandPrince853Integrator;
import org.hipparchus.ode.nonstiff.EmbeddedRungeKuttaIntegrator;
import org.hipparchus.special.elliptic.jacobi.CopolarN;
import org.hipparchus.special.elliptic.jacobi.JacobiElliptic;
import org.hipparchus.special.elliptic.jacobi.JacobiEllipticBuilder;

/** Shared test problems, the adapter from plain Java right-hand sides to jdyn, and the Hipparchus reference. */
final class Problems {
    private Problems() {}

    /** dy = f(t, y) for one state, written once and used both by jdyn and by Hipparchus. */
    @FunctionalInterface
    interface Rhs {
        void eval(double t, double[] y, double[] dy);
    }

    /** An initial value problem on [0, t1]; exact is null where there is no closed form. */
    record Ode(String name, double[] y0, double t1, Rhs rhs, DoubleFunction<double[]> exact) {
        int dim() {
            return y0.length;
        }

        /** The closed form at t1, or Hipparchus's DP853 at rtol = atol = 1e-13 where there is none. */
        double[] truth() {
            return exact != null ? exact.apply(t1) : reference(rhs, y0, 0, t1);
        }

        @Override
        public String toString() {
            return name;
        }
    }

    /** Applies a per-state right-hand side to every row of the batch. */
    static VectorField field(Rhs rhs) {
        return (t, z, dz) -> {
            int dim = z.dim();
            double[] y = new double[dim];
            double[] dy = new double[dim];
            for (int b = 0; b < z.batch(); b++) {
                for (int d = 0; d < dim; d++) y[d] = z.get(b, d);
                rhs.eval(t, y, dy);
                for (int d = 0; d < dim; d++) dz.set(b, d, dy[d]);
            }
        };
    }

    /** Solves one state (y0 as [1, dim]) and returns the states at the output times, [times][dim]. */
    static double[][] solve(Rhs rhs, double[] y0, double[] ts, SolveOptions options) {
        try (Tensor y = Tensor.of(y0, 1, y0.length);
                Solution s = Odeint.odeint(field(rhs), y, ts, options)) {
            return rows(s.ys().toDoubleArray(), y0.length);
        }
    }

    /** The state at the last output time. */
    static double[] solveFinal(Rhs rhs, double[] y0, double[] ts, SolveOptions options) {
        double[][] all = solve(rhs, y0, ts, options);
        return all[all.length - 1];
    }

    static double[][] rows(double[] flat, int dim) {
        double[][] out = new double[flat.length / dim][dim];
        for (int i = 0; i < out.length; i++) System.arraycopy(flat, i * dim, out[i], 0, dim);
        return out;
    }

    /** Hipparchus's DormandPrince853Integrator at rtol = atol = 1e-13: an independent reference. */
    static double[] reference(Rhs rhs, double[] y0, double t0, double t1) {
        return hipparchus(new DormandPrince853Integrator(0, Math.abs(t1 - t0), 1e-13, 1e-13), rhs, y0, t0, t1);
    }

    /**
     * The same algorithm in Hipparchus at rtol = atol = tol: DormandPrince54 for "dopri5", DormandPrince853
     * for "dopri8". Both use the classic I controller (safety 0.9, factors in [0.2, 10]) as jdyn does.
     */
    static double[] hipparchusTwin(String method, Rhs rhs, double[] y0, double t1, double tol) {
        EmbeddedRungeKuttaIntegrator in = switch (method) {
            case "dopri5" -> new DormandPrince54Integrator(0, t1, tol, tol);
            case "dopri8" -> new DormandPrince853Integrator(0, t1, tol, tol);
            default -> throw new IllegalArgumentException("no Hipparchus twin for " + method);
        };
        return hipparchus(in, rhs, y0, 0, t1);
    }

    private static double[] hipparchus(EmbeddedRungeKuttaIntegrator integrator, Rhs rhs, double[] y0, double t0,
            double t1) {
        int dim = y0.length;
        OrdinaryDifferentialEquation ode = new OrdinaryDifferentialEquation() {
            @Override
            public int getDimension() {
                return dim;
            }

            @Override
            public double[] computeDerivatives(double t, double[] y) {
                double[] dy = new double[dim];
                rhs.eval(t, y, dy);
                return dy;
            }
        };
        integrator.setMaxEvaluations(Integer.MAX_VALUE);
        return integrator.integrate(new ExpandableODE(ode), new ODEState(t0, y0.clone()), t1).getPrimaryState();
    }

    static double maxAbsDiff(double[] a, double[] b) {
        if (a.length != b.length) throw new IllegalArgumentException("lengths differ: " + a.length + " vs " + b.length);
        double m = 0;
        for (int i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
        return m;
    }

    static SolveOptions adaptive(String method, double tol) {
        return SolveOptions.builder().method(method).rtol(tol).atol(tol).maxSteps(200_000).build();
    }

    // ---- DETEST (Hull, Enright, Fellen & Sedgwick 1972), as diffrax and torchdiffeq test them: t in [0, 20].

    static List<Ode> detestA() {
        return List.of(
                new Ode("A1", new double[] {1}, 20, (t, y, dy) -> dy[0] = -y[0],
                        t -> new double[] {Math.exp(-t)}),
                new Ode("A2", new double[] {1}, 20, (t, y, dy) -> dy[0] = -0.5 * y[0] * y[0] * y[0],
                        t -> new double[] {1 / Math.sqrt(t + 1)}),
                new Ode("A3", new double[] {1}, 20, (t, y, dy) -> dy[0] = y[0] * Math.cos(t),
                        t -> new double[] {Math.exp(Math.sin(t))}),
                new Ode("A4", new double[] {1}, 20, (t, y, dy) -> dy[0] = 0.25 * y[0] * (1 - y[0] / 20),
                        t -> new double[] {20 / (1 + 19 * Math.exp(-t / 4))}),
                new Ode("A5", new double[] {4}, 20, (t, y, dy) -> dy[0] = (y[0] - t) / (y[0] + t), null));
    }

    static List<Ode> detestB() {
        JacobiElliptic jacobi = JacobiEllipticBuilder.build(0.51);
        return List.of(
                // Lotka-Volterra: no closed form.
                new Ode("B1", new double[] {1, 3}, 20, (t, y, dy) -> {
                    dy[0] = 2 * (y[0] - y[0] * y[1]);
                    dy[1] = -(y[1] - y[0] * y[1]);
                }, null),
                // Linear, eigenvalues 0, -1, -3: y = (1,1,1) + e^-t/2 (1,0,-1) + e^-3t/2 (1,-2,1).
                new Ode("B2", new double[] {2, 0, 1}, 20, (t, y, dy) -> {
                    dy[0] = -y[0] + y[1];
                    dy[1] = y[0] - 2 * y[1] + y[2];
                    dy[2] = y[1] - y[2];
                }, t -> {
                    double a = 0.5 * Math.exp(-t), c = 0.5 * Math.exp(-3 * t);
                    return new double[] {1 + a + c, 1 - 2 * c, 1 - a + c};
                }),
                // y2 is a Riccati equation (Bessel functions): use the reference.
                new Ode("B3", new double[] {1, 0, 0}, 20, (t, y, dy) -> {
                    dy[0] = -y[0];
                    dy[1] = y[0] - y[1] * y[1];
                    dy[2] = y[1] * y[1];
                }, null),
                // In polar form r' = -y3, theta' = 1, y3' = cos(theta): y3 = sin t, r = 2 + cos t.
                new Ode("B4", new double[] {3, 0, 0}, 20, (t, y, dy) -> {
                    double r = Math.sqrt(y[0] * y[0] + y[1] * y[1]);
                    dy[0] = -y[1] - y[0] * y[2] / r;
                    dy[1] = y[0] - y[1] * y[2] / r;
                    dy[2] = y[0] / r;
                }, t -> {
                    double r = 2 + Math.cos(t);
                    return new double[] {r * Math.cos(t), r * Math.sin(t), Math.sin(t)};
                }),
                // Euler's rigid body: (sn, cn, dn)(t | m = 0.51).
                new Ode("B5", new double[] {0, 1, 1}, 20, (t, y, dy) -> {
                    dy[0] = y[1] * y[2];
                    dy[1] = -y[0] * y[2];
                    dy[2] = -0.51 * y[0] * y[1];
                }, t -> {
                    CopolarN v = jacobi.valuesN(t);
                    return new double[] {v.sn(), v.cn(), v.dn()};
                }));
    }

    /** The harmonic oscillator y'' = -w^2 y from (1, 0): (cos wt, -w sin wt). */
    static Rhs harmonic(double w) {
        return (t, y, dy) -> {
            dy[0] = y[1];
            dy[1] = -w * w * y[0];
        };
    }

    static double[] harmonicExact(double w, double t) {
        return new double[] {Math.cos(w * t), -w * Math.sin(w * t)};
    }

    /** Reads row b of a [batch, dim] view. */
    static double[] row(BatchView v, int b) {
        double[] out = new double[v.dim()];
        for (int d = 0; d < out.length; d++) out[d] = v.get(b, d);
        return out;
    }
}
