package io.jdyn.nn;

import io.jdyn.DType;
import io.jdyn.Tensor;
import io.jdyn.TensorClosedException;
import io.jdyn.fn.Fn;
import io.jdyn.fn.Graph;
import io.jdyn.fn.ParamInfo;
import io.jdyn.fn.Program;
import io.jdyn.fn.Sym;
import io.jdyn.ode.BatchView;
import io.jdyn.ode.VectorField;
import io.jdyn.spi.Backends;
import io.jdyn.spi.LayerSpec;
import io.jdyn.spi.NativeBuffer;
import io.jdyn.spi.ProgramHandle;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A {@link Sequential} compiled for a state width and dtype into a native layer program, or an
 * {@link Fn} compiled into a native differentiable program ({@link #of(Fn, int, DType, long)}): the
 * vector field f(t, z; theta) of a Neural ODE (torchdyn's vector field around a module), with its
 * {@link Parameters}. Solves of it run entirely in native code, with no upcall per evaluation:
 * {@code Odeint.odeint(field, y0, t, options)} for inference, and
 * {@code Odeint.odeint(field, y0, t, options, gradOptions)} for a solve with gradients.
 *
 * <p>{@link #layers(Sequential, int, DType, long)} compiles a plain layer stack instead, whose output
 * width may differ from its input width (an encoder or a decoder): its {@link #forward}, {@link #vjp}
 * and {@link #jvp} map [batch, dimIn] to [batch, dimOut] natively, but it is no vector field, and
 * solvers refuse it ({@link #isVectorField()} false).
 *
 * <p>Owns native memory (the program and the parameters): close it. Solves may run on several
 * threads at once; changing the parameters while a solve runs is a data race.
 */
public final class NeuralField implements VectorField, AutoCloseable {
    private final Sequential net;
    private final Fn fn;
    private final int dim;
    private final int dimOut;
    private final DType dtype;
    private final ProgramHandle program;
    private final Parameters parameters;
    /** The program's noise seeds (io.jdyn.fn.Graph#noiseSeed), redrawn before every solve; none for a Sequential. */
    private final List<ParamInfo> noiseSeeds;

    private NeuralField(Sequential net, int dim, DType dtype, long seed, boolean vectorField) {
        this.net = net;
        this.fn = net;
        this.dim = dim;
        this.dtype = dtype;
        int out = net.outFeatures(dim);
        this.dimOut = out;
        if (vectorField && out != dim) {
            throw new IllegalArgumentException("the network maps width " + dim + " to " + out
                    + ", but a vector field must return as many values as the state has (" + dim + "): " + net);
        }
        List<LayerSpec> specs = new ArrayList<>(net.size());
        for (Layer l : net.layers()) specs.add(Widths.spec(l));
        this.program = Backends.get().createProgram(specs, dtype, dim);
        try {
            if (program.dimIn() != dim || program.dimOut() != out) {
                throw new IllegalStateException("the native program maps width " + program.dimIn() + " to "
                        + program.dimOut() + ", expected " + dim + " to " + out + ": " + net);
            }
            this.parameters = new Parameters(program, net);
            this.noiseSeeds = List.of();
            if (parameters.numParams() > 0) parameters.init(seed);
        } catch (RuntimeException | Error e) {
            program.close();
            throw e;
        }
    }

    /** Takes ownership of program, an Fn's vector field over [-1, dim]. */
    private NeuralField(Fn fn, int dim, DType dtype, long seed, Program program) {
        this.net = null;
        this.fn = fn;
        this.dim = dim;
        this.dimOut = dim;
        this.dtype = dtype;
        this.program = program.handle();
        try {
            this.parameters = new Parameters(this.program, program.params());
            this.noiseSeeds = program.noiseSeeds();
            if (parameters.numParams() > 0) parameters.init(seed);
        } catch (RuntimeException | Error e) {
            program.close();
            throw e;
        }
    }

    /** Compiles net for states of width dim, parameters initialised as PyTorch does, from a random seed. */
    public static NeuralField of(Sequential net, int dim, DType dtype) {
        return of(net, dim, dtype, ThreadLocalRandom.current().nextLong());
    }

    /** Compiles net for states of width dim, parameters initialised as PyTorch does, reproducibly from seed. */
    public static NeuralField of(Sequential net, int dim, DType dtype, long seed) {
        Objects.requireNonNull(net, "net");
        Objects.requireNonNull(dtype, "dtype");
        return new NeuralField(net, dim, dtype, seed, true);
    }

    /** Compiles f for states of width dim, parameters initialised by their {@link io.jdyn.fn.Init}s from a random seed. */
    public static NeuralField of(Fn f, int dim, DType dtype) {
        return of(f, dim, dtype, ThreadLocalRandom.current().nextLong());
    }

    /**
     * Compiles f into a native differentiable program for states of width dim: t = the time, z = the
     * state [-1, dim], f.apply(t, z, params) must have shape [-1, dim]. Parameters are initialised by
     * their {@link io.jdyn.fn.Init}s, reproducibly from seed (in declaration order from one stream, so a
     * Linear-like declaration draws what the layer program's Linear draws). Every solver and
     * sensitivity runs it natively, without an upcall per evaluation. A {@link Sequential} given as an
     * Fn is compiled as {@link #of(Sequential, int, DType, long)} does.
     */
    public static NeuralField of(Fn f, int dim, DType dtype, long seed) {
        Objects.requireNonNull(f, "f");
        Objects.requireNonNull(dtype, "dtype");
        if (f instanceof Sequential s) return of(s, dim, dtype, seed);
        Widths.positive(dim, "dim");
        try (Graph g = new Graph()) {
            Sym t = g.time();
            Sym z = g.arg(-1, dim);
            Sym out = f.apply(t, z, g.params());
            if (out == null) throw new NullPointerException("the Fn returned null");
            if (out.graph() != g) {
                throw new IllegalArgumentException("the Fn returned a Sym of another graph (" + out.graph()
                        + "): build the result from t, x and p");
            }
            long[] want = {-1, dim};
            if (!Arrays.equals(out.shape(), want)) {
                throw new IllegalArgumentException("the Fn maps the state " + Arrays.toString(want) + " to shape "
                        + Arrays.toString(out.shape()) + ", but a vector field must return " + Arrays.toString(want)
                        + (f.getClass().isHidden() ? "" : ": " + f));
            }
            Program program = g.finish(dtype, out);
            return new NeuralField(f, dim, dtype, seed, program);
        }
    }

    /**
     * Compiles net as a plain layer stack for inputs of width dimIn, whatever width it returns
     * ({@link #dimOut()}), parameters initialised as PyTorch does, reproducibly from seed. The result
     * runs forward, vjp and jvp natively ([batch, dimIn] to [batch, dimOut]) but cannot be solved when
     * the widths differ.
     */
    public static NeuralField layers(Sequential net, int dimIn, DType dtype, long seed) {
        Objects.requireNonNull(net, "net");
        Objects.requireNonNull(dtype, "dtype");
        return new NeuralField(net, dimIn, dtype, seed, false);
    }

    /** As {@link #layers(Sequential, int, DType, long)}, from a random seed. */
    public static NeuralField layers(Sequential net, int dimIn, DType dtype) {
        return layers(net, dimIn, dtype, ThreadLocalRandom.current().nextLong());
    }

    /** The parameters declared as noise seeds ({@link io.jdyn.fn.Params#noiseSeed}); empty when there are none. */
    public List<ParamInfo> noiseSeeds() {
        return noiseSeeds;
    }

    /**
     * Sets every noise seed for draw number {@code draw} (a model counts its solves): distinct values for
     * distinct (seed, draw) pairs, integers below 2^24 so that a float32 parameter holds them exactly.
     */
    public void drawNoise(long draw) {
        live();
        int n = noiseSeeds.size();
        for (int i = 0; i < n; i++) {
            long v = Math.floorMod(draw * n + i, 1L << 24);
            parameters.set(noiseSeeds.get(i).name(), new double[] {v});
        }
    }

    /** The noise seeds' current values (what a tape must see again in its backward pass). */
    public double[] noiseSeedValues() {
        double[] v = new double[noiseSeeds.size()];
        for (int i = 0; i < v.length; i++) v[i] = parameters.get(noiseSeeds.get(i).name())[0];
        return v;
    }

    /** Puts the noise seeds back to values from {@link #noiseSeedValues()}. */
    public void setNoiseSeedValues(double[] values) {
        live();
        if (values.length != noiseSeeds.size()) {
            throw new IllegalArgumentException(values.length + " noise seed values for " + noiseSeeds.size() + " seeds");
        }
        for (int i = 0; i < values.length; i++) parameters.set(noiseSeeds.get(i).name(), new double[] {values[i]});
    }

    /** The Sequential this field was compiled from; null for a field built from another {@link Fn}. */
    public Sequential net() {
        return net;
    }

    /** The function this field computes: its Sequential, or the {@link Fn} it was built from. */
    public Fn fn() {
        return fn;
    }

    /** Whether it was built from an {@link Fn} other than a Sequential (its checkpoints need the code to load). */
    public boolean isFn() {
        return net == null;
    }

    /** The state width D (inputs; for a vector field, outputs too). */
    public int dim() {
        return dim;
    }

    /** The input width (as {@link #dim()}). */
    public int dimIn() {
        return dim;
    }

    /** The output width: {@link #dim()} for a vector field; any width for a {@link #layers} stack. */
    public int dimOut() {
        return dimOut;
    }

    /** Whether it returns as many values as it takes, so that it can be solved. */
    public boolean isVectorField() {
        return dimOut == dim;
    }

    public DType dtype() {
        return dtype;
    }

    public Parameters parameters() {
        live();
        return parameters;
    }

    public long numParams() {
        return parameters.numParams();
    }

    /** f(t, z) for z [dimIn] or [batch, dimIn]: [dimOut] or [batch, dimOut]. */
    public Tensor forward(double t, Tensor z) {
        long batch = batchOf(z, "z");
        Tensor out = Tensor.zeros(dtype, outShape(z));
        try {
            program.forward(parameters.valuesBuffer(), t, z.nativeBuffer(), batch, out.nativeBuffer());
        } catch (RuntimeException e) {
            out.close();
            throw e;
        }
        return out;
    }

    /**
     * The vector-Jacobian product with a cotangent v (shaped as f(t, z)): returns v^T df/dz (shaped as
     * z) and v^T df/dt, and accumulates v^T df/dtheta into {@link Parameters#grad()}.
     */
    public Vjp vjp(double t, Tensor z, Tensor v) {
        long batch = batchOf(z, "z");
        sameShape(outShape(z), v, "v", "f(t, z)");
        Tensor gz = Tensor.zeros(dtype, z.shape());
        try {
            double gt = program.vjp(parameters.valuesBuffer(), t, z.nativeBuffer(), v.nativeBuffer(), batch,
                    gz.nativeBuffer(), parameters.numParams() > 0 ? parameters.gradBuffer() : null);
            return new Vjp(gz, gt);
        } catch (RuntimeException e) {
            gz.close();
            throw e;
        }
    }

    /** The Jacobian-vector product (df/dz) u for a tangent u shaped as z; shaped as f(t, z). */
    public Tensor jvp(double t, Tensor z, Tensor u) {
        long batch = batchOf(z, "z");
        sameShape(z.shape(), u, "u", "z");
        Tensor out = Tensor.zeros(dtype, outShape(z));
        try {
            program.jvp(parameters.valuesBuffer(), t, z.nativeBuffer(), u.nativeBuffer(), batch, out.nativeBuffer());
        } catch (RuntimeException e) {
            out.close();
            throw e;
        }
        return out;
    }

    /** A vector-Jacobian product: gz = v^T df/dz (owned: close it) and gt = v^T df/dt. */
    public record Vjp(Tensor gz, double gt) implements AutoCloseable {
        @Override
        public void close() {
            gz.close();
        }
    }

    /**
     * As a plain {@link VectorField}: copies z into native memory, runs the program, copies the result
     * out. {@code Odeint} never takes this path for a NeuralField (it runs the program natively); it
     * is here for Java code that evaluates the field itself.
     */
    @Override
    public void evaluate(double t, BatchView z, BatchView dz) {
        requireVectorField();
        int n = Math.multiplyExact(z.batch(), z.dim());
        double[] in = new double[n];
        z.copyTo(in);
        try (Tensor zt = Tensor.of(dtype, in, z.batch(), z.dim()); Tensor out = forward(t, zt)) {
            dz.copyFrom(out.toDoubleArray());
        }
    }

    /**
     * Throws IllegalArgumentException, naming the widths, unless this returns as many values as it
     * takes (a {@link #layers} stack that changes the width cannot be solved).
     */
    public void requireVectorField() {
        if (dimOut != dim) {
            throw new IllegalArgumentException("this NeuralField maps width " + dim + " to " + dimOut
                    + ": a vector field must return as many values as the state has (" + dim
                    + "); a layer stack built with NeuralField.layers cannot be solved: " + describe());
        }
    }

    /** Internal: the native program, for the solvers. */
    public ProgramHandle program() {
        live();
        return program;
    }

    /** Internal: the parameter values' buffer (one element when there are no parameters). */
    public NativeBuffer paramsBuffer() {
        live();
        return parameters.valuesBuffer();
    }

    /** Internal: the parameter gradients' buffer, or null when there are no parameters. */
    public NativeBuffer gradBuffer() {
        live();
        return parameters.numParams() > 0 ? parameters.gradBuffer() : null;
    }

    public boolean isClosed() {
        return program.isClosed() || parameters.isClosed();
    }

    /** Frees the program and the parameters; solves with gradients still open can no longer run backward. */
    @Override
    public void close() {
        parameters.close();
        program.close();
    }

    @Override
    public String toString() {
        return "NeuralField(dim=" + (dimOut == dim ? String.valueOf(dim) : dim + "->" + dimOut) + ", dtype=" + dtype
                + ", numParams=" + parameters.numParams() + (net != null ? ", net=" : ", ") + describe() + ")";
    }

    /** The Sequential as PyTorch prints it, or the Fn and its parameter tensors. */
    public String describe() {
        if (net != null) return net.toString();
        // A lambda prints as its hidden class's name: say "lambda" instead.
        StringBuilder sb = new StringBuilder("Fn(").append(fn.getClass().isHidden() ? "lambda" : fn).append(")");
        for (ParamInfo p : parameters.infos()) sb.append("\n  ").append(p.name()).append(' ').append(Arrays.toString(p.shape()));
        return sb.toString();
    }

    private void live() {
        if (isClosed()) throw new TensorClosedException("the NeuralField is closed");
    }

    private long batchOf(Tensor z, String name) {
        live();
        long[] s = z.shape();
        if (s.length > 2 || s[s.length - 1] != dim) {
            throw new IllegalArgumentException(name + " must be [" + dim + "] or [batch, " + dim + "], got shape "
                    + Arrays.toString(s));
        }
        if (z.dtype() != dtype) throw new IllegalArgumentException(name + " is " + z.dtype() + " but the field is " + dtype);
        return s.length == 2 ? s[0] : 1;
    }

    private long[] outShape(Tensor z) {
        long[] s = z.shape().clone();
        s[s.length - 1] = dimOut;
        return s;
    }

    private void sameShape(long[] expected, Tensor other, String name, String what) {
        if (!Arrays.equals(expected, other.shape())) {
            throw new IllegalArgumentException(name + " has shape " + Arrays.toString(other.shape())
                    + " but " + what + " has shape " + Arrays.toString(expected));
        }
        if (other.dtype() != dtype) throw new IllegalArgumentException(name + " is " + other.dtype() + " but the field is " + dtype);
    }
}
