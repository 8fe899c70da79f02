package io.jdyn.numerics;

import io.jdyn.DType;
import io.jdyn.Tensor;
import io.jdyn.fn.Graph;
import io.jdyn.fn.ParamInfo;
import io.jdyn.fn.Program;
import io.jdyn.fn.Sym;
import io.jdyn.nn.NeuralField;
import io.jdyn.ode.Method;
import io.jdyn.ode.Odeint;
import io.jdyn.ode.Solution;
import io.jdyn.ode.SolveOptions;
import io.jdyn.train.optim.Adam;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Residual fitting of a hypersolver (Poli et al. 2020, Sec. 3): along reference trajectories z(t_k) of
 * the field from an adaptive solver at tight tolerances on the grid t_k = t0 + k eps, the base method's
 * scaled local residual R_k = (z(t_{k+1}) - z(t_k) - eps psi(t_k, z(t_k))) / eps^(p+1) is the target of
 * g(t_k, [eps, z(t_k), f(t_k, z(t_k))]); the loss is their mean squared difference over points, components
 * and steps, minimised by Adam over the hypernet's parameters alone (full batch, one update an epoch).
 *
 * <p>Everything runs natively and in float64 whatever the field's dtype (for rk4, eps^5 is small enough
 * that float32 rounding of the reference would swamp R): the reference solve, and the loss with its
 * gradient as one program (the hypersolver's one-step prediction z + eps Phi(t_k, z) against z(t_{k+1}),
 * divided by eps^(p+1), which is exactly g - R, and {@link Graph#vjp} of its mean by the hypernet's
 * parameters). The fitted values are copied into the given {@link HyperField}.
 */
public final class ResidualFit {
    /**
     * epochs: Adam updates (full batch); lr: Adam's learning rate; rtol/atol: the reference solve's
     * (dopri5) tolerances.
     */
    public record Options(int epochs, double lr, double rtol, double atol) {
        public Options {
            if (epochs < 1) throw new IllegalArgumentException("epochs must be >= 1, got " + epochs);
            if (!(lr > 0) || !Double.isFinite(lr)) throw new IllegalArgumentException("lr must be finite and > 0, got " + lr);
            if (!(rtol > 0) || !(atol > 0)) throw new IllegalArgumentException("rtol and atol must be > 0, got " + rtol + ", " + atol);
        }

        /** 1000 epochs at lr 1e-2 (the seed fits with many cheap full-batch steps), reference at 1e-9 / 1e-9. */
        public static Options defaults() {
            return new Options(1000, 1e-2, 1e-9, 1e-9);
        }

        public Options withEpochs(int e) {
            return new Options(e, lr, rtol, atol);
        }

        public Options withLr(double v) {
            return new Options(epochs, v, rtol, atol);
        }
    }

    /** The loss (mean squared g - R) before the first and after the last update, and the reference's NFE. */
    public record Result(int epochs, double initialLoss, double finalLoss, long referenceNfe, double seconds) {}

    private ResidualFit() {}

    /** new Options(epochs, lr, rtol, atol), for callers that cannot name the nested record (scripts). */
    public static Options options(int epochs, double lr, double rtol, double atol) {
        return new Options(epochs, lr, rtol, atol);
    }

    /**
     * Fits hyper's hypernet on trajectories of field from the points x0 ([B, D]) over steps steps of
     * hyper's eps from t0. field is the one hyper was built over (its parameters are read again here).
     */
    public static Result fit(HyperField hyper, NeuralField field, Tensor x0, double t0, int steps, Options o) {
        Objects.requireNonNull(hyper, "hyper");
        Objects.requireNonNull(field, "field");
        Objects.requireNonNull(x0, "x0");
        Objects.requireNonNull(o, "options");
        if (x0.rank() != 2 || x0.size(1) != hyper.dim()) {
            throw new IllegalArgumentException("x0 must be [batch, " + hyper.dim() + "], got " + java.util.Arrays.toString(x0.shape()));
        }
        long start = System.nanoTime();
        HyperSolver solver = hyper.solver();
        double eps = hyper.eps();
        int dim = hyper.dim();
        double[] grid = hyper.grid(t0, steps);
        try (NeuralField f64 = NeuralField.of(field.fn(), dim, DType.FLOAT64, 0);
             HyperField h64 = HyperField.of(solver, field, eps, DType.FLOAT64, 0);
             Tensor x = Tensor.of(DType.FLOAT64, x0.toDoubleArray(), x0.shape())) {
            for (String n : field.parameters().names()) f64.parameters().set(n, field.parameters().get(n));
            h64.setHypernetParams(hyper.hypernetParams());
            List<Tensor> z = new ArrayList<>();
            long refNfe;
            SolveOptions ref = SolveOptions.builder().method(Method.DOPRI5).rtol(o.rtol()).atol(o.atol()).build();
            try (Solution s = Odeint.odeint(f64, x, grid, ref)) {
                refNfe = s.stats().nfe();
                for (int k = 0; k <= steps; k++) z.add(s.ys().select(k));
            }
            try (Program loss = lossProgram(solver, field, eps, dim, h64);
                 Adam adam = Adam.of(h64.program().parameters(), o.lr())) {
                Tensor values = h64.program().parameters().values();
                int pg = Math.toIntExact(h64.numHypernetParams());
                double first = Double.NaN;
                double last = Double.NaN;
                for (int e = 0; e <= o.epochs(); e++) {
                    double sum = 0;
                    double[] grad = new double[pg];
                    for (int k = 0; k < steps; k++) {
                        Tensor[] out = loss.run(values, grid[k], z.get(k), z.get(k + 1));
                        try {
                            sum += out[0].get(0);
                            double[] gk = out[1].toDoubleArray();
                            for (int i = 0; i < pg; i++) grad[i] += gk[i] / steps;
                        } finally {
                            for (Tensor t : out) t.close();
                        }
                    }
                    double l = sum / steps;
                    if (e == 0) first = l;
                    last = l;
                    if (e == o.epochs()) break;   // the last pass only measures the loss after the last update
                    adam.zeroGrad();
                    h64.program().parameters().grad().nativeBuffer().copyFrom(grad, 0, h64.hypernetOffset(), pg);
                    adam.step();
                }
                hyper.setHypernetParams(h64.hypernetParams());
                return new Result(o.epochs(), first, last, refNfe, (System.nanoTime() - start) * 1e-9);
            } finally {
                for (Tensor t : z) t.close();
            }
        }
    }

    /**
     * The loss program of one step (t = t_k; arguments z(t_k), z(t_{k+1}); parameters laid out as the
     * increment's): outputs the mean of ((z + eps Phi - z_next) / eps^(p+1))^2, i.e. of (g - R)^2, and its
     * gradient by the hypernet's parameters, flat in layout order.
     */
    static Program lossProgram(HyperSolver solver, NeuralField field, double eps, int dim, HyperField layout) {
        try (Graph g = new Graph()) {
            Sym t = g.time();
            Sym z = g.arg(-1, dim);
            Sym zn = g.arg(-1, dim);
            Sym phi = solver.increment(field.fn(), eps).apply(t, z, g.params());
            Sym scaled = z.add(phi.mul(eps)).sub(zn).mul(1 / Math.pow(eps, solver.order() + 1));
            Sym l = scaled.square().mean();
            List<Sym> wrt = new ArrayList<>();
            for (Map.Entry<String, Sym> e : g.declaredParams().entrySet()) {
                if (e.getKey().startsWith(HyperSolver.HYPERNET_SCOPE + ".")) wrt.add(e.getValue());
            }
            List<Sym> grads = g.vjp(List.of(l), List.of(l.onesLike()), wrt);
            List<Sym> flat = new ArrayList<>();
            for (Sym d : grads) flat.add(d.reshape(numel(d.shape())));
            Sym all = flat.size() == 1 ? flat.get(0) : Sym.cat(0, flat);
            Program p = g.finish(DType.FLOAT64, l, all);
            // the loss reads the hypersolver's own flat buffer: the layouts must agree
            List<ParamInfo> want = layout.program().parameters().infos();
            if (!p.params().equals(want)) {
                p.close();
                throw new IllegalStateException("the loss program's parameters " + p.params() + " differ from the increment's " + want);
            }
            return p;
        }
    }

    private static long numel(long[] shape) {
        long n = 1;
        for (long d : shape) n *= d;
        return n;
    }
}
