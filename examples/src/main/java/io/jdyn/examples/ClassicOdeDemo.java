package io.jdyn.examples;

import io.jdyn.DType;
import io.jdyn.Jdyn;
import io.jdyn.Tensor;
import io.jdyn.ode.BatchView;
import io.jdyn.ode.Event;
import io.jdyn.ode.Odeint;
import io.jdyn.ode.SolveOptions;
import io.jdyn.ode.Solution;
import io.jdyn.ode.VectorField;
import java.util.Locale;

/**
 * The classic-ODE tour of jdyn: every method on one problem, dense output, a terminal event, and a
 * batch of 10,000 oscillators in one solve. Each part checks itself against a known answer and the
 * demo exits non-zero if any part misses it.
 */
public final class ClassicOdeDemo {
    private static int failures;

    private ClassicOdeDemo() {}

    public static void main(String[] args) {
        System.out.println("jdyn classic ODE demo\n" + Jdyn.info());
        methodsOnHarmonicOscillator();
        vanDerPolWithDenseOutput();
        ballHitsTheGround();
        tenThousandOscillators();
        if (failures > 0) {
            System.out.println(failures + " check(s) failed");
            System.exit(1);
        }
        System.out.println("all checks passed");
    }

    /** x'' = -x from (1, 0): exact (cos t, -sin t). */
    private static final VectorField HARMONIC = (t, z, dz) -> {
        for (int b = 0; b < z.batch(); b++) {
            dz.set(b, 0, z.get(b, 1));
            dz.set(b, 1, -z.get(b, 0));
        }
    };

    private static void methodsOnHarmonicOscillator() {
        System.out.println("1. Every method on x'' = -x over [0, 10] (adaptive at rtol = atol = 1e-8, 1e-5 for the"
                + " second- and third-order pairs; fixed at dt = 0.01)");
        System.out.printf(Locale.ROOT, "   %-8s %10s %8s %8s %12s%n", "method", "mode", "steps", "nfe", "error");
        double[] t = {0, 10};
        for (String m : new String[] {"euler", "midpoint", "heun", "rk4", "rk4_38", "bosh3", "dopri5", "tsit5", "dopri8"}) {
            SolveOptions.Builder o = SolveOptions.builder().method(m);
            boolean adaptive = io.jdyn.ode.Method.of(m).isAdaptive();
            double tol = io.jdyn.ode.Method.of(m).order() <= 3 ? 1e-5 : 1e-8;
            if (adaptive) o.rtol(tol).atol(tol); else o.dt(0.01);
            try (Tensor y0 = Tensor.of(new double[] {1, 0}, 2); Solution s = Odeint.odeint(HARMONIC, y0, t, o.build())) {
                double err = Math.hypot(s.ys().get(1, 0) - Math.cos(10), s.ys().get(1, 1) + Math.sin(10));
                System.out.printf(Locale.ROOT, "   %-8s %10s %8d %8d %12.3e%n", m, adaptive ? "adaptive" : "fixed",
                        s.stats().accepted(), s.stats().nfe(), err);
                // Euler's global error at dt = 0.01 is about 0.5 * t * dt = 0.05 here; the others are far below.
                check(err < (m.equals("euler") ? 0.3 : 1e-3), m + " error " + err);
            }
        }
    }

    private static void vanDerPolWithDenseOutput() {
        System.out.println("\n2. Van der Pol (mu = 1) on [0, 20], dopri5 at 1e-8, with the dense interpolant");
        VectorField vdp = (t, z, dz) -> {
            double x = z.get(0), v = z.get(1);
            dz.set(0, v);
            dz.set(1, (1 - x * x) * v - x);
        };
        SolveOptions o = SolveOptions.builder().method("dopri5").rtol(1e-8).atol(1e-8).dense(true).build();
        try (Tensor y0 = Tensor.of(new double[] {2, 0}, 2); Solution s = Odeint.odeint(vdp, y0, new double[] {0, 20}, o)) {
            var dense = s.interpolant().orElseThrow();
            double[] ts = {2.5, 5, 7.5, 10, 12.5, 15, 17.5, 20};
            try (Tensor at = dense.evaluate(ts)) {
                for (int i = 0; i < ts.length; i++) {
                    System.out.printf(Locale.ROOT, "   t = %5.2f   x = %+.8f   v = %+.8f%n", ts[i], at.get(i, 0), at.get(i, 1));
                }
                // The interpolant at t1 must equal the solver's own final state.
                check(Math.abs(at.get(ts.length - 1, 0) - s.ys().get(1, 0)) < 1e-12, "dense output at t1");
            }
            System.out.println("   " + s.stats() + ", " + dense.steps() + " steps stored");
            // The limit cycle's amplitude is close to 2 for mu = 1.
            check(Math.abs(s.ys().get(1, 0)) < 2.1, "Van der Pol stays on its limit cycle");
        }
    }

