package io.jdyn.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jdyn.DType;
import io.jdyn.Tensor;
import io.jdyn.fn.Fn;
import io.jdyn.nn.NeuralField;
import io.jdyn.nn.Sequential;
import io.jdyn.ode.BatchView;
import io.jdyn.ode.DifferentiableVectorField;
import io.jdyn.ode.GradOptions;
import io.jdyn.ode.GradSolution;
import io.jdyn.ode.Gradients;
import io.jdyn.ode.Method;
import io.jdyn.ode.Odeint;
import io.jdyn.ode.ParamView;
import io.jdyn.ode.Sensitivity;
import io.jdyn.ode.Solution;
import io.jdyn.ode.SolveOptions;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Shared pieces of the gradient suites: differentiable subjects (a NeuralField or a Java field with
 * its own VJP) behind one interface, a loss L = sum_k <c_k, y(t_k)> (+ an integral loss), its
 * gradients from a backward pass, and its central finite differences.
 */
final class GradSupport {
    private GradSupport() {}

    /** Something with parameters that can be solved, with and without a tape. */
    interface Subject extends AutoCloseable {
        int dim();

        int numParams();

        double param(int i);

        void setParam(int i, double v);

        Solution solve(Tensor y0, double[] t, SolveOptions o);

        GradSolution solveGrad(Tensor y0, double[] t, SolveOptions o, GradOptions g);

        /** dL/dtheta of the last backward pass (the gradient accumulator is zeroed before each). */
        double[] paramGrad(Gradients g);

        void zeroGrad();

        @Override
        void close();
    }

    static Subject neural(String name, Sequential net, int dim, long seed) {
        return neural(name, NeuralField.of(net, dim, DType.FLOAT64, seed));
    }

    /** A field built from an Fn: a native differentiable program. */
    static Subject neural(String name, Fn fn, int dim, long seed) {
        return neural(name, NeuralField.of(fn, dim, DType.FLOAT64, seed));
    }

    static Subject neural(String name, NeuralField f) {
        int dim = f.dim();
        return new Subject() {
            public int dim() { return dim; }
            public int numParams() { return (int) f.numParams(); }
            public double param(int i) { return f.parameters().values().get(i); }
            public void setParam(int i, double v) { f.parameters().values().set(v, i); }
            public Solution solve(Tensor y0, double[] t, SolveOptions o) { return Odeint.odeint(f, y0, t, o); }
            public GradSolution solveGrad(Tensor y0, double[] t, SolveOptions o, GradOptions g) {
                return Odeint.odeint(f, y0, t, o, g);
            }
            public double[] paramGrad(Gradients g) { return f.parameters().grad().toDoubleArray(); }
            public void zeroGrad() { f.parameters().zeroGrad(); }
            public void close() { f.close(); }
            @Override public String toString() { return name; }
        };
    }

    /**
     * f(t, z) = (1 + 0.3 sin t) tanh(W z + b) row by row, params [W (D x D), b (D)], written in Java
     * with its VJP (native-core's test field, on the Java side).
     */
    static final class TanhField implements DifferentiableVectorField {
        final int d;
        final double[] p;

        TanhField(int d, long seed) {
            this.d = d;
            this.p = new double[d * d + d];
            SplittableRandom r = new SplittableRandom(seed);
            for (int i = 0; i < p.length; i++) p[i] = r.nextDouble(-1, 1);
        }

        @Override
        public int numParams() {
            return p.length;
        }

        private double pre(BatchView z, int row, int i) {
            double u = p[d * d + i];
            for (int j = 0; j < d; j++) u += p[i * d + j] * z.get(row, j);
            return u;
        }

        @Override
        public void evaluate(double t, BatchView z, BatchView dz) {
            double g = 1 + 0.3 * Math.sin(t);
            for (int r = 0; r < z.batch(); r++) {
                for (int i = 0; i < d; i++) dz.set(r, i, g * Math.tanh(pre(z, r, i)));
            }
        }

        @Override
        public double vjp(double t, BatchView z, BatchView v, BatchView gz, ParamView gp) {
            double g = 1 + 0.3 * Math.sin(t), dg = 0.3 * Math.cos(t), gt = 0;
            for (int r = 0; r < z.batch(); r++) {
                for (int j = 0; j < d; j++) gz.set(r, j, 0);
                for (int i = 0; i < d; i++) {
                    double s = Math.tanh(pre(z, r, i));
                    double vi = v.get(r, i);
                    double du = vi * g * (1 - s * s);
                    for (int j = 0; j < d; j++) {
                        gz.set(r, j, gz.get(r, j) + p[i * d + j] * du);
                        gp.add(i * d + j, du * z.get(r, j));
                    }
                    gp.add(d * d + i, du);
                    gt += vi * dg * s;
                }
            }
            return gt;
        }
    }

