package io.jdyn.fn;

import io.jdyn.DType;
import io.jdyn.Tensor;
import io.jdyn.spi.Backends;
import io.jdyn.spi.NativeBuffer;
import io.jdyn.spi.ProgramHandle;
import java.lang.ref.Cleaner;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;

/**
 * Eager tensor operations on concrete {@link Tensor}s, run by the native program executor: each call
 * runs ONE operation through a one-op {@link Program} built with {@link Graph} and {@link Sym} (the same
 * native operations a traced or Java-built vector field runs), and its backward ({@link #vjp}) through the
 * program of {@link Graph#vjp} on the same one-op graph, so every value and every derivative rule is the
 * native core's: nothing is computed element by element in Java. This is what the python-shim's eager
 * {@code jdyn.Tensor} runs on (values and autograd).
 *
 * <p>Programs are cached by (operation, attributes, dtype, input shapes) in a bounded LRU map
 * ({@link #CAPACITY} entries; an evicted program is closed). Every input is an unbatched argument of its
 * exact shape (so no batch semantics apply), except for {@code bmm}, whose operands are [B, m, k] and
 * [B, k, n] (batched arguments: one program for every B).
 *
 * <p>Operations by name ({@link #ops()} lists them); {@code iattr}/{@code fattr} as each says; dimensions
 * may be negative (Python's rule). Element-wise operations broadcast as numpy does. Inputs of different
 * dtypes are computed in float64 (inputs copied); results are new tensors owned by the caller.
 * <ul>
 *   <li>binary (two tensors): add, sub, mul, div, pow (x ** y, as exp(y log x)), maximum, minimum;
 *       comparisons gt, lt, ge, le, eq, ne give 1 or 0 (no derivative)</li>
 *   <li>with a number s ({@link #scalar}): add_s (x + s), sub_s (x - s), rsub_s (s - x), mul_s, div_s (x / s),
 *       rdiv_s (s / x), rpow_s (s ** x, s &gt; 0), maximum_s, minimum_s, gt_s, lt_s, ge_s, le_s, eq_s, ne_s</li>
 *   <li>unary: neg, exp, log, sqrt, square, abs, sin, cos, tan, tanh, sinh, cosh, sigmoid, relu, silu,
 *       log1p, expm1, reciprocal, rsqrt, sign and step (no derivative), copy; fattr: pow [p], softplus [beta,
 *       threshold], elu [alpha], leaky_relu [slope], clamp [lo, hi] (NaN: no bound)</li>
 *   <li>where (c, a, b): a where c != 0, else b</li>
 *   <li>products: matmul (torch.matmul for a right operand of rank &lt;= 2, 1-D operands included), bmm
 *       ([B, m, k] x [B, k, n]), linear (x, W[, b])</li>
 *   <li>reductions, iattr [keepdim, dims...] (no dims: every dimension, giving a scalar): sum, mean, amax,
 *       amin; argmax, argmin with iattr [dim, keepdim] (the index of the first extremum, as a float; dim
 *       -99: over all elements); softmax, log_softmax, logsumexp with iattr [dim] ([keepdim, dim] for
 *       logsumexp)</li>
 *   <li>shapes: reshape [dims...], expand [dims...] (broadcast_to), sum_to [dims...], transpose (the last
 *       two), slice [dim, start, stop], pad [dim, before, after], index [n, (dim, start, stop) x n, rank,
 *       dims...] (slices, then a reshape: Python's {@code x[..., 1:, 0]}), cat [dim] and stack [dim]
 *       (any number of inputs)</li>
 * </ul>
 * Creation: {@link #full}, {@link #arange}, {@link #rand}, {@link #randn}, {@link #zeros}.
 *
 * <p>Results live in native buffers that Eager reuses: a result tensor that is no longer reachable (it
 * and every {@link #view} of it) gives its buffer back to a pool (at most {@link #POOL_BYTES} bytes kept),
 * from which later results of the same dtype and size are taken, so a loop of eager operations neither
 * allocates nor frees native memory once warm. Closing a result frees its buffer at once (it is then not
 * reused). The collector notices unreachable results only when it runs, and an operation allocates little
 * Java memory, so when the results handed out and not yet collected hold more than {@link #LIVE_BYTES}
 * bytes, the next allocation asks the JVM to collect first (as java.nio does for direct buffers).
 *
 * <p>A program scans its outputs: an operation producing NaN or an infinity from finite inputs fails
 * (naming it), as every jdyn program does; torch would return the value.
 */
public final class Eager {
    /** Programs kept (forward and backward programs each count). */
    public static final int CAPACITY = 1024;

    /** Bytes of free result buffers kept for reuse (system property jdyn.eager.poolBytes; default 256 MiB). */
    public static final long POOL_BYTES = Long.getLong("jdyn.eager.poolBytes", 256L << 20);

