package io.jdyn.numerics;

import io.jdyn.DType;
import io.jdyn.Tensor;
import io.jdyn.fn.ParamInfo;
import io.jdyn.nn.NeuralField;
import io.jdyn.nn.Parameters;
import io.jdyn.ode.Method;
import io.jdyn.ode.Odeint;
import io.jdyn.ode.Solution;
import io.jdyn.ode.SolveOptions;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A hypersolver bound to a vector field and a step size eps: the increment Phi(t, z) = psi(t, z) + eps^p
 * g(t, [eps, z, f(t, z)]) ({@link HyperSolver#increment}) compiled into one native program, solved by the
 * engine's explicit Euler on the grid t0 + k eps. A whole solve is one native call (no return to Java per
 * step), and the program is an ordinary {@link NeuralField}, so gradients through it work as for any field.
 *
 * <p>Parameters: the field's, copied by name when built ({@link #syncField} copies them again), frozen
 * (optimizers leave them), then the hypernet's ({@link HyperSolver#HYPERNET_SCOPE}.*), initialised from
 * the seed as PyTorch initialises its layers. {@link #nfe()} counts evaluations of the vector field as
 * torchdyn does for a fixed-step solver: stages x steps (the hypernet's evaluations are not counted).
 */
public final class HyperField implements AutoCloseable {
    /** How far (in units of eps) a requested time may be from the grid t0 + k eps. */
    private static final double GRID_TOLERANCE = 1e-7;

    private final HyperSolver solver;
    private final double eps;
    private final int dim;
    private final NeuralField program;
    private final List<String> fieldNames;
    private final List<String> hypernetNames;
    private final long hypernetOffset;
    private final long hypernetCount;
    private final AtomicLong nfe = new AtomicLong();

    private HyperField(HyperSolver solver, NeuralField field, double eps, DType dtype, long seed) {
        this.solver = solver;
        this.eps = eps;
        this.dim = field.dim();
        this.program = NeuralField.of(solver.increment(field.fn(), eps), dim, dtype, seed);
        try {
            Parameters p = program.parameters();
            List<String> fn = new ArrayList<>();
            List<String> hn = new ArrayList<>();
            long off = -1;
            long count = 0;
            List<ParamInfo> infos = p.infos();
            for (int i = 0; i < infos.size(); i++) {
                ParamInfo info = infos.get(i);
                if (info.name().startsWith(HyperSolver.HYPERNET_SCOPE + ".")) {
                    if (off < 0) off = info.offset();
                    hn.add(info.name());
                    count += info.count();
                } else {
                    if (off >= 0) throw new IllegalStateException("the field's parameter " + info.name() + " follows the hypernet's");
                    fn.add(info.name());
                    p.freeze(i);
                }
            }
            this.fieldNames = List.copyOf(fn);
            this.hypernetNames = List.copyOf(hn);
            this.hypernetOffset = Math.max(off, 0);
            this.hypernetCount = count;
            syncField(field);
        } catch (RuntimeException | Error e) {
            program.close();
            throw e;
        }
    }

    /** The hypersolver over field with steps of eps, in the field's dtype, the hypernet initialised from seed 0. */
    public static HyperField of(HyperSolver solver, NeuralField field, double eps) {
        Objects.requireNonNull(field, "field");
        return of(solver, field, eps, field.dtype(), 0);
    }

    /**
     * The hypersolver over field (a vector field: a Sequential's or an Fn's) with steps of eps, compiled in
     * dtype; the hypernet's parameters initialised reproducibly from seed.
     */
    public static HyperField of(HyperSolver solver, NeuralField field, double eps, DType dtype, long seed) {
        Objects.requireNonNull(solver, "solver");
        Objects.requireNonNull(field, "field");
        Objects.requireNonNull(dtype, "dtype");
        field.requireVectorField();
        HyperSolver.checkEps(eps);
        return new HyperField(solver, field, eps, dtype, seed);
    }

    /** Copies field's parameter values (by name) into the program: after the field was trained further. */
    public void syncField(NeuralField field) {
        Parameters from = field.parameters();
        Parameters to = program.parameters();
        if (!from.names().equals(fieldNames)) {
            throw new IllegalArgumentException("the field's parameters " + from.names() + " are not the ones this "
                    + solver.torchName() + " was built over: " + fieldNames);
        }
        for (String n : fieldNames) to.set(n, from.get(n));
    }

    public HyperSolver solver() {
        return solver;
    }

    /** The step size the program is built for. */
    public double eps() {
        return eps;
    }

    public int dim() {
        return dim;
    }

    public DType dtype() {
        return program.dtype();
    }

    /** The compiled increment Phi: a vector field whose explicit Euler step of size eps is one hypersolver step. */
    public NeuralField program() {
        return program;
    }

    /** The hypernet's parameter names in the program ("hypernet.weight", ...), in layout order. */
    public List<String> hypernetNames() {
        return hypernetNames;
    }

    /** How many parameters the hypernet adds. */
    public long numHypernetParams() {
        return hypernetCount;
    }

    /** Where the hypernet's parameters start in the program's flat parameter buffer (they are contiguous, last). */
    public long hypernetOffset() {
        return hypernetOffset;
    }

    /** The hypernet's parameters, flat in layout order. */
    public double[] hypernetParams() {
        double[] out = new double[Math.toIntExact(hypernetCount)];
        int at = 0;
        for (String n : hypernetNames) {
            double[] v = program.parameters().get(n);
            System.arraycopy(v, 0, out, at, v.length);
            at += v.length;
        }
        return out;
    }

    /** Sets the hypernet's parameters from a flat array in layout order (as {@link #hypernetParams()} gives). */
    public void setHypernetParams(double[] values) {
        Objects.requireNonNull(values, "values");
        if (values.length != hypernetCount) {
            throw new IllegalArgumentException("the hypernet has " + hypernetCount + " parameters, " + values.length + " given");
        }
        int at = 0;
        for (String n : hypernetNames) {
            int c = Math.toIntExact(program.parameters().info(n).count());
            double[] v = new double[c];
            System.arraycopy(values, at, v, 0, c);
            program.parameters().set(n, v);
            at += c;
        }
    }

    /** The grid t0, t0 + eps, ..., t0 + steps eps. */
    public double[] grid(double t0, int steps) {
        if (steps < 1) throw new IllegalArgumentException("steps must be >= 1, got " + steps);
        double[] g = new double[steps + 1];
        for (int k = 0; k <= steps; k++) g[k] = t0 + k * eps;
        return g;
    }

    /**
     * The states at t0 + k eps for k = 0..steps: [steps + 1, *x.shape], owned by the caller. One native
     * solve: the engine's explicit Euler over the increment's program.
     */
    public Tensor trajectory(Tensor x, double t0, int steps) {
        Objects.requireNonNull(x, "x");
        double[] g = grid(t0, steps);
        SolveOptions o = SolveOptions.builder().method(Method.EULER).grid(g).maxSteps(steps + 1L).build();
        try (Solution s = Odeint.odeint(program, x, g, o)) {
            nfe.addAndGet(s.stats().nfe() * solver.stages());
            return s.ys().copy();
        }
    }

    /**
     * The states at the times of tSpan ([tSpan.length, *x.shape]), which must be increasing and lie on
     * the grid tSpan[0] + k eps: the hypersolver steps with its own eps, whatever the spacing of tSpan.
     */
    public Tensor trajectory(Tensor x, double[] tSpan) {
        Objects.requireNonNull(tSpan, "tSpan");
        if (tSpan.length < 2) throw new IllegalArgumentException("tSpan needs at least two times");
        int[] at = new int[tSpan.length];
        for (int i = 1; i < tSpan.length; i++) {
            double k = (tSpan[i] - tSpan[0]) / eps;
            long r = Math.round(k);
            if (Math.abs(k - r) > GRID_TOLERANCE * Math.max(1, Math.abs(k)) || r <= at[i - 1]) {
                throw new IllegalArgumentException(solver.torchName() + " steps of eps " + eps + " from " + tSpan[0]
                        + ": tSpan[" + i + "] = " + tSpan[i] + " is not on that grid after tSpan[" + (i - 1) + "] (its step"
                        + " is fixed when the hypernet is trained; take times t0 + k eps, or build it for another eps)");
            }
            at[i] = Math.toIntExact(r);
        }
        int steps = at[tSpan.length - 1];
        try (Tensor all = trajectory(x, tSpan[0], steps)) {
            if (steps + 1 == tSpan.length) return all.copy();
            long per = x.numel();
            double[] src = all.toDoubleArray();
            double[] out = new double[Math.toIntExact(per * tSpan.length)];
            for (int i = 0; i < at.length; i++) System.arraycopy(src, Math.toIntExact(at[i] * per), out, Math.toIntExact(i * per), Math.toIntExact(per));
            long[] shape = new long[x.rank() + 1];
            shape[0] = tSpan.length;
            System.arraycopy(x.shape(), 0, shape, 1, x.rank());
            return Tensor.of(x.dtype(), out, shape);
        }
    }

    /** The state at t1 from x at t0 ((t1 - t0) / eps steps, a whole number of them). */
    public Tensor forward(Tensor x, double t0, double t1) {
        try (Tensor tr = trajectory(x, new double[] {t0, t1})) {
            return tr.select(1);
        }
    }

    /** Vector-field evaluations so far, as torchdyn counts them: stages x steps per solve. */
    public long nfe() {
        return nfe.get();
    }

    public void resetNfe() {
        nfe.set(0);
    }

    @Override
    public void close() {
        program.close();
    }

    @Override
    public String toString() {
        return solver.torchName() + "(eps " + eps + ", " + solver.stages() + " evaluation" + (solver.stages() == 1 ? "" : "s")
                + " a step, " + hypernetCount + " hypernet parameters, " + dtype() + ")";
    }
}