    static Subject java(String name, TanhField f) {
        return new Subject() {
            public int dim() { return f.d; }
            public int numParams() { return f.p.length; }
            public double param(int i) { return f.p[i]; }
            public void setParam(int i, double v) { f.p[i] = v; }
            public Solution solve(Tensor y0, double[] t, SolveOptions o) { return Odeint.odeint(f, y0, t, o); }
            public GradSolution solveGrad(Tensor y0, double[] t, SolveOptions o, GradOptions g) {
                return Odeint.odeint(f, y0, t, o, g);
            }
            public double[] paramGrad(Gradients g) { return g.params().orElseThrow().toDoubleArray(); }
            public void zeroGrad() {}
            public void close() {}
            @Override public String toString() { return name; }
        };
    }

    /** y0 [batch, dim], the output times and the loss weights c [T, batch, dim]. */
    static final class Problem {
        final int batch;
        final int dim;
        double[] y0;
        double[] times;
        final double[] coef;

        Problem(int batch, int dim, double[] times, long seed) {
            this.batch = batch;
            this.dim = dim;
            this.times = times.clone();
            SplittableRandom r = new SplittableRandom(seed);
            y0 = new double[batch * dim];
            for (int i = 0; i < y0.length; i++) y0[i] = r.nextDouble(-1, 1);
            coef = new double[times.length * batch * dim];
            for (int i = 0; i < coef.length; i++) coef[i] = r.nextDouble(-1, 1);
        }

        Tensor y0Tensor() {
            return Tensor.of(y0, batch, dim);
        }

        Tensor coefTensor() {
            return Tensor.of(coef, times.length, batch, dim);
        }

        double weighted(Tensor ys) {
            double[] y = ys.toDoubleArray();
            double l = 0;
            for (int i = 0; i < y.length; i++) l += coef[i] * y[i];
            return l;
        }
    }

    /** Everything a backward pass gave, copied out of native memory. */
    record Grads(double[] y0, double[] params, double[] times, double[] stepTimes, long forwardNfe, long backwardNfe,
            double loss) {}

    static SolveOptions adaptive(double tol) {
        return SolveOptions.builder().method(Method.DOPRI5).rtol(tol).atol(tol).maxSteps(100_000).build();
    }

    static Grads gradients(Subject s, Problem p, SolveOptions o, GradOptions g) {
        s.zeroGrad();
        try (Tensor y0 = p.y0Tensor(); Tensor c = p.coefTensor(); GradSolution sol = s.solveGrad(y0, p.times, o, g)) {
            double loss = p.weighted(sol.ys()) + sol.integralValue().orElse(0);
            Gradients gr = sol.backward(c);
            double[] gp = s.numParams() > 0 ? s.paramGrad(gr) : new double[0];
            return new Grads(gr.y0().toDoubleArray(), gp, gr.times(), sol.stepTimes(), sol.stats().nfe(),
                    gr.backwardStats().nfe(), loss);
        }
    }

    /** L by a solve without gradients (the inference path), or through a tape when an integral loss is given. */
    static double loss(Subject s, Problem p, SolveOptions o, GradOptions g) {
        try (Tensor y0 = p.y0Tensor()) {
            if (g.integralLoss() == null) {
                try (Solution sol = s.solve(y0, p.times, o)) {
                    return p.weighted(sol.ys());
                }
            }
            try (GradSolution sol = s.solveGrad(y0, p.times, o, g)) {
                return p.weighted(sol.ys()) + sol.integralValue().getAsDouble();
            }
        }
    }

    /**
     * The grid of the autograd solve moved with perturbed output times: each step a fixed fraction of
     * its output interval (native-core/tests/test_sensitivity.cpp's scaled_grid), with the output
     * times themselves kept exact.
     */
    static double[] scaledGrid(double[] steps, double[] baseTimes, double[] times) {
        double[] g = new double[steps.length];
        int k = 1;
        for (int i = 0; i < steps.length; i++) {
            double s = steps[i];
            while (k + 1 < baseTimes.length && s > baseTimes[k]) k++;
            double a = baseTimes[k - 1], b = baseTimes[k];
            double sigma = (s - a) / (b - a);
            g[i] = sigma == 0 ? times[k - 1] : sigma == 1 ? times[k] : times[k - 1] + sigma * (times[k] - times[k - 1]);
        }
        return g;
    }