    /**
     * Bytes of results handed out and not yet collected above which an allocation first asks the JVM to
     * collect (system property jdyn.eager.liveBytes; default 256 MiB or a quarter of the maximum heap, the
     * smaller, at least 32 MiB). Larger means fewer collections but a working set that no longer fits the
     * caches: [512, 64] float32 products ran at about the same speed with 256 MiB and 64 MiB, and 1.4 times
     * slower with 1 GiB.
     */
    public static final long LIVE_BYTES = Long.getLong("jdyn.eager.liveBytes",
            Math.min(256L << 20, Math.max(32L << 20, Runtime.getRuntime().maxMemory() / 4)));

    private static final long[] NO_I = new long[0];
    private static final double[] NO_F = new double[0];

    /** What an operation builds, given its inputs (arguments of the graph), the scalar s and its attributes. */
    @FunctionalInterface
    private interface Build {
        Sym build(Graph g, Sym[] in, Sym s, long[] ia, double[] fa);
    }

    /**
     * An operation: its arity (-1: any number >= 1), whether it reads the scalar, whether it has a
     * derivative, whether its arguments are batched (bmm), its graph.
     */
    private record Def(int arity, boolean scalar, boolean differentiable, boolean batched, Build build) {}

    private static final Map<String, Def> OPS = new HashMap<>();

    private static void def(String name, int arity, boolean scalar, boolean diff, Build b) {
        OPS.put(name, new Def(arity, scalar, diff, false, b));
    }

    private static void unary(String name, java.util.function.UnaryOperator<Sym> f) {
        def(name, 1, false, true, (g, in, s, ia, fa) -> f.apply(in[0]));
    }

