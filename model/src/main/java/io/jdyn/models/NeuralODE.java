package io.jdyn.models;

import io.jdyn.DType;
import io.jdyn.Tensor;
import io.jdyn.TensorClosedException;
import io.jdyn.fn.Fn;
import io.jdyn.fn.Sym;
import io.jdyn.nn.Augmenter;
import io.jdyn.nn.Layer;
import io.jdyn.nn.NeuralField;
import io.jdyn.nn.Parameters;
import io.jdyn.nn.Sequential;
import io.jdyn.ode.CurvatureRequest;
import io.jdyn.ode.DifferentiableVectorField;
import io.jdyn.ode.GradOptions;
import io.jdyn.ode.GradSolution;
import io.jdyn.ode.Gradients;
import io.jdyn.ode.Method;
import io.jdyn.ode.Odeint;
import io.jdyn.ode.Sensitivity;
import io.jdyn.ode.Solution;
import io.jdyn.ode.SolveOptions;
import io.jdyn.ode.SolveStats;
import io.jdyn.ode.VectorField;
import io.jdyn.train.loss.Reduction;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * torchdyn's {@code NeuralODE}: a vector field (a {@link NeuralField}, or a {@link Sequential} or an
 * {@link Fn} compiled for a state width and dtype) with a solver, tolerances and a sensitivity.
 *
 * <pre>{@code
 * try (NeuralODE model = NeuralODE.builder(Sequential.of(new DepthCat(), new Linear(3, 64), new Tanh(),
 *         new Linear(64, 2)), 2).sensitivity("adjoint").solver("dopri5").build();
 *      Tensor x = Tensor.of(new float[256], 128, 2);
 *      Tensor y = model.forward(x);                                   // [128, 2], at s = 1
 *      Tensor traj = model.trajectory(x, linspace(0, 2, 50))) {       // [50, 128, 2]
 *     System.out.println(model);                                      // torchdyn's summary
 * }
 * }</pre>
 *
 * <p>Defaults as torchdyn's: order 1, dopri5, sensitivity autograd, rtol = atol = 1e-4, adjoint
 * tolerances 1e-4, integration interval [0, 1], float32. Fixed-step solvers step on the evaluation
 * times unless {@link Builder#dt(double)} is given.
 *
 * <p>Order 2 (torchdyn's higher-order Neural ODE): the state is [x, v] (width {@code dim}, even), the
 * net maps [x, v] (and t with a leading DepthCat) to the acceleration (width dim / 2), and the solver
 * integrates x' = v, v' = net(t, x, v). A Sequential's acceleration runs through a Java
 * {@link DifferentiableVectorField} around its native program; an {@link Fn}'s whole second-order field
 * [v, f(t, x, v)] is one native program.
 *
 * <p>Training: {@link #trace(Tensor)} / {@link #trace(Tensor, double[])} keep the tape; their
 * {@code backward(cotangent)} returns dL/dx and accumulates dL/dtheta into
 * {@code parameters().grad()}. Closing the model frees the field when the model built it.
 */
public final class NeuralODE implements Block {
    private final NeuralField field;
    private final boolean ownsField;
    private final Sequential net;
    private final Fn fn;
    private final int order;
    private final int dim;
    /** How every solve runs (a fixed-step solver without dt adds the evaluation times as its grid per call). */
    private final SolveOptions options;
    /** How every solve with a tape is differentiated. */
    private final GradOptions gradOptions;
    private volatile double[] sSpan;
    /** SNOpt: the statistics the next backward pass collects (taken by it), and the last batch traced. */
    private final AtomicReference<CurvatureRequest> curvature = new AtomicReference<>();
    private volatile long lastBatch;
    private final SecondOrderField second;
    private final AtomicLong forwardNfe = new AtomicLong();
    private final AtomicLong backwardNfe = new AtomicLong();
    /** The integral loss's running-cost column, or null. */
    private final IntegralTerm integral;
    /** Solves so far: each draws the field's noise seeds anew from it (reproducible from the builder's seed). */
    private final AtomicLong noiseDraws;

    private NeuralODE(Builder b, NeuralField field, boolean owns, IntegralTerm integral) {
        this.field = field;
        this.ownsField = owns;
        this.net = b.net != null ? b.net : b.fn != null ? null : field.net();
        this.fn = b.fn != null ? b.fn : b.net != null ? b.net : field.fn();
        this.order = b.order;
        this.integral = integral;
        this.noiseDraws = new AtomicLong(Math.floorMod(b.seed * 0x9E3779B97F4A7C15L, 1L << 20));
        this.dim = integral != null ? b.dim : field.dim();
        this.options = b.solve.build();
        this.gradOptions = b.grad.build();
        this.sSpan = b.sSpan.clone();
        // An Fn's second-order field is native as a whole (see Builder.build); a Sequential's goes through Java.
        this.second = order == 2 && b.fn == null ? new SecondOrderField(field) : null;
    }

    /** A model over an existing field (not owned: the caller closes it), with torchdyn's defaults. */
    public static NeuralODE of(NeuralField field) {
        return builder(field).build();
    }

    /** A model of net compiled for states of width dim in dtype, with torchdyn's defaults. */
    public static NeuralODE of(Sequential net, int dim, DType dtype) {
        return builder(net, dim).dtype(dtype).build();
    }

    /** A model of f compiled into a native differentiable program for states of width dim in dtype, with torchdyn's defaults. */
    public static NeuralODE of(Fn f, int dim, DType dtype) {
        return builder(f, dim).dtype(dtype).build();
    }

    public static Builder builder(NeuralField field) {
        Objects.requireNonNull(field, "field").requireVectorField();
        return new Builder(field, null, null, 0);
    }

    /** A builder for net compiled for states of width dim (the model owns the field it builds). */
    public static Builder builder(Sequential net, int dim) {
        return new Builder(null, Objects.requireNonNull(net, "net"), null, dim);
    }

    /**
     * A builder for f compiled into a native differentiable program for states of width dim (the model
     * owns the field it builds); a Sequential given as an Fn is taken as {@link #builder(Sequential, int)}.
     * With order 2, f maps the state [x, v] ([-1, dim]) to the acceleration ([-1, dim / 2]).
     */
    public static Builder builder(Fn f, int dim) {
        Objects.requireNonNull(f, "f");
        if (f instanceof Sequential s) return builder(s, dim);
        return new Builder(null, null, f, dim);
    }

    // ---------------------------------------------------------------- inference

    /** The state at the end of the integration interval (torchdyn 0.x's {@code model(x)}): shaped as x. */
    @Override
    public Tensor forward(Tensor x) {
        try (Solution s = solve(x, sSpan)) {
            if (integral == null) return s.ys().select(-1);
            try (Tensor last = s.ys().select(-1)) {
                return integral.narrow(last);
            }
        }
    }

    /**
     * torchdyn 1.0's {@code t_eval, sol = model(x, t_span)}: the evaluation times and the states at
     * them, [tSpan.length, *x.shape].
     */
    public Result forward(Tensor x, double[] tSpan) {
        try (Solution s = solve(x, tSpan)) {
            return new Result(s.ts(), integral == null ? s.ys().copy() : integral.narrow(s.ys()), s.stats());
        }
    }

    /** The states at every time of sSpan: [sSpan.length, *x.shape] (owned by the caller). */
    public Tensor trajectory(Tensor x, double[] sSpan) {
        try (Solution s = solve(x, sSpan)) {
            return integral == null ? s.ys().copy() : integral.narrow(s.ys());
        }
    }

    /** What {@link #forward(Tensor, double[])} gives: torchdyn's (t_eval, sol), with the solve's statistics. */
    public record Result(double[] tEval, Tensor trajectory, SolveStats stats) implements AutoCloseable {
        @Override
        public double[] tEval() {
            return tEval.clone();
        }

        @Override
        public void close() {
            trajectory.close();
        }
    }

    private Solution solve(Tensor x, double[] t) {
        live();
        drawNoise();
        SolveOptions o = solveOptions(t);
        Solution s;
        try (Tensor wide = widen(x)) {
            s = second == null ? Odeint.odeint(field, wide != null ? wide : x, t, o)
                    : Odeint.odeint((VectorField) second, x, t, o);
        }
        forwardNfe.addAndGet(s.stats().nfe());
        return s;
    }

    // ---------------------------------------------------------------- training

    /** The final state at the end of the integration interval, with the tape for one backward pass. */
    @Override
    public Trace trace(Tensor x) {
        return new Trace(this, gradSolve(x, sSpan), true);
    }

    /** The states at every time of tSpan, [T, *x.shape], with the tape: backward takes a [T, *x.shape] cotangent. */
    public Trace trace(Tensor x, double[] tSpan) {
        return new Trace(this, gradSolve(x, tSpan), false);
    }

    private GradSolution gradSolve(Tensor x, double[] t) {
        live();
        lastBatch = x.shape().length > 1 ? x.shape()[0] : 1;
        drawNoise();
        SolveOptions o = solveOptions(t);
        GradSolution s;
        try (Tensor wide = widen(x)) {
            s = second == null ? Odeint.odeint(field, wide != null ? wide : x, t, o, gradOptions)
                    : Odeint.odeint((DifferentiableVectorField) second, x, t, o, gradOptions);
        }
        forwardNfe.addAndGet(s.stats().nfe());
        return s;
    }

    /** x with the integral loss's zero cost column (the caller closes it); null without an integral loss. */
    private Tensor widen(Tensor x) {
        return integral == null ? null : integral.widen(x);
    }

    /** A fresh draw of the field's noise seeds, if it has any: noise is fixed within a solve, new across solves. */
    private void drawNoise() {
        if (!field.noiseSeeds().isEmpty()) field.drawNoise(noiseDraws.getAndIncrement());
    }

    /**
     * A solve with its tape. {@link #output()} is the final state (from {@link NeuralODE#trace(Tensor)})
     * or the whole trajectory (from {@link NeuralODE#trace(Tensor, double[])}); {@link #backward(Tensor)}
     * takes a cotangent shaped as the output. Owns everything it returns: close it.
     */
    public static final class Trace implements Block.Trace {
        private final NeuralODE model;
        private final GradSolution solution;
        private final boolean finalOnly;
        private final Tensor output;
        private final long[] outputShape;
        /** With an integral loss: the trajectory without the cost column (the tape's own has it). */
        private final Tensor narrowTrajectory;
        /** The noise seeds this solve ran with: its backward pass must see them again. */
        private final double[] noise;
        private boolean outputTaken;
        private Gradients gradients;

        private Trace(NeuralODE model, GradSolution solution, boolean finalOnly) {
            this.model = model;
            this.solution = solution;
            this.finalOnly = finalOnly;
            Tensor out = null;
            Tensor traj = null;
            try {
                if (model.integral == null) {
                    out = finalOnly ? solution.ys().select(-1) : null;
                } else {
                    traj = model.integral.narrow(solution.ys());
                    out = finalOnly ? traj.select(-1) : null;
                }
                this.noise = model.field.noiseSeeds().isEmpty() ? null : model.field.noiseSeedValues();
            } catch (RuntimeException | Error e) {
                if (traj != null) traj.close();
                solution.close();
                throw e;
            }
            this.output = out;
            this.narrowTrajectory = traj;
            this.outputShape = out == null ? null : out.shape();
        }

        @Override
        public Tensor output() {
            return finalOnly ? output : trajectory();
        }

        /** The states at every evaluation time, [T, *x.shape]. */
        public Tensor trajectory() {
            return narrowTrajectory != null ? narrowTrajectory : solution.ys();
        }

        /**
         * The integral loss of this solve (the sum or mean over the batch of the running cost's integral,
         * as {@link Builder#integralLoss} says); NaN when the model has none.
         */
        public double integralLoss() {
            if (model.integral == null) return Double.NaN;
            try (Tensor last = solution.ys().select(-1)) {
                return model.integral.value(last);
            }
        }

        public double[] ts() {
            return solution.ts();
        }

        /** The underlying solve (its statistics, tape size, step times). */
        public GradSolution solution() {
            return solution;
        }

        /** The gradients of the backward pass, once it ran (dL/dy0, dL/dt per output time, statistics). */
        public Gradients gradients() {
            if (gradients == null) throw new IllegalStateException("backward has not run");
            return gradients;
        }

        /**
         * The backward pass of the integral loss alone (no loss on the states): returns dL/dx and
         * accumulates dL/dtheta. For a model with an integral loss.
         */
        public Tensor backwardIntegral() {
            if (model.integral == null) throw new IllegalStateException("the model has no integral loss");
            return run(null);
        }

        @Override
        public Tensor backward(Tensor cotangent) {
            Objects.requireNonNull(cotangent, "cotangent");
            if (finalOnly) {
                if (!Arrays.equals(cotangent.shape(), outputShape)) {
                    throw new IllegalArgumentException("cotangent has shape " + Arrays.toString(cotangent.shape())
                            + " but the output has shape " + Arrays.toString(outputShape));
                }
                try (Tensor full = Tensor.embed(cotangent, solution.ts().length, solution.ts().length - 1)) {
                    return run(full);
                }
            }
            return run(cotangent);
        }

        private Tensor run(Tensor full) {
            NeuralODE m = model;
            if (noise != null && !Arrays.equals(noise, m.field.noiseSeedValues())) m.field.setNoiseSeedValues(noise);
            if (m.integral != null) {
                long nt = solution.ts().length;
                long batch = solution.ys().shape()[1];
                if (full != null && !Arrays.equals(full.shape(), new long[] {nt, batch, m.dim})) {
                    throw new IllegalArgumentException("cotangent has shape " + Arrays.toString(full.shape())
                            + " but the trajectory has shape " + Arrays.toString(new long[] {nt, batch, m.dim}));
                }
                try (Tensor wide = m.integral.cotangent(full, nt, batch, m.field.dtype())) {
                    CurvatureRequest c = m.curvature.getAndSet(null);
                    gradients = c == null ? solution.backward(wide) : solution.backward(wide, c);
                }
                m.backwardNfe.addAndGet(gradients.backwardStats().nfe());
                return m.integral.narrow(gradients.y0());
            }
            Runnable restoreFrozen = m.second != null && m.field.numParams() > 0
                    ? m.field.parameters().frozenGradSnapshot() : () -> {};
            CurvatureRequest c = m.curvature.getAndSet(null);
            if (c != null && m.second != null) {
                throw new IllegalStateException("SNOpt's statistics need the field's own program: a second-order"
                        + " NeuralODE runs a Java field in its backward pass");
            }
            gradients = c == null ? solution.backward(full) : solution.backward(full, c);
            m.backwardNfe.addAndGet(gradients.backwardStats().nfe());
            if (m.second != null && m.field.numParams() > 0) {
                // A Java field's dL/dtheta comes back in a tensor of its own: accumulate it as .grad.
                Tensor acc = m.field.parameters().grad();
                double[] g = acc.toDoubleArray();
                double[] p = gradients.params().orElseThrow().toDoubleArray();
                for (int i = 0; i < g.length; i++) g[i] += p[i];
                acc.nativeBuffer().copyFrom(g, 0, 0, g.length);
                restoreFrozen.run();
            }
            return gradients.y0();
        }

        /**
         * Hands the final state over to the caller, who closes it; closing the trace then leaves it alone
         * (so it outlives the tape without a copy: what a training loop that reads its outputs after
         * backward needs). Final-state traces only: a trajectory belongs to the tape (copy it).
         */
        public Tensor takeOutput() {
            if (!finalOnly) {
                throw new IllegalStateException("takeOutput is for final-state traces; the trajectory belongs to the tape");
            }
            outputTaken = true;
            return output;
        }

        @Override
        public void close() {
            if (output != null && !outputTaken) output.close();
            if (narrowTrajectory != null) narrowTrajectory.close();
            solution.close();
        }
    }

    // ---------------------------------------------------------------- options

    /**
     * The solve options of a solve evaluated at times t: the model's options, built once by its
     * builder; a fixed-step solver without {@link Builder#dt(double)} steps on t (its grid).
     */
    public SolveOptions solveOptions(double[] t) {
        if (Double.isNaN(options.dt()) && !options.method().isAdaptive()) return options.toBuilder().grid(t).build();
        return options;
    }

    /** How the model's solves with a tape are differentiated (built once by its builder). */
    public GradOptions gradOptions() {
        return gradOptions;
    }

    // ---------------------------------------------------------------- accessors

    public NeuralField field() {
        return field;
    }

    /**
     * The vector field's net as given (for order 2: the acceleration net, without the trailing
     * Augmenter); null for a model built from an {@link Fn} ({@link #fn()}).
     */
    public Sequential net() {
        return net;
    }

    /** The vector field's function as given: the Fn, or the Sequential (for order 2: the acceleration). */
    public Fn fn() {
        return fn;
    }

    public Parameters parameters() {
        live();
        return field.parameters();
    }

    public int order() {
        return order;
    }

    public Method solver() {
        return options.method();
    }

    public Sensitivity sensitivity() {
        return gradOptions.sensitivity();
    }

    public double rtol() {
        return options.rtol();
    }

    public double atol() {
        return options.atol();
    }

    public double rtolAdjoint() {
        return gradOptions.rtol();
    }

    public double atolAdjoint() {
        return gradOptions.atol();
    }

    /** The integration interval of {@link #forward(Tensor)} and {@link #trace(Tensor)}. */
    public double[] sSpan() {
        return sSpan.clone();
    }

    /**
     * Sets the integration interval (torchdyn's settable {@code t_span}; SNOpt's
     * IntegrationTimeOptimizer moves its end): at least two strictly monotone, finite times.
     */
    public void setSSpan(double... span) {
        if (span == null || span.length < 2) throw new IllegalArgumentException("sSpan needs at least two times");
        double dir = Math.signum(span[1] - span[0]);
        for (int i = 0; i < span.length; i++) {
            if (!Double.isFinite(span[i])) throw new IllegalArgumentException("sSpan[" + i + "] is " + span[i]);
            if (i > 0 && (dir == 0 || Math.signum(span[i] - span[i - 1]) != dir)) {
                throw new IllegalArgumentException("sSpan must be strictly monotone, got " + Arrays.toString(span));
            }
        }
        this.sSpan = span.clone();
    }

    /**
     * SNOpt's hook: the next backward pass of a trace of this model (adjoint sensitivities) fills
     * request along its backsolve. One request per backward pass.
     */
    public void collectCurvature(CurvatureRequest request) {
        curvature.set(request);
    }

    /** The batch size of the last traced input (SNOpt scales its eigenvalue estimate by it). */
    public long lastBatchSize() {
        return lastBatch;
    }

    /** Vector field evaluations so far, forward and backward (torchdyn's {@code model.nfe}). */
    public long nfe() {
        return forwardNfe.get() + backwardNfe.get();
    }

    /** Evaluations of the field in forward solves since the last reset. */
    public long forwardNfe() {
        return forwardNfe.get();
    }

    /** Evaluations of the field or its VJP in backward passes since the last reset. */
    public long backwardNfe() {
        return backwardNfe.get();
    }

    /** Sets the counters to 0 (torchdyn's {@code model.nfe = 0}). */
    public void resetNfe() {
        forwardNfe.set(0);
        backwardNfe.set(0);
    }

    @Override
    public int inFeatures() {
        return dim;
    }

    @Override
    public int outFeatures() {
        return dim;
    }

    @Override
    public DType dtype() {
        return field.dtype();
    }

    @Override
    public long numParams() {
        return field.numParams();
    }

    @Override
    public double param(long i) {
        return parameters().values().get(i);
    }

    @Override
    public void setParam(long i, double value) {
        parameters().values().set(value, i);
    }

    @Override
    public double[] grad() {
        return field.numParams() == 0 ? new double[0] : parameters().grad().toDoubleArray();
    }

    @Override
    public void zeroGrad() {
        if (field.numParams() > 0) parameters().zeroGrad();
    }

    @Override
    public void close() {
        if (ownsField) field.close();
    }

    private void live() {
        if (field.isClosed()) throw new TensorClosedException("the NeuralODE's field is closed");
    }

    /** torchdyn's summary (the paper's Figure 2), then the vector field's layers, PyTorch style. */
    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("Neural ODE:\n");
        sb.append("\t- order: ").append(order).append('\n');
        sb.append("\t- solver: ").append(solver().torchName()).append('\n');
        sb.append("\t- integration interval: ").append(num(sSpan[0])).append(" to ").append(num(sSpan[sSpan.length - 1]))
                .append('\n');
        sb.append("\t- num_checkpoints: ").append(sSpan.length).append('\n');
        sb.append("\t- tolerances: relative ").append(num(rtol())).append(" absolute ").append(num(atol())).append('\n');
        sb.append("\t- sensitivity: ").append(sensitivity().torchName());
        if (sensitivity() != Sensitivity.AUTOGRAD) {
            sb.append(" (adjoint tolerances: relative ").append(num(rtolAdjoint())).append(" absolute ")
                    .append(num(atolAdjoint())).append(gradOptions.seminorm() ? ", seminorm" : "").append(')');
        }
        sb.append('\n');
        sb.append("\t- num_parameters: ").append(field.numParams()).append('\n');
        sb.append("\t- NFE: ").append(nfe()).append(" (forward ").append(forwardNfe.get()).append(", backward ")
                .append(backwardNfe.get()).append(")\n");
        sb.append("\t- dtype: ").append(field.dtype().name().toLowerCase(Locale.ROOT)).append("\n\n");
        sb.append("Integral loss: None\n\n");
        sb.append("Vector field:\n");
        String layers = net != null ? net.toString() : field.describe();
        if (order == 2) {
            sb.append("  (acceleration of the state [x, v]; x' = v, v' = net(x, v))\n");
        }
        for (String line : layers.split("\n")) sb.append("  ").append(line).append('\n');
        return sb.toString();
    }

    /** As Python prints a float: 0.0001, 1e-10, 1.0. */
    static String num(double v) {
        if (!Double.isFinite(v) || v == 0) return v == 0 ? "0.0" : Double.toString(v);
        java.math.BigDecimal d = new java.math.BigDecimal(Double.toString(v));
        double a = Math.abs(v);
        if (a >= 1e-4 && a < 1e16) {
            String p = d.stripTrailingZeros().toPlainString();
            return p.contains(".") ? p : p + ".0";
        }
        String m = d.unscaledValue().abs().toString().replaceAll("0+$", "");
        if (m.isEmpty()) m = "0";
        int exp = d.precision() - d.scale() - 1;
        String mant = m.length() == 1 ? m : m.charAt(0) + "." + m.substring(1);
        return (v < 0 ? "-" : "") + mant + "e" + (exp < 0 ? "-" + String.format("%02d", -exp) : "+" + String.format("%02d", exp));
    }

    // ---------------------------------------------------------------- builder

    public static final class Builder {
        private final NeuralField field;
        private final Sequential net;
        private final Fn fn;
        private final int dim;
        private DType dtype = DType.FLOAT32;
        private long seed = ThreadLocalRandom.current().nextLong();
        private int order = 1;
        // The model's one description of its solves, with torchdyn's defaults: dopri5, rtol = atol = 1e-4, at
        // most 10,000 steps; autograd, adjoint tolerances 1e-4, the seminorm on.
        private final SolveOptions.Builder solve = SolveOptions.builder().method(Method.DOPRI5).rtol(1e-4).atol(1e-4)
                .maxSteps(10_000);
        private final GradOptions.Builder grad = GradOptions.builder().sensitivity(Sensitivity.AUTOGRAD).seminorm(true)
                .rtol(1e-4).atol(1e-4);
        private double[] sSpan = {0, 1};
        private IntegralCost integralCost;
        private Reduction integralReduction = Reduction.SUM;

        private Builder(NeuralField field, Sequential net, Fn fn, int dim) {
            this.field = field;
            this.net = net;
            this.fn = fn;
            this.dim = dim;
        }

        /** float32 (default, as torchdyn) or float64; for a model built from a Sequential or an Fn. */
        public Builder dtype(DType d) {
            dtype = Objects.requireNonNull(d, "dtype");
            return this;
        }

        /** The seed of PyTorch's default initialisation; for a model built from a Sequential or an Fn. */
        public Builder seed(long s) {
            seed = s;
            return this;
        }

        /** 1 (default) or 2 (second-order dynamics over [x, v]; only for a model built from a Sequential or an Fn). */
        public Builder order(int o) {
            if (o != 1 && o != 2) throw new IllegalArgumentException("order must be 1 or 2, got " + o);
            order = o;
            return this;
        }

        /** By torchdyn's name ("dopri5", "tsit5", "rk4", "euler", ...). */
        public Builder solver(String name) {
            solve.method(Method.of(name));
            return this;
        }

        public Builder solver(Method m) {
            solve.method(Objects.requireNonNull(m, "solver"));
            return this;
        }

        /** "autograd" (default), "adjoint", "interpolated_adjoint". */
        public Builder sensitivity(String name) {
            grad.sensitivity(Sensitivity.of(name));
            return this;
        }

        public Builder sensitivity(Sensitivity s) {
            grad.sensitivity(Objects.requireNonNull(s, "sensitivity"));
            return this;
        }

        public Builder rtol(double v) {
            solve.rtol(positive(v, "rtol"));
            return this;
        }

        public Builder atol(double v) {
            solve.atol(positive(v, "atol"));
            return this;
        }

        /** The backward solve's relative tolerance (adjoint modes). */
        public Builder rtolAdjoint(double v) {
            grad.rtol(positive(v, "rtolAdjoint"));
            return this;
        }

        /** The backward solve's absolute tolerance (adjoint modes). */
        public Builder atolAdjoint(double v) {
            grad.atol(positive(v, "atolAdjoint"));
            return this;
        }

        /** The adjoint's seminorm (default on). */
        public Builder seminorm(boolean on) {
            grad.seminorm(on);
            return this;
        }

        /**
         * Every sample steps on its own (adaptive solvers; fixed steps are shared anyway): its own step size,
         * error norm and step count, as if solved alone, in the same native call; the gradients of every
         * sensitivity are those of the per-sample solves, summed over the batch for the parameters. The
         * field's samples must not interact (a program reducing over the batch is refused). torchode's
         * per-sample stepping; torchdyn has no name for it. Default off.
         */
        public Builder perSample(boolean on) {
            solve.perSample(on);
            return this;
        }

        /** The integration interval of forward(x) and trace(x) (torchdyn 0.x's s_span); default [0, 1]. */
        public Builder sSpan(double... span) {
            Objects.requireNonNull(span, "sSpan");
            if (span.length < 2) throw new IllegalArgumentException("sSpan needs at least two times");
            sSpan = span.clone();
            return this;
        }

        /** Fixed steps of this size (any solver); default: adaptive, or the evaluation times for fixed-step solvers. */
        public Builder dt(double h) {
            solve.dt(positive(h, "dt"));
            return this;
        }

        /** The most steps per solve (default 10,000). */
        public Builder maxSteps(long n) {
            if (n < 1) throw new IllegalArgumentException("maxSteps must be >= 1, got " + n);
            solve.maxSteps(n);
            return this;
        }

        /**
         * torchdyn's {@code integral_loss}: the integral of cost over the solve joins the loss of every
         * backward pass ({@link Trace#backward}, or {@link Trace#backwardIntegral} for it alone), summed over
         * the batch. The cost is compiled into the field's program (see {@link IntegralCost}); the model's
         * inputs and outputs keep the state's width. Not for a model over an existing NeuralField or of order 2.
         */
        public Builder integralLoss(IntegralCost cost) {
            return integralLoss(cost, Reduction.SUM);
        }

        /** As {@link #integralLoss(IntegralCost)}, the per-sample integrals combined by reduction (a cost for the whole batch is taken as is). */
        public Builder integralLoss(IntegralCost cost, Reduction reduction) {
            integralCost = Objects.requireNonNull(cost, "cost");
            integralReduction = Objects.requireNonNull(reduction, "reduction");
            return this;
        }

        public NeuralODE build() {
            if (integralCost != null) return buildWithIntegral();
            if (field != null) {
                if (order != 1) {
                    throw new IllegalArgumentException("order 2 needs the acceleration net as a Sequential"
                            + " (NeuralODE.builder(net, dim).order(2)): a NeuralField must return as many values as"
                            + " the state has, the acceleration has half as many");
                }
                return new NeuralODE(this, field, false, null);
            }
            if (order == 1) {
                return new NeuralODE(this, fn != null ? NeuralField.of(fn, dim, dtype, seed) : NeuralField.of(net, dim,
                        dtype, seed), true, null);
            }
            if (dim < 2 || dim % 2 != 0) {
                throw new IllegalArgumentException("order 2: the state [x, v] must have an even width, got " + dim);
            }
            int half = dim / 2;
            if (fn != null) return new NeuralODE(this, NeuralField.of(secondOrder(fn, dim), dim, dtype, seed), true, null);
            int out = net.outFeatures(dim);
            if (out != half) {
                throw new IllegalArgumentException("order 2: the net must map the state [x, v] (width " + dim
                        + ") to the acceleration (width " + half + "), but it gives width " + out + ": " + net);
            }
            List<Layer> layers = new ArrayList<>(net.layers());
            layers.add(new Augmenter(half));
            return new NeuralODE(this, NeuralField.of(Sequential.of(layers), dim, dtype, seed), true, null);
        }

        private NeuralODE buildWithIntegral() {
            if (field != null) {
                throw new IllegalArgumentException("an integral loss is compiled into the field's program: build the model"
                        + " from the Fn or Sequential (NeuralODE.builder(f, dim)), not from a NeuralField");
            }
            if (order != 1) throw new IllegalArgumentException("an integral loss needs order 1, got order " + order);
            IntegralTerm term = new IntegralTerm(integralCost, integralReduction, dim);
            Fn f = fn != null ? fn : net;
            NeuralField wide = NeuralField.of(term.augment(f), dim + 1, dtype, seed);
            try {
                solve.normMask(term.normMask());
                return new NeuralODE(this, wide, true, term);
            } catch (RuntimeException | Error e) {
                wide.close();
                throw e;
            }
        }

        /** [x, v] -> [v, f(t, x, v)]: the whole second-order field as one program. */
        private static Fn secondOrder(Fn f, int dim) {
            int half = dim / 2;
            return new Fn() {
                @Override
                public Sym apply(Sym t, Sym z, io.jdyn.fn.Params p) {
                    Sym a = f.apply(t, z, p);
                    long[] want = {-1, half};
                    if (a == null || !Arrays.equals(a.shape(), want)) {
                        throw new IllegalArgumentException("order 2: the Fn must map the state [x, v] [-1, " + dim
                                + "] to the acceleration " + Arrays.toString(want) + ", but it gives "
                                + (a == null ? "null" : Arrays.toString(a.shape()))
                                + (f.getClass().isHidden() ? "" : ": " + f));
                    }
                    return Sym.cat(-1, z.slice(-1, half, dim), a);
                }

                @Override
                public String toString() {
                    return "second order of " + (f.getClass().isHidden() ? "lambda" : f);
                }
            };
        }

        private static double positive(double v, String name) {
            if (!(v > 0) || !Double.isFinite(v)) throw new IllegalArgumentException(name + " must be finite and > 0, got " + v);
            return v;
        }
    }
}