    private static void ballHitsTheGround() {
        System.out.println("\n3. A ball thrown up at 10 m/s from 1 m: terminal event where the height crosses zero");
        double g = 9.81, v0 = 10, h0 = 1;
        VectorField ball = (t, z, dz) -> {
            dz.set(0, z.get(1));
            dz.set(1, -g);
        };
        Event hit = Event.terminal((t, z) -> z.get(0)).direction(Event.Direction.FALLING).tolerance(1e-12);
        SolveOptions o = SolveOptions.builder().method("tsit5").rtol(1e-10).atol(1e-10).event(hit).build();
        try (Tensor y0 = Tensor.of(new double[] {h0, v0}, 2);
                Solution s = Odeint.odeint(ball, y0, new double[] {0, 1, 2, 3, 4}, o)) {
            double exact = (v0 + Math.sqrt(v0 * v0 + 2 * g * h0)) / g;
            double te = s.eventTime().orElseThrow();
            System.out.printf(Locale.ROOT, "   hits the ground at t = %.12f (exact %.12f), speed %.6f m/s; %d outputs before it%n",
                    te, exact, -s.eventState().orElseThrow().get(1), s.ts().length);
            check(Math.abs(te - exact) < 1e-9, "event time");
        }
    }

    private static void tenThousandOscillators() {
        int n = 10_000;
        System.out.println("\n4. " + n + " damped oscillators with different frequencies, one batched dopri5 solve (float64)");
        double[] w = new double[n], zeta = new double[n], y0 = new double[2 * n];
        for (int i = 0; i < n; i++) {
            w[i] = 0.5 + 1.5 * i / (n - 1);
            zeta[i] = 0.05 + 0.25 * ((i * 7919) % n) / n;
            y0[2 * i] = 1;
        }
        VectorField f = (t, z, dz) -> oscillators(z, dz, w, zeta);
        SolveOptions o = SolveOptions.builder().method("dopri5").rtol(1e-7).atol(1e-7).build();
        for (int round = 0; round < 3; round++) { // the last round is timed after JIT warm-up
            try (Tensor init = Tensor.of(DType.FLOAT64, y0, n, 2)) {
                long start = System.nanoTime();
                try (Solution s = Odeint.odeint(f, init, new double[] {0, 10}, o)) {
                    double ms = (System.nanoTime() - start) / 1e6;
                    double worst = 0;
                    double[] end = s.ys().toDoubleArray();
                    for (int i = 0; i < n; i++) worst = Math.max(worst, Math.abs(end[2 * n + 2 * i] - exact(w[i], zeta[i], 10)));
                    if (round == 2) {
                        System.out.printf(Locale.ROOT, "   %.1f ms, %d steps, %d evaluations of the whole batch, max error %.2e%n",
                                ms, s.stats().accepted(), s.stats().nfe(), worst);
                        check(worst < 1e-5, "oscillator batch accuracy");
                    }
                }
            }
        }
    }

    private static void oscillators(BatchView z, BatchView dz, double[] w, double[] zeta) {
        int n = z.batch();
        for (int i = 0; i < n; i++) {
            double x = z.get(2L * i), v = z.get(2L * i + 1);
            dz.set(2L * i, v);
            dz.set(2L * i + 1, -2 * zeta[i] * w[i] * v - w[i] * w[i] * x);
        }
    }

    /** Underdamped x(t) from x(0) = 1, v(0) = 0. */
    private static double exact(double w, double zeta, double t) {
        double wd = w * Math.sqrt(1 - zeta * zeta);
        return Math.exp(-zeta * w * t) * (Math.cos(wd * t) + zeta * w / wd * Math.sin(wd * t));
    }

    private static void check(boolean ok, String what) {
        if (!ok) {
            failures++;
            System.out.println("   CHECK FAILED: " + what);
        }
    }
}
