package io.jdyn.fn;

import io.jdyn.DType;
import io.jdyn.spi.Backends;
import io.jdyn.spi.GraphHandle;
import io.jdyn.spi.ProgramHandle;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A differentiable program under construction (jdyn.h's {@code jdyn_graph}): inputs ({@link #time()},
 * {@link #arg}, {@link #param}, {@link #constant}), operations on {@link Sym}s, derivatives as more
 * nodes of the same graph ({@link #vjp}, {@link #jvp}, {@link #grad}; differentiable again, to any
 * order), and {@link #finish} into a native {@link Program}.
 *
 * <pre>{@code
 * try (Graph g = new Graph()) {
 *     Sym t = g.time(), z = g.arg(-1, 2);
 *     Sym q = z.slice(1, 0, 1), p = z.slice(1, 1, 2);
 *     Sym h = p.square().mul(0.5).add(q.cos().rsub(1)).sum();     // H(q, p)
 *     Sym dh = Graph.grad(h, z);                                   // [dH/dq, dH/dp]
 *     Sym f = Sym.cat(1, dh.slice(1, 1, 2), dh.slice(1, 0, 1).neg());
 *     try (Program prog = g.finish(DType.FLOAT64, f)) { ... }
 * }
 * }</pre>
 *
 * <p>Owns native memory: close it (programs already finished live on). One thread at a time.
 */
public final class Graph implements AutoCloseable {
    private final GraphHandle handle;
    private Sym time;
    /** Every declared parameter by name, in declaration order (for tied declarations and for differentiating by name). */
    private final Map<String, Sym> declared = new LinkedHashMap<>();
    /** The parameters declared by {@link #noiseSeed}, in declaration order. */
    private final java.util.LinkedHashSet<String> noiseSeeds = new java.util.LinkedHashSet<>();

    /** An empty graph. */
    public Graph() {
        this.handle = Backends.get().newGraph();
    }

    /** Internal: the native builder. */
    GraphHandle handle() {
        return handle;
    }

    /** The time t, shape [] (the same node every call). */
    public Sym time() {
        if (time == null) time = new Sym(this, handle.time(), new long[0]);
        return time;
    }

    /** The next argument of the program (the state first), of the given shape: -1 first when batched. */
    public Sym arg(long... shape) {
        Objects.requireNonNull(shape, "shape");
        return new Sym(this, handle.arg(shape.clone()));
    }

    /**
     * A parameter: named (unique in the graph; PyTorch's state_dict naming, e.g. "0.weight"),
     * unbatched, initialised by init. Parameters are laid out in the flat parameter buffer in the order
     * they are declared.
     */
    public Sym param(String name, Init init, long... shape) {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(init, "init");
        Objects.requireNonNull(shape, "shape");
        int code = switch (init.kind()) {
            case UNIFORM -> GraphHandle.INIT_UNIFORM;
            case NORMAL -> GraphHandle.INIT_NORMAL;
            case CONSTANT -> GraphHandle.INIT_CONSTANT;
        };
        Sym s = new Sym(this, handle.param(name, shape.clone(), code, init.value()));
        declared.put(name, s);
        return s;
    }

    /**
     * The parameters declared so far, by name in declaration order (the flat buffer's layout): what
     * {@link #vjp} takes to differentiate a loss by some of them.
     */
    public Map<String, Sym> declaredParams() {
        return Collections.unmodifiableMap(declared);
    }

    /**
     * A noise seed: a parameter of shape [1] (initialised to 0) that the model redraws before every solve
     * ({@link io.jdyn.nn.NeuralField#drawNoise}), so that {@link Sym#randn} / {@link Sym#rademacher} of it
     * give noise that is fixed within a solve and fresh across solves: what Hutchinson's estimator needs
     * (FFJORD, the Jacobian regulariser). Its gradient is always zero; optimizers leave it alone.
     */
    public Sym noiseSeed(String name) {
        Sym s = param(name, Init.zeros(), 1);
        noiseSeeds.add(name);
        return s;
    }

    /** The root of parameter naming for this graph (what an {@link Fn} receives). */
    public Params params() {
        return new Params(this, "");
    }

    /** A constant of an unbatched shape, data row-major (data.length must equal the element count). */
    public Sym constant(double[] data, long... shape) {
        Objects.requireNonNull(data, "data");
        Objects.requireNonNull(shape, "shape");
        long n = 1;
        for (long d : shape) {
            if (d < 1) {
                throw new IllegalArgumentException("constant: shape " + Arrays.toString(shape) + " has a dimension < 1"
                        + " (constants are unbatched)");
            }
            n = Math.multiplyExact(n, d);
        }
        if (n != data.length) {
            throw new IllegalArgumentException("constant: shape " + Arrays.toString(shape) + " holds " + n
                    + " values but " + data.length + " were given");
        }
        return new Sym(this, handle.constant(data.clone(), shape.clone()));
    }

    /**
     * value everywhere in the given shape (-1 first for a batched one, whose batch is the run's): one
     * FULL node, however large.
     */
    public Sym full(double value, long... shape) {
        Objects.requireNonNull(shape, "shape");
        return new Sym(this, handle.op(GraphHandle.FULL, new long[0], Sym.dims(shape), new double[] {value}));
    }

    /** A scalar constant, shape []. */
    public Sym scalar(double value) {
        return new Sym(this, handle.constant(new double[] {value}, new long[0]), new long[0]);
    }

    /**
     * Reverse mode (torch.autograd.grad with create_graph=True): for each wrt[j], the node of
     * sum_i &lt;cotangents[i], d outputs[i] / d wrt[j]&gt;, shaped as wrt[j] (zeros when outputs do not
     * depend on it). cotangents[i] is shaped as outputs[i]; wrt may be any nodes (arguments,
     * parameters, t, intermediate values).
     */
    public List<Sym> vjp(List<Sym> outputs, List<Sym> cotangents, List<Sym> wrt) {
        Objects.requireNonNull(outputs, "outputs");
        Objects.requireNonNull(cotangents, "cotangents");
        Objects.requireNonNull(wrt, "wrt");
        if (outputs.size() != cotangents.size()) {
            throw new IllegalArgumentException("vjp: " + outputs.size() + " outputs but " + cotangents.size()
                    + " cotangents (one per output)");
        }
        if (outputs.isEmpty()) throw new IllegalArgumentException("vjp needs at least one output");
        long[] ids = grads(handle.vjp(ids("vjp outputs", outputs), ids("vjp cotangents", cotangents),
                ids("vjp wrt", wrt)), wrt.size());
        return syms(ids);
    }

    /**
     * Forward mode: for each output, the node of sum_j d outputs[i] / d wrt[j] . tangents[j], shaped as
     * the output. tangents[j] is shaped as wrt[j].
     */
    public List<Sym> jvp(List<Sym> wrt, List<Sym> tangents, List<Sym> outputs) {
        Objects.requireNonNull(wrt, "wrt");
        Objects.requireNonNull(tangents, "tangents");
        Objects.requireNonNull(outputs, "outputs");
        if (wrt.size() != tangents.size()) {
            throw new IllegalArgumentException("jvp: " + wrt.size() + " inputs but " + tangents.size()
                    + " tangents (one per input)");
        }
        if (wrt.isEmpty()) throw new IllegalArgumentException("jvp needs at least one input");
        long[] ids = grads(handle.jvp(ids("jvp wrt", wrt), ids("jvp tangents", tangents), ids("jvp outputs", outputs)),
                outputs.size());
        return syms(ids);
    }

    /**
     * d out / d wrt with a cotangent of ones shaped as out: torch.autograd.grad(out, wrt,
     * grad_outputs=ones_like(out), create_graph=True). Shaped as wrt.
     */
    public static Sym grad(Sym out, Sym wrt) {
        Objects.requireNonNull(out, "out");
        Objects.requireNonNull(wrt, "wrt");
        return out.graph().vjp(List.of(out), List.of(out.onesLike()), List.of(wrt)).get(0);
    }

    /** Nodes in the graph so far. */
    public long size() {
        return handle.size();
    }

    /**
     * The program computing outputs in dtype: its arguments are every {@link #arg} of the graph in
     * creation order, its parameters every declared {@link #param} in declaration order. The graph stays
     * usable (more nodes, more programs).
     */
    public Program finish(DType dtype, Sym... outputs) {
        Objects.requireNonNull(dtype, "dtype");
        Objects.requireNonNull(outputs, "outputs");
        if (outputs.length == 0) throw new IllegalArgumentException("finish needs at least one output");
        ProgramHandle p = handle.finish(ids("finish outputs", Arrays.asList(outputs)), dtype);
        try {
            return new Program(p, noiseSeeds);
        } catch (RuntimeException | Error e) {
            p.close();
            throw e;
        }
    }

    public boolean isClosed() {
        return handle.isClosed();
    }

    /** Frees the graph; its Syms can no longer be used, programs finished from it live on. */
    @Override
    public void close() {
        handle.close();
    }

    @Override
    public String toString() {
        return "Graph@" + Integer.toHexString(System.identityHashCode(this)) + (isClosed() ? "(closed)" : "");
    }

    private long[] ids(String what, List<Sym> syms) {
        long[] ids = new long[syms.size()];
        for (int i = 0; i < ids.length; i++) {
            Sym s = syms.get(i);
            if (s == null) throw new NullPointerException(what + "[" + i + "] is null");
            if (s.graph() != this) {
                throw new IllegalArgumentException(what + "[" + i + "] (" + s + ") belongs to another graph ("
                        + s.graph() + ", not " + this + "): build every Sym of one program from one Graph");
            }
            ids[i] = s.id();
        }
        return ids;
    }

    private static long[] grads(long[] ids, int expected) {
        if (ids.length != expected) throw new IllegalStateException("the backend returned " + ids.length + " nodes, "
                + expected + " expected");
        return ids;
    }

    private List<Sym> syms(long[] ids) {
        List<Sym> out = new ArrayList<>(ids.length);
        for (long id : ids) out.add(new Sym(this, id));
        return List.copyOf(out);
    }
}
