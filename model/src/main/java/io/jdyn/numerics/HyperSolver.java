package io.jdyn.numerics;

import io.jdyn.fn.Fn;
import io.jdyn.fn.Params;
import io.jdyn.fn.Sym;
import io.jdyn.ode.Method;
import java.util.Arrays;
import java.util.Objects;

/**
 * A hypersolver (torchdyn.numerics' HyperSolverTemplate): a fixed-step explicit Runge-Kutta base method
 * of order p and a hypernetwork g that corrects its step,
 *
 * <pre>z_{k+1} = z_k + eps psi(t_k, z_k) + eps^(p+1) g(t_k, [eps, z_k, f(t_k, z_k)])</pre>
 *
 * with psi = sum_i b_i k_i the base method's increment. g is an {@link Fn} from the row
 * [eps, z, f(t, z)] (width 1 + 2D) to width D: {@code new Linear(5, 2)} on a 2-D state is the seed's
 * twelve-parameter HyperEuler. The first term of the input is the step size, so one g may serve several
 * step sizes, as in the paper's g(eps, z, f(z)).
 *
 * <p>A step of fixed eps is one explicit Euler step of the increment Phi(t, z) = psi(t, z) + eps^p
 * g(...): {@link #increment} writes Phi as an Fn (the stages unrolled in the graph, the field's
 * parameters tied across stages) and {@link HyperField} compiles it into one native program.
 */
public abstract sealed class HyperSolver permits HyperEuler, HyperMidpoint, HyperRungeKutta4 {
    /** The scope of the hypernet's parameters in the increment's program ("hypernet.weight", ...). */
    public static final String HYPERNET_SCOPE = "hypernet";

    private final Fn hypernet;
    private final Method base;
    private final double[] c;
    private final double[][] a;
    private final double[] b;

    HyperSolver(Fn hypernet, Method base, double[] c, double[][] a, double[] b) {
        this.hypernet = Objects.requireNonNull(hypernet, "hypernet");
        this.base = base;
        this.c = c;
        this.a = a;
        this.b = b;
    }

    /** The correcting network g: [eps, z, f(t, z)] (width 1 + 2D) to width D. */
    public Fn hypernet() {
        return hypernet;
    }

    /** The base method (euler, midpoint, rk4: the engine's methods of the same tableau). */
    public Method base() {
        return base;
    }

    /** The base method's order p: the correction is scaled by eps^(p+1). */
    public int order() {
        return base.order();
    }

    /** Evaluations of the vector field per step (the base method's stages); g adds none. */
    public int stages() {
        return b.length;
    }

    /** torchdyn's name of the class ("HyperEuler"). */
    public abstract String torchName();

    /**
     * The increment Phi(t, z) = psi(t, z) + eps^p g(t, [eps, z, f(t, z)]) of one step of size eps, as an
     * Fn over the field's parameters (declared once, under the names field declares them, tied across
     * the stages) and then the hypernet's (under {@value #HYPERNET_SCOPE}). An explicit Euler step of
     * size eps on Phi is exactly one hypersolver step.
     */
    public Fn increment(Fn field, double eps) {
        Objects.requireNonNull(field, "field");
        checkEps(eps);
        return new Fn() {
            @Override
            public Sym apply(Sym t, Sym z, Params p) {
                Sym[] k = new Sym[stages()];
                Sym psi = stages(field, eps, t, z, p, k);
                Sym g = correction(t, z, k[0], eps, p.scope(HYPERNET_SCOPE));
                return psi.add(g.mul(Math.pow(eps, order())));
            }

            @Override
            public String toString() {
                return torchName() + " increment (eps " + eps + ") of " + (field.getClass().isHidden() ? "a lambda" : field);
            }
        };
    }

    /**
     * g(t, [eps, z, f]) with its shape checked: the hypernet's output at the state z with field value
     * f (both [-1, D]). Its parameters are declared through p.
     */
    public Sym correction(Sym t, Sym z, Sym f, double eps, Params p) {
        checkEps(eps);
        Sym in = Sym.cat(1, z.slice(1, 0, 1).fullLike(eps), z, f);
        Sym g;
        try {
            g = hypernet.apply(t, in, p);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(torchName() + ": the hypernet takes [eps, z, f(z)] of width "
                    + in.size(1) + " and returns the state's width " + z.size(1) + ": " + e.getMessage(), e);
        }
        if (g == null || !Arrays.equals(g.shape(), z.shape())) {
            long d = z.size(1);
            throw new IllegalArgumentException(torchName() + ": the hypernet must map [eps, z, f(z)] [-1, " + (1 + 2 * d)
                    + "] to the state's shape " + Arrays.toString(z.shape()) + ", but it gives "
                    + (g == null ? "null" : Arrays.toString(g.shape())));
        }
        return g;
    }

    /**
     * The base method's increment psi(t, z) as an Fn (no correction): an explicit Euler step on it is
     * one step of the base method.
     */
    public Fn baseIncrement(Fn field, double eps) {
        Objects.requireNonNull(field, "field");
        checkEps(eps);
        return (t, z, p) -> stages(field, eps, t, z, p, new Sym[stages()]);
    }

    /** The stages k_i (into k) of one step from (t, z), the field's parameters tied across them; returns psi. */
    private Sym stages(Fn field, double eps, Sym t, Sym z, Params p, Sym[] k) {
        Params fp = p.tied();
        Sym psi = null;
        for (int i = 0; i < k.length; i++) {
            Sym zi = z;
            for (int j = 0; j < i; j++) {
                if (a[i][j] != 0) zi = zi.add(k[j].mul(eps * a[i][j]));
            }
            k[i] = field.apply(c[i] == 0 ? t : t.add(eps * c[i]), zi, fp);
            if (k[i] == null || !Arrays.equals(k[i].shape(), z.shape())) {
                throw new IllegalArgumentException("the vector field maps the state " + Arrays.toString(z.shape())
                        + " to " + (k[i] == null ? "null" : Arrays.toString(k[i].shape())));
            }
            if (b[i] != 0) psi = psi == null ? k[i].mul(b[i]) : psi.add(k[i].mul(b[i]));
        }
        return psi;
    }

    static void checkEps(double eps) {
        if (!(eps > 0) || !Double.isFinite(eps)) throw new IllegalArgumentException("the step eps must be finite and > 0, got " + eps);
    }

    @Override
    public String toString() {
        return torchName() + "(base " + base.torchName() + ", order " + order() + ", hypernet " + (hypernet.getClass().isHidden()
                ? "a lambda" : hypernet) + ")";
    }
}