    /** A loss of the problem, for finite differences. */
    @FunctionalInterface
    interface LossFn {
        double at(Problem p);
    }

    /**
     * Checks every gradient (y0, parameters, output times) against differences of `loss`: central
     * (2 points) when fourPoint is false, else the 4-point stencil (error O(eps^4)).
     */
    static void checkAgainstFd(Subject s, Problem base, Grads g, LossFn loss, double eps, double relTol,
            boolean fourPoint, boolean times) {
        List<String> bad = new ArrayList<>();
        int checked = 0;
        for (int i = 0; i < base.y0.length; i++) {
            final int idx = i;
            double fd = diff(h -> {
                Problem q = copy(base);
                q.y0[idx] += h;
                return loss.at(q);
            }, eps, fourPoint);
            checked += compare("y0[" + i + "]", g.y0()[i], fd, relTol, bad);
        }
        for (int i = 0; i < s.numParams(); i++) {
            final int idx = i;
            double orig = s.param(idx);
            double fd = diff(h -> {
                s.setParam(idx, orig + h);
                try {
                    return loss.at(base);
                } finally {
                    s.setParam(idx, orig);
                }
            }, eps, fourPoint);
            checked += compare("params[" + i + "]", g.params()[i], fd, relTol, bad);
        }
        for (int i = 0; times && i < base.times.length; i++) {
            final int idx = i;
            double fd = diff(h -> {
                Problem q = copy(base);
                q.times[idx] += h;
                return loss.at(q);
            }, eps, fourPoint);
            checked += compare("times[" + i + "]", g.times()[i], fd, relTol, bad);
        }
        assertEquals(base.y0.length + s.numParams() + (times ? base.times.length : 0), checked);
        assertTrue(bad.isEmpty(), s + ": " + bad.size() + " of " + checked + " gradients off: " + bad);
    }

    private static int compare(String what, double analytic, double fd, double relTol, List<String> bad) {
        if (!(Math.abs(analytic - fd) <= relTol * Math.max(1, Math.abs(fd)))) {
            bad.add(what + " analytic " + analytic + " fd " + fd);
        }
        return 1;
    }

    private static double diff(java.util.function.DoubleUnaryOperator f, double h, boolean fourPoint) {
        double d1 = f.applyAsDouble(h) - f.applyAsDouble(-h);
        if (!fourPoint) return d1 / (2 * h);
        double d2 = f.applyAsDouble(2 * h) - f.applyAsDouble(-2 * h);
        return (8 * d1 - d2) / (12 * h);
    }

    static Problem copy(Problem p) {
        Problem q = new Problem(p.batch, p.dim, p.times, 0);
        q.y0 = p.y0.clone();
        System.arraycopy(p.coef, 0, q.coef, 0, p.coef.length);
        return q;
    }

    /** The analytic gradients of a sensitivity mode checked against differences of the matching loss. */
    static void check(Subject s, Problem p, Sensitivity mode, GradOptions.Builder extra) {
        check(s, p, mode, extra, true);
    }

    /** As above; times false skips the output-time gradients. */
    static void check(Subject s, Problem p, Sensitivity mode, GradOptions.Builder extra, boolean times) {
        GradOptions g = extra.sensitivity(mode).build();
        if (mode == Sensitivity.AUTOGRAD) {
            // Autograd is the exact gradient of the discrete solve: compare with the fixed-grid solve on
            // its own steps, moved with the perturbed times, at any tolerance.
            SolveOptions o = adaptive(1e-5);
            Grads r = gradients(s, p, o, g);
            assertTrue(r.stepTimes().length > 3, "autograd recorded " + r.stepTimes().length + " step times");
            LossFn fd = q -> loss(s, q, SolveOptions.builder().method(Method.DOPRI5)
                    .grid(scaledGrid(r.stepTimes(), p.times, q.times)).build(), g);
            checkAgainstFd(s, p, r, fd, 1e-5, 1e-6, false, times);
        } else {
            // The adjoint at 1e-10; the differences of solves at 1e-12: at 1e-10 the forward error
            // itself is rough in theta where the field is only C1 (ELU's second derivative jumps at 0),
            // which scattered 4-point differences by 1e-5 relative (measured); at 1e-12 by ~1e-7.
            Grads r = gradients(s, p, adaptive(1e-10), g);
            SolveOptions ref = adaptive(1e-12);
            checkAgainstFd(s, p, r, q -> loss(s, q, ref, g), 1e-3, 1e-5, true, times);
        }
    }
}