    static {
        def("add", 2, false, true, (g, in, s, ia, fa) -> in[0].add(in[1]));
        def("sub", 2, false, true, (g, in, s, ia, fa) -> in[0].sub(in[1]));
        def("mul", 2, false, true, (g, in, s, ia, fa) -> in[0].mul(in[1]));
        def("div", 2, false, true, (g, in, s, ia, fa) -> in[0].div(in[1]));
        def("pow", 2, false, true, (g, in, s, ia, fa) -> in[0].log().mul(in[1]).exp());
        def("maximum", 2, false, true, (g, in, s, ia, fa) -> in[0].maximum(in[1]));
        def("minimum", 2, false, true, (g, in, s, ia, fa) -> in[0].minimum(in[1]));
        def("gt", 2, false, false, (g, in, s, ia, fa) -> in[0].gt(in[1]));
        def("lt", 2, false, false, (g, in, s, ia, fa) -> in[0].lt(in[1]));
        def("eq", 2, false, false, (g, in, s, ia, fa) -> in[0].eq(in[1]));
        def("ge", 2, false, false, (g, in, s, ia, fa) -> in[0].lt(in[1]).rsub(1));
        def("le", 2, false, false, (g, in, s, ia, fa) -> in[0].gt(in[1]).rsub(1));
        def("ne", 2, false, false, (g, in, s, ia, fa) -> in[0].eq(in[1]).rsub(1));

        def("add_s", 1, true, true, (g, in, s, ia, fa) -> in[0].add(s));
        def("sub_s", 1, true, true, (g, in, s, ia, fa) -> in[0].sub(s));
        def("rsub_s", 1, true, true, (g, in, s, ia, fa) -> s.sub(in[0]));
        def("mul_s", 1, true, true, (g, in, s, ia, fa) -> in[0].mul(s));
        def("div_s", 1, true, true, (g, in, s, ia, fa) -> in[0].div(s));
        def("rdiv_s", 1, true, true, (g, in, s, ia, fa) -> s.div(in[0]));
        def("rpow_s", 1, true, true, (g, in, s, ia, fa) -> in[0].mul(s.log()).exp());
        def("maximum_s", 1, true, true, (g, in, s, ia, fa) -> in[0].maximum(s));
        def("minimum_s", 1, true, true, (g, in, s, ia, fa) -> in[0].minimum(s));
        def("gt_s", 1, true, false, (g, in, s, ia, fa) -> in[0].gt(s));
        def("lt_s", 1, true, false, (g, in, s, ia, fa) -> in[0].lt(s));
        def("eq_s", 1, true, false, (g, in, s, ia, fa) -> in[0].eq(s));
        def("ge_s", 1, true, false, (g, in, s, ia, fa) -> in[0].lt(s).rsub(1));
        def("le_s", 1, true, false, (g, in, s, ia, fa) -> in[0].gt(s).rsub(1));
        def("ne_s", 1, true, false, (g, in, s, ia, fa) -> in[0].eq(s).rsub(1));

        unary("neg", Sym::neg);
        unary("exp", Sym::exp);
        unary("log", Sym::log);
        unary("sqrt", Sym::sqrt);
        unary("square", Sym::square);
        unary("abs", Sym::abs);
        unary("sin", Sym::sin);
        unary("cos", Sym::cos);
        unary("tan", x -> x.sin().div(x.cos()));
        unary("tanh", Sym::tanh);
        unary("sinh", x -> x.exp().sub(x.neg().exp()).mul(0.5));
        unary("cosh", x -> x.exp().add(x.neg().exp()).mul(0.5));
        unary("sigmoid", Sym::sigmoid);
        unary("relu", Sym::relu);
        unary("silu", Sym::silu);
        unary("log1p", x -> x.add(1.0).log());
        unary("expm1", x -> x.exp().sub(1.0));
        unary("reciprocal", x -> x.rdiv(1.0));
        unary("rsqrt", x -> x.sqrt().rdiv(1.0));
        // a copy: the program's output is a new buffer even where the node is the argument itself
        unary("copy", x -> x);
        def("sign", 1, false, false, (g, in, s, ia, fa) -> in[0].sign());
        def("step", 1, false, false, (g, in, s, ia, fa) -> in[0].step());
        def("pow_f", 1, false, true, (g, in, s, ia, fa) -> in[0].pow(fa[0]));
        def("softplus", 1, false, true, (g, in, s, ia, fa) -> in[0].softplus(fa[0], fa[1]));
        def("elu", 1, false, true, (g, in, s, ia, fa) -> in[0].elu(fa[0]));
        def("leaky_relu", 1, false, true,
                (g, in, s, ia, fa) -> Sym.where(in[0].gt(0.0), in[0], in[0].mul(fa[0])));
        def("clamp", 1, false, true, (g, in, s, ia, fa) -> {
            Sym x = in[0];
            if (!Double.isNaN(fa[0])) x = x.maximum(fa[0]);
            if (!Double.isNaN(fa[1])) x = x.minimum(fa[1]);
            return x;
        });
        def("where", 3, false, true, (g, in, s, ia, fa) -> Sym.where(in[0], in[1], in[2]));

        def("matmul", 2, false, true, (g, in, s, ia, fa) -> matmul(in[0], in[1]));
        OPS.put("bmm", new Def(2, false, true, true, (g, in, s, ia, fa) -> in[0].bmm(in[1])));
        def("solve", 2, false, true, (g, in, s, ia, fa) -> in[0].solve(in[1]));
        def("linear", -1, false, true, (g, in, s, ia, fa) -> {
            if (in.length < 2 || in.length > 3) throw new IllegalArgumentException("linear takes x, W and optionally b");
            return in[0].linear(in[1], in.length == 3 ? in[2] : null);
        });

        def("sum", 1, false, true, (g, in, s, ia, fa) -> reduce(in[0], ia, Eager::sum));
        def("mean", 1, false, true, (g, in, s, ia, fa) -> reduce(in[0], ia, Eager::mean));
        def("amax", 1, false, true, (g, in, s, ia, fa) -> reduce(in[0], ia, Eager::amax));
        def("amin", 1, false, true, (g, in, s, ia, fa) -> reduce(in[0].neg(), ia, Eager::amax).neg());
        def("argmax", 1, false, false, (g, in, s, ia, fa) -> argmax(g, in[0], ia));
        def("argmin", 1, false, false, (g, in, s, ia, fa) -> argmax(g, in[0].neg(), ia));
        def("softmax", 1, false, true, (g, in, s, ia, fa) -> in[0].softmax((int) ia[0]));
        def("log_softmax", 1, false, true, (g, in, s, ia, fa) -> in[0].logSoftmax((int) ia[0]));
        def("logsumexp", 1, false, true, (g, in, s, ia, fa) -> {
            Sym x = in[0];
            int d = Sym.axis("logsumexp", (int) ia[1], x.rank());
            Sym m = x.max(d, true);
            Sym r = x.sub(m).exp().sum(d, true).log().add(m);
            return ia[0] != 0 ? r : r.reshape(drop(r.shape(), d));
        });

        def("reshape", 1, false, true, (g, in, s, ia, fa) -> in[0].reshape(ia));
        def("expand", 1, false, true, (g, in, s, ia, fa) -> in[0].broadcastTo(ia));
        def("sum_to", 1, false, true, (g, in, s, ia, fa) -> in[0].sumTo(ia));
        def("transpose", 1, false, true, (g, in, s, ia, fa) -> in[0].transpose());
        def("slice", 1, false, true, (g, in, s, ia, fa) -> in[0].slice((int) ia[0], ia[1], ia[2]));
        def("pad", 1, false, true, (g, in, s, ia, fa) -> in[0].pad((int) ia[0], ia[1], ia[2]));
        def("index", 1, false, true, (g, in, s, ia, fa) -> index(in[0], ia));
        def("cat", -1, false, true, (g, in, s, ia, fa) -> Sym.cat((int) ia[0], in));
        def("stack", -1, false, true, (g, in, s, ia, fa) -> Sym.stack((int) ia[0], in));
    }

    private Eager() {}

