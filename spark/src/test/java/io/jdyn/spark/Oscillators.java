package io.jdyn.spark;

import io.jdyn.fn.Sym;
import java.util.Random;

/**
 * Damped oscillators x'' + 2 zeta w x' + w^2 x = 0 as one field over [x, v, w, zeta]: each item carries
 * its own frequency and damping in its state (their derivatives are 0).
 */
final class Oscillators {
    private Oscillators() {}

    static final SerializableFn FIELD = (t, s, p) -> {
        Sym x = s.select(1, 0), v = s.select(1, 1), w = s.select(1, 2), z = s.select(1, 3);
        Sym a = w.square().mul(x).neg().sub(z.mul(w).mul(v).mul(2.0));
        Sym zero = x.zerosLike();
        return Sym.stack(1, v, a, zero, zero);
    };

    /** n items: x0, v0 in [-1, 1], w in [0.5, 2], zeta in [0.05, 0.5] (all underdamped). */
    static double[][] items(int n, long seed) {
        Random r = new Random(seed);
        double[][] out = new double[n][];
        for (int i = 0; i < n; i++) {
            out[i] = new double[] {2 * r.nextDouble() - 1, 2 * r.nextDouble() - 1, 0.5 + 1.5 * r.nextDouble(),
                    0.05 + 0.45 * r.nextDouble()};
        }
        return out;
    }

    /** The exact x(t), v(t) of an underdamped item. */
    static double[] exact(double[] y0, double t) {
        double x0 = y0[0], v0 = y0[1], w = y0[2], z = y0[3];
        double wd = w * Math.sqrt(1 - z * z), decay = Math.exp(-z * w * t);
        double b = (v0 + z * w * x0) / wd;
        double c = Math.cos(wd * t), s = Math.sin(wd * t);
        double x = decay * (x0 * c + b * s);
        double v = -z * w * x + decay * (-x0 * wd * s + b * wd * c);
        return new double[] {x, v};
    }
}
