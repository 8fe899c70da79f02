package io.jdyn.spark;

import io.jdyn.DType;
import io.jdyn.Tensor;
import io.jdyn.nn.NeuralField;
import io.jdyn.ode.Odeint;
import io.jdyn.ode.Solution;
import io.jdyn.ode.SolveOptions;
import java.io.Serializable;
import java.util.Objects;
import java.util.UUID;

/**
 * The vector field of an ensemble and how to solve it, as something Spark can ship: a shipped
 * NeuralODE ({@link ModelSpec}: its field, parameters and solver settings) or a {@link SerializableFn}
 * compiled natively on each executor with a {@link SolveSpec}. Executors compile it once per JVM under
 * a fresh id. A parameterised family (oscillators with their own frequency, ...) is a field over the
 * state extended by the parameters, whose derivatives are 0: each item then carries its parameters in
 * its initial state.
 */
public final class FieldSpec implements Serializable {
    private static final long serialVersionUID = 1L;

    private final String id = UUID.randomUUID().toString();
    private final ModelSpec model;
    private final SerializableFn fn;
    private final int dim;
    private final DType dtype;
    private final long seed;
    private final double[] params;
    private final SolveSpec solve;

    private FieldSpec(ModelSpec model, SerializableFn fn, int dim, DType dtype, long seed, double[] params, SolveSpec solve) {
        this.model = model;
        this.fn = fn;
        this.dim = dim;
        this.dtype = dtype;
        this.seed = seed;
        this.params = params;
        this.solve = solve;
    }

    /** The field of a shipped NeuralODE, solved with its own solver, tolerances and dt. */
    public static FieldSpec of(ModelSpec model) {
        Objects.requireNonNull(model, "model");
        return new FieldSpec(model, null, model.dim(), model.dtype(), 0, null, null);
    }

    /** fn compiled for states of width dim in dtype (parameters, if it declares any, from seed), solved as solve says. */
    public static FieldSpec of(SerializableFn fn, int dim, DType dtype, long seed, SolveSpec solve) {
        Objects.requireNonNull(fn, "fn");
        Objects.requireNonNull(dtype, "dtype");
        Objects.requireNonNull(solve, "solve");
        if (dim < 1) throw new IllegalArgumentException("dim must be >= 1, got " + dim);
        return new FieldSpec(null, fn, dim, dtype, seed, null, solve);
    }

    /** The same Fn field with these parameter values (the flat layout of its Parameters). */
    public FieldSpec withParams(double[] values) {
        if (fn == null) throw new IllegalStateException("a shipped model's parameters come from its ModelSpec");
        Objects.requireNonNull(values, "values");
        for (int i = 0; i < values.length; i++) {
            if (!Double.isFinite(values[i])) throw new IllegalArgumentException("parameter " + i + " is " + values[i]);
        }
        return new FieldSpec(null, fn, dim, dtype, seed, values.clone(), solve);
    }

    public String id() {
        return id;
    }

    public int dim() {
        return dim;
    }

    public DType dtype() {
        return dtype;
    }

    /** The field compiled in this JVM, with its solve settings (the caller closes it). */
    public Compiled build() {
        if (model != null) {
            ModelSpec.Built b = model.build();
            return new Compiled(b.field(), b, t -> b.model().solveOptions(t));
        }
        NeuralField f = NeuralField.of(fn, dim, dtype, seed);
        try {
            if (params != null) {
                if (params.length != f.numParams()) {
                    throw new IllegalArgumentException(params.length + " parameter values for a field with " + f.numParams());
                }
                f.parameters().values().nativeBuffer().copyFrom(params, 0, 0, params.length);
            }
            SolveSpec s = solve;
            return new Compiled(f, f, s::options);
        } catch (RuntimeException | Error e) {
            f.close();
            throw e;
        }
    }

    /** A compiled field and its solve settings: what a task solves its items with. */
    public static final class Compiled implements AutoCloseable {
        private final NeuralField field;
        private final AutoCloseable owner;
        private final java.util.function.Function<double[], SolveOptions> options;

        private Compiled(NeuralField field, AutoCloseable owner, java.util.function.Function<double[], SolveOptions> options) {
            this.field = field;
            this.owner = owner;
            this.options = options;
        }

        public NeuralField field() {
            return field;
        }

        /** The options of a solve evaluated at t. */
        public SolveOptions options(double[] t) {
            return options.apply(t);
        }

        /** One native batch solve of y0 [n, dim] evaluated at t (the caller closes the solution). */
        public Solution solve(Tensor y0, double[] t) {
            return Odeint.odeint(field, y0, t, options(t));
        }

        @Override
        public void close() {
            try {
                owner.close();
            } catch (Exception e) {
                throw new IllegalStateException("could not close the compiled field", e);
            }
        }
    }
}