    /** The names of the operations. */
    public static Set<String> ops() {
        return Collections.unmodifiableSet(new TreeSet<>(OPS.keySet()));
    }

    /** Whether the operation has a derivative (comparisons, sign, step, argmax do not). */
    public static boolean differentiable(String op) {
        return def(op).differentiable();
    }

    // ------------------------------------------------------------------ running

    /** f(a) for an operation without attributes ("tanh", "neg", "copy", ...). */
    public static Tensor unary(String op, Tensor a) {
        return apply(op, NO_I, NO_F, 0.0, a);
    }

    /** a op b for an operation of two tensors without attributes ("add", "mul", "matmul", ...). */
    public static Tensor binary(String op, Tensor a, Tensor b) {
        return apply(op, NO_I, NO_F, 0.0, a, b);
    }

    /** a op s for an operation with a number ("mul_s": a * s, "rsub_s": s - a, ...). */
    public static Tensor scalar(String op, Tensor a, double s) {
        return apply(op, NO_I, NO_F, s, a);
    }

    /**
     * Runs one operation: iattr and fattr as the operation says (null: none), s the number of the
     * {@code *_s} operations (ignored by the others). A new tensor.
     */
    public static Tensor apply(String op, long[] iattr, double[] fattr, double s, Tensor... inputs) {
        Def d = def(op);
        Tensor[] in = prepare(op, d, inputs);
        long[] ia = iattr == null ? NO_I : iattr;
        double[] fa = fattr == null ? NO_F : fattr;
        DType dt = in[0].dtype();
        try {
            Compiled e = program(op, d, 0, dt, ia, fa, in);
            return run(e, null, d.scalar() ? s : 0.0, in, d.batched())[0];
        } finally {
            closeCopies(in, inputs);
        }
    }

    /**
     * The backward of {@link #apply}: for each input i whose bit is set in need (bit i; -1: all), the
     * cotangent sum(cotangent * d out / d input_i), shaped as input i and of its dtype; null for the
     * others. The rule is the native autodiff's ({@link Graph#vjp} on the same one-op graph), run as a
     * cached program. cotangent is shaped as the output (a scalar output: shape [1]).
     */
    public static Tensor[] vjp(String op, long[] iattr, double[] fattr, double s, Tensor[] inputs, Tensor cotangent,
            long need) {
        Def d = def(op);
        Objects.requireNonNull(cotangent, "cotangent");
        Tensor[] in = prepare(op, d, inputs);
        long[] ia = iattr == null ? NO_I : iattr;
        double[] fa = fattr == null ? NO_F : fattr;
        DType dt = in[0].dtype();
        int n = in.length;
        long mask = need & (n >= 63 ? -1L : (1L << n) - 1);
        Tensor[] out = new Tensor[n];
        if (mask == 0 || !d.differentiable()) {
            closeCopies(in, inputs);
            return out;
        }
        Tensor ct = cotangent.dtype() == dt ? cotangent : cast(cotangent, dt);
        try {
            Compiled e = program(op, d, mask, dt, ia, fa, in);
            Tensor[] args = Arrays.copyOf(in, n + 1);
            args[n] = ct;
            Tensor[] g = run(e, null, d.scalar() ? s : 0.0, args, d.batched());
            for (int i = 0, k = 0; i < n; i++) {
                if ((mask & (1L << i)) == 0) continue;
                Tensor gi = g[k++];
                DType want = inputs[i].dtype();
                if (gi.dtype() != want) {
                    Tensor c = cast(gi, want);
                    gi.close();
                    gi = c;
                }
                out[i] = gi;
            }
            return out;
        } finally {
            if (ct != cotangent) ct.close();
            closeCopies(in, inputs);
        }
    }

    /** The output shape of {@link #apply} for inputs of these shapes and dtype (a scalar: []), without running it. */
    public static long[] outputShape(String op, long[] iattr, double[] fattr, DType dtype, long[]... shapes) {
        Def d = def(op);
        long[] ia = iattr == null ? NO_I : iattr;
        double[] fa = fattr == null ? NO_F : fattr;
        try (Graph g = new Graph()) {
            Sym[] args = new Sym[shapes.length];
            for (int i = 0; i < args.length; i++) args[i] = g.arg(d.batched() ? batched(shapes[i]) : shapes[i]);
            return d.build().build(g, args, g.time(), ia, fa).shape();
        }
    }

    // ------------------------------------------------------------------ creation

    /** value everywhere in the given shape. */
    public static Tensor full(DType dtype, double value, long... shape) {
        Key k = new Key("full", 0, dtype, shape.clone(), NO_F, NO_I);
        Compiled e = cached(k, () -> {
            try (Graph g = new Graph()) {
                return g.finish(dtype, g.time().broadcastTo(shape));
            }
        });
        return run(e, null, value, new Tensor[0], false)[0];
    }

    /** Zeros in the given shape (a fresh native buffer, no program). */
    public static Tensor zeros(DType dtype, long... shape) {
        return Tensor.zeros(dtype, shape);
    }

    /** n values start, start + step, ..., start + (n - 1) step: torch.arange / linspace. */
    public static Tensor arange(DType dtype, double start, double step, long n) {
        if (n < 1) throw new IllegalArgumentException("arange needs at least one value, got " + n);
        Key k = new Key("arange", 0, dtype, new long[] {n}, NO_F, NO_I);
        Compiled e = cached(k, () -> {
            try (Graph g = new Graph()) {
                double[] iota = new double[Math.toIntExact(n)];
                for (int i = 0; i < iota.length; i++) iota[i] = i;
                return g.finish(dtype, g.constant(iota, n).mul(g.time()));
            }
        });
        Tensor r = run(e, null, step, new Tensor[0], false)[0];
        return start == 0 ? r : scalar("add_s", r, start);
    }

    /** Uniform values in [0, 1), drawn reproducibly from seed by the native parameter initialiser. */
    public static Tensor rand(DType dtype, long seed, long... shape) {
        return random(dtype, seed, shape, false);
    }

    /** Standard normal values, drawn reproducibly from seed. */
    public static Tensor randn(DType dtype, long seed, long... shape) {
        return random(dtype, seed, shape, true);
    }

    private static Tensor random(DType dtype, long seed, long[] shape, boolean normal) {
        Key k = new Key(normal ? "randn" : "rand", 0, dtype, shape.clone(), NO_F, NO_I);
        Compiled e = cached(k, () -> {
            try (Graph g = new Graph()) {
                Sym r = g.param("r", normal ? Init.normal(1.0) : Init.uniform(0.5), shape);
                return g.finish(dtype, r.add(g.time()));
            }
        });
        try (Tensor params = e.program.initParams(seed)) {
            return run(e, params, normal ? 0.0 : 0.5, new Tensor[0], false)[0];
        }
    }

    /**
     * The same native buffer seen in another shape with as many elements (no copy): closing either tensor
     * frees the buffer of both, so the caller keeps the original alive and closes only one of them.
     */
    public static Tensor view(Tensor a, long... shape) {
        Objects.requireNonNull(a, "a");
        long n = 1;
        for (long d : shape) n = Math.multiplyExact(n, d);
        if (n != a.numel()) {
            throw new IllegalArgumentException("cannot view " + Arrays.toString(a.shape()) + " (" + a.numel()
                    + " values) as " + Arrays.toString(shape));
        }
        NativeBuffer b = a.nativeBuffer();
        Tensor v = Tensor.wrap(b, shape);
        Lease l;
        synchronized (POOL) {
            l = LEASES.get(b);
            if (l != null) l.refs++;
        }
        if (l != null) CLEANER.register(v, l);      // the buffer goes back when the view is gone too
        return v;
    }

    /** a in another dtype (a copy; the same tensor's values when it already has it are copied too). */
    public static Tensor cast(Tensor a, DType dtype) {
        Objects.requireNonNull(a, "a");
        if (a.dtype() == dtype) return unary("copy", a);
        return Tensor.of(dtype, a.toDoubleArray(), a.shape());
    }

    // ------------------------------------------------------------------ the cache

    /** Programs cached now. */
    public static int cacheSize() {
        synchronized (CACHE) {
            return CACHE.size();
        }
    }

    /** Closes and forgets every cached program. */
    public static void clearCache() {
        synchronized (CACHE) {
            for (Compiled e : CACHE.values()) e.program.close();
            CACHE.clear();
        }
    }

    /** A cached program and its output shapes (-1 where batched). */
    private record Compiled(Program program, long[][] outShapes) {
        static Compiled of(Program p) {
            long[][] o = new long[p.numOutputs()][];
            for (int i = 0; i < o.length; i++) o[i] = p.outputShape(i);
            return new Compiled(p, o);
        }
    }

    private static final Map<Key, Compiled> CACHE = new LinkedHashMap<>(256, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Key, Compiled> eldest) {
            if (size() <= CAPACITY) return false;
            eldest.getValue().program.close();
            return true;
        }
    };

    /** A cache key: op, kind (0 forward, else the VJP's need mask), dtype, packed input shapes, attributes. */
    private static final class Key {
        final String op;
        final long kind;
        final DType dtype;
        final long[] shapes;
        final double[] fa;
        final long[] ia;
        final int hash;

        Key(String op, long kind, DType dtype, long[] shapes, double[] fa, long[] ia) {
            this.op = op;
            this.kind = kind;
            this.dtype = dtype;
            this.shapes = shapes;
            this.fa = fa;
            this.ia = ia;
            int h = op.hashCode();
            h = h * 31 + Long.hashCode(kind);
            h = h * 31 + dtype.hashCode();
            h = h * 31 + Arrays.hashCode(shapes);
            h = h * 31 + Arrays.hashCode(fa);
            h = h * 31 + Arrays.hashCode(ia);
            this.hash = h;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Key k && k.hash == hash && k.kind == kind && k.dtype == dtype && k.op.equals(op)
                    && Arrays.equals(k.shapes, shapes) && Arrays.equals(k.ia, ia) && Arrays.equals(k.fa, fa);
        }

        @Override
        public int hashCode() {
            return hash;
        }
    }

    private interface Maker {
        Program make();
    }

    private static Compiled cached(Key k, Maker m) {
        synchronized (CACHE) {
            Compiled e = CACHE.get(k);
            if (e != null && !e.program.isClosed()) return e;
            e = Compiled.of(m.make());
            CACHE.put(k, e);
            return e;
        }
    }

    /**
     * Runs a cached program into result buffers of the pool (the arguments have the shapes it was built
     * for: its key says so). batched: the arguments are batched, the batch is the first argument's first
     * dimension.
     */
    private static Tensor[] run(Compiled e, Tensor params, double t, Tensor[] args, boolean batched) {
        ProgramHandle h = e.program.handle();
        long batch = batched ? args[0].shape()[0] : 1;
        NativeBuffer[] in = new NativeBuffer[args.length];
        for (int i = 0; i < in.length; i++) in[i] = args[i].nativeBuffer();
        DType dt = e.program.dtype();
        Tensor[] out = new Tensor[e.outShapes.length];
        NativeBuffer[] ob = new NativeBuffer[out.length];
        try {
            for (int i = 0; i < out.length; i++) {
                out[i] = lease(dt, concrete(e.outShapes[i], batch));
                ob[i] = out[i].nativeBuffer();
            }
            h.run(params == null ? null : params.nativeBuffer(), t, in, batch, ob);
            return out;
        } catch (RuntimeException | Error ex) {
            for (Tensor o : out) {
                if (o != null) o.close();
            }
            throw ex;
        }
    }

    private static long[] concrete(long[] shape, long batch) {
        if (shape.length == 0) return new long[] {1};
        long[] s = shape;
        for (int i = 0; i < s.length; i++) {
            if (s[i] == -1) {
                if (s == shape) s = shape.clone();
                s[i] = batch;
            }
        }
        return s;
    }

    // ------------------------------------------------------------------ result buffers

    private static final Cleaner CLEANER = Cleaner.create();
    private static final Object POOL = new Object();
    /** Free buffers by (elements, dtype). */
    private static final Map<Long, ArrayDeque<NativeBuffer>> FREE = new HashMap<>();
    /** The lease of each buffer handed out (for views). */
    private static final Map<NativeBuffer, Lease> LEASES = new IdentityHashMap<>();
    private static long freeBytes;
    private static long liveBytes;

    /** A buffer handed out: back to the pool when every tensor on it (the result, its views) is collected. */
    private static final class Lease implements Runnable {
        final NativeBuffer buffer;
        final long bytes;
        int refs = 1;

        Lease(NativeBuffer buffer, long bytes) {
            this.buffer = buffer;
            this.bytes = bytes;
        }

        @Override
        public void run() {
            NativeBuffer drop = null;
            synchronized (POOL) {
                if (--refs > 0) return;
                LEASES.remove(buffer);
                liveBytes -= bytes;
                if (buffer.isClosed()) return;
                if (freeBytes + bytes <= POOL_BYTES) {
                    FREE.computeIfAbsent(sizeKey(buffer.dtype(), buffer.elements()), k -> new ArrayDeque<>()).push(buffer);
                    freeBytes += bytes;
                } else {
                    drop = buffer;
                }
            }
            if (drop != null) drop.close();
        }
    }

    private static long sizeKey(DType dt, long elements) {
        return elements * 2 + (dt == DType.FLOAT64 ? 1 : 0);
    }

    /** A result tensor of this shape on a pooled buffer (contents undefined: the program writes them all). */
    private static Tensor lease(DType dt, long[] shape) {
        long n = 1;
        for (long d : shape) n = Math.multiplyExact(n, d);
        long bytes = n * dt.byteSize();
        NativeBuffer b = take(dt, n, bytes);
        if (b == null) {
            if (overLimit(bytes)) collect(dt, n);
            b = take(dt, n, bytes);
            if (b == null) {
                b = Backends.get().allocate(dt, n);
                synchronized (POOL) {
                    liveBytes += bytes;
                }
            }
        }
        Lease l = new Lease(b, bytes);
        Tensor t;
        synchronized (POOL) {
            LEASES.put(b, l);
        }
        t = Tensor.wrap(b, shape);
        CLEANER.register(t, l);
        return t;
    }

    private static NativeBuffer take(DType dt, long n, long bytes) {
        synchronized (POOL) {
            ArrayDeque<NativeBuffer> q = FREE.get(sizeKey(dt, n));
            NativeBuffer b = q == null ? null : q.poll();
            if (b == null) return null;
            freeBytes -= bytes;
            liveBytes += bytes;
            return b;
        }
    }

    private static boolean overLimit(long bytes) {
        synchronized (POOL) {
            return liveBytes + bytes > LIVE_BYTES;
        }
    }

    /** Asks the JVM to collect, then waits (at most about 100 ms) for a buffer of this size to come back. */
    private static void collect(DType dt, long n) {
        System.gc();
        long key = sizeKey(dt, n);
        for (int i = 0; i < 100; i++) {
            synchronized (POOL) {
                ArrayDeque<NativeBuffer> q = FREE.get(key);
                if ((q != null && !q.isEmpty()) || liveBytes <= LIVE_BYTES / 2) return;
            }
            try {
                Thread.sleep(1);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    /** Bytes of result buffers handed out and not yet collected, and bytes kept free for reuse. */
    public static long[] poolBytes() {
        synchronized (POOL) {
            return new long[] {liveBytes, freeBytes};
        }
    }

    /** The forward (kind 0) or VJP (kind = need mask) program of an operation on inputs of these shapes. */
    private static Compiled program(String op, Def d, long kind, DType dt, long[] ia, double[] fa, Tensor[] in) {
        long[] packed = pack(in, d.batched());
        Key k = new Key(op, kind, dt, packed, fa, ia);
        return cached(k, () -> build(op, d, kind, dt, ia, fa, in));
    }

    private static Program build(String op, Def d, long kind, DType dt, long[] ia, double[] fa, Tensor[] in) {
        try (Graph g = new Graph()) {
            Sym[] args = new Sym[in.length];
            for (int i = 0; i < in.length; i++) args[i] = g.arg(d.batched() ? batched(in[i].shape()) : in[i].shape());
            Sym out;
            try {
                out = d.build().build(g, args, g.time(), ia, fa);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(describe(op, ia, fa, in) + ": " + e.getMessage(), e);
            }
            if (kind == 0) return g.finish(dt, out);
            Sym ct = g.arg(out.shape());
            java.util.List<Sym> wrt = new java.util.ArrayList<>();
            for (int i = 0; i < args.length; i++) {
                if ((kind & (1L << i)) != 0) wrt.add(args[i]);
            }
            java.util.List<Sym> grads = g.vjp(java.util.List.of(out), java.util.List.of(ct), wrt);
            return g.finish(dt, grads.toArray(new Sym[0]));
        }
    }

    // ------------------------------------------------------------------ plumbing

    private static Def def(String op) {
        Objects.requireNonNull(op, "op");
        Def d = OPS.get(op);
        if (d == null) throw new IllegalArgumentException("unknown eager operation '" + op + "'; known: " + ops());
        return d;
    }

    /** The inputs checked, in one dtype (copies of the float32 ones where the dtypes are mixed). */
    private static Tensor[] prepare(String op, Def d, Tensor[] inputs) {
        Objects.requireNonNull(inputs, "inputs");
        if (d.arity() >= 0 ? inputs.length != d.arity() : inputs.length < 1) {
            throw new IllegalArgumentException(op + " takes " + (d.arity() >= 0 ? d.arity() : "at least 1") + " tensor"
                    + (d.arity() == 1 ? "" : "s") + ", " + inputs.length + " given");
        }
        DType dt = null;
        boolean mixed = false;
        for (int i = 0; i < inputs.length; i++) {
            Tensor t = Objects.requireNonNull(inputs[i], () -> op + ": input is null");
            if (dt == null) dt = t.dtype();
            else if (t.dtype() != dt) mixed = true;
        }
        if (!mixed) return inputs;
        Tensor[] in = inputs.clone();
        for (int i = 0; i < in.length; i++) {
            if (in[i].dtype() != DType.FLOAT64) in[i] = Tensor.of(DType.FLOAT64, in[i].toDoubleArray(), in[i].shape());
        }
        return in;
    }

    private static void closeCopies(Tensor[] in, Tensor[] inputs) {
        if (in == inputs) return;
        for (int i = 0; i < in.length; i++) {
            if (in[i] != inputs[i]) in[i].close();
        }
    }

    private static long[] pack(Tensor[] in, boolean batched) {
        int n = 0;
        long[][] s = new long[in.length][];
        for (int i = 0; i < in.length; i++) {
            s[i] = in[i].shape();
            n += s[i].length + 1;
        }
        long[] p = new long[n];
        int k = 0;
        for (long[] sh : s) {
            p[k++] = sh.length;
            for (int j = 0; j < sh.length; j++) p[k++] = batched && j == 0 ? -1 : sh[j];
        }
        return p;
    }

    private static long[] batched(long[] shape) {
        long[] b = shape.clone();
        b[0] = -1;
        return b;
    }

    private static String describe(String op, long[] ia, double[] fa, Tensor[] in) {
        StringBuilder sb = new StringBuilder(op);
        if (ia.length > 0) sb.append(Arrays.toString(ia));
        if (fa.length > 0) sb.append(Arrays.toString(fa));
        sb.append(" of shape").append(in.length == 1 ? " " : "s ");
        for (int i = 0; i < in.length; i++) sb.append(i > 0 ? " and " : "").append(Arrays.toString(in[i].shape()));
        return sb.toString();
    }

    private static long[] drop(long[] shape, int d) {
        long[] r = new long[shape.length - 1];
        for (int i = 0, j = 0; i < shape.length; i++) {
            if (i != d) r[j++] = shape[i];
        }
        return r;
    }

    private interface Reduce {
        Sym apply(Sym x, int dim, boolean keepdim);
    }

    private static Sym sum(Sym x, int dim, boolean keepdim) {
        return x.sum(dim, keepdim);
    }

    private static Sym mean(Sym x, int dim, boolean keepdim) {
        return x.mean(dim, keepdim);
    }

    private static Sym amax(Sym x, int dim, boolean keepdim) {
        return x.max(dim, keepdim);
    }

    /** iattr [keepdim, dims...]: along each dim (largest first), or over everything when none is given. */
    private static Sym reduce(Sym x, long[] ia, Reduce r) {
        boolean keep = ia.length > 0 && ia[0] != 0;
        int rank = x.rank();
        if (ia.length <= 1) {
            if (keep) {
                return reduce(x, all(rank, true), r);
            }
            long n = 1;
            for (long v : x.shape()) n *= v;
            Sym flat = rank == 1 ? x : x.reshape(n);
            return r.apply(flat, 0, false);
        }
        TreeSet<Integer> dims = new TreeSet<>(Collections.reverseOrder());
        for (int i = 1; i < ia.length; i++) {
            int a = Sym.axis("reduction", (int) ia[i], rank);
            if (!dims.add(a)) throw new IllegalArgumentException("dim " + a + " appears twice in the reduction");
        }
        Sym y = x;
        for (int a : dims) y = r.apply(y, a, keep);
        return y;
    }

    private static long[] all(int rank, boolean keep) {
        long[] ia = new long[rank + 1];
        ia[0] = keep ? 1 : 0;
        for (int i = 0; i < rank; i++) ia[i + 1] = i;
        return ia;
    }

    /** The index of the first largest element along ia[0] (-99: of the flattened tensor), as a value. */
    private static Sym argmax(Graph g, Sym x, long[] ia) {
        if (ia[0] == -99) {
            long n = 1;
            for (long v : x.shape()) n *= v;
            x = x.reshape(n);
        }
        int rank = x.rank();
        int d = ia[0] == -99 ? 0 : Sym.axis("argmax", (int) ia[0], rank);
        boolean keep = ia.length > 1 && ia[1] != 0 && ia[0] != -99;
        long size = x.shape()[d];
        double[] iota = new double[Math.toIntExact(size)];
        for (int i = 0; i < iota.length; i++) iota[i] = i;
        long[] at = new long[rank - d];
        Arrays.fill(at, 1);
        at[0] = size;
        Sym idx = g.constant(iota, size).reshape(at);
        Sym hit = x.eq(x.max(d, true));
        Sym first = Sym.where(hit, idx, idx.fullLike(size)).neg().max(d, keep).neg();
        return first;
    }

    /** iattr [n, (dim, start, stop) x n, rank, dims...]: the slices, then a reshape. */
    private static Sym index(Sym x, long[] ia) {
        int n = (int) ia[0];
        Sym y = x;
        for (int i = 0; i < n; i++) y = y.slice((int) ia[1 + 3 * i], ia[2 + 3 * i], ia[3 + 3 * i]);
        int at = 1 + 3 * n;
        long[] shape = Arrays.copyOfRange(ia, at + 1, at + 1 + (int) ia[at]);
        return Arrays.equals(shape, y.shape()) ? y : y.reshape(shape);
    }

    /** torch.matmul for b of rank 1 or 2 (a of any rank); 1-D operands as vectors. */
    private static Sym matmul(Sym a, Sym b) {
        long[] sa = a.shape(), sb = b.shape();
        if (sb.length > 2) {
            throw new IllegalArgumentException(String.format(Locale.ROOT, "matmul of shapes %s and %s: a right operand of"
                    + " rank > 2 is a batched product (bmm)", Arrays.toString(sa), Arrays.toString(sb)));
        }
        if (sa.length == 1 && sb.length == 1) {
            if (sa[0] != sb[0]) {
                throw new IllegalArgumentException("matmul of vectors of sizes " + sa[0] + " and " + sb[0]);
            }
            return a.mul(b).sum();
        }
        if (sb.length == 1) {
            long[] out = Arrays.copyOf(sa, sa.length - 1);
            return a.matmul(b.reshape(sb[0], 1)).reshape(out);
        }
        if (sa.length == 1) return a.reshape(1, sa[0]).matmul(b).reshape(sb[1]);
        return a.matmul(b);
    }
}
