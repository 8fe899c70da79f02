package io.jdyn.fn;

import io.jdyn.nn.Basis;
import io.jdyn.spi.GraphHandle;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * A symbolic tensor: one node of a {@link Graph}. Its {@link #shape()} is known when it is built
 * (row-major, rank at most 4; -1 first for a batched tensor, whose batch size is given when the
 * program runs). Every operation adds one node to the graph (the native core checks the shapes at once
 * and names the op and both shapes when they do not fit) and returns it; nothing is computed until
 * the finished {@link Program} runs. Element-wise operations broadcast as numpy does (right-aligned;
 * an unbatched operand broadcasts over the batch). Dimensions may be negative, counted from the end as
 * in Python.
 *
 * <p>The names follow PyTorch: {@code x.matmul(w).add(b).tanh()}, {@code x.sum(-1, true)},
 * {@code x.slice(1, 0, 1)} for {@code x[:, 0:1]}, {@code Sym.cat(-1, x, y)}.
 */
public final class Sym {
    private final Graph graph;
    private final long id;
    private long[] shape;

    Sym(Graph graph, long id) {
        this.graph = graph;
        this.id = id;
    }

    Sym(Graph graph, long id, long[] shape) {
        this.graph = graph;
        this.id = id;
        this.shape = shape;
    }

    /** The graph this node belongs to. */
    public Graph graph() {
        return graph;
    }

    /** The node's id in its graph. */
    public long id() {
        return id;
    }

    /** The shape: -1 first when batched; [] for a scalar. */
    public long[] shape() {
        return shapeRef().clone();
    }

    private long[] shapeRef() {
        long[] s = shape;
        if (s == null) {
            s = graph.handle().shape(id);
            shape = s;
        }
        return s;
    }

    public int rank() {
        return shapeRef().length;
    }

    /** Whether the first dimension is the batch (-1). */
    public boolean isBatched() {
        long[] s = shapeRef();
        return s.length > 0 && s[0] == -1;
    }

    /** The size of dimension dim (negative counts from the end); -1 for the batch. */
    public long size(int dim) {
        return shapeRef()[axis("size", dim, rank())];
    }

    // ------------------------------------------------------------------ element-wise, two operands

    public Sym add(Sym other) {
        return binary(GraphHandle.ADD, other);
    }

    public Sym add(double v) {
        return add(graph.scalar(v));
    }

    public Sym sub(Sym other) {
        return binary(GraphHandle.SUB, other);
    }

    public Sym sub(double v) {
        return sub(graph.scalar(v));
    }

    /** v - this (PyTorch's {@code rsub}). */
    public Sym rsub(double v) {
        return graph.scalar(v).sub(this);
    }

    public Sym mul(Sym other) {
        return binary(GraphHandle.MUL, other);
    }

    public Sym mul(double v) {
        return mul(graph.scalar(v));
    }

    public Sym div(Sym other) {
        return binary(GraphHandle.DIV, other);
    }

    public Sym div(double v) {
        return div(graph.scalar(v));
    }

    /** v / this. */
    public Sym rdiv(double v) {
        return graph.scalar(v).div(this);
    }

    /** 1 where this > other, else 0 (no derivative). */
    public Sym gt(Sym other) {
        return binary(GraphHandle.GT, other);
    }

    public Sym gt(double v) {
        return gt(graph.scalar(v));
    }

    /** 1 where this < other, else 0 (no derivative). */
    public Sym lt(Sym other) {
        return binary(GraphHandle.LT, other);
    }

    public Sym lt(double v) {
        return lt(graph.scalar(v));
    }

    /** 1 where this == other, else 0 (no derivative). */
    public Sym eq(Sym other) {
        return binary(GraphHandle.EQ, other);
    }

    public Sym eq(double v) {
        return eq(graph.scalar(v));
    }

    /** The element-wise larger (torch.maximum). */
    public Sym maximum(Sym other) {
        return binary(GraphHandle.MAXIMUM, other);
    }

    public Sym maximum(double v) {
        return maximum(graph.scalar(v));
    }

    /** The element-wise smaller (torch.minimum). */
    public Sym minimum(Sym other) {
        return binary(GraphHandle.MINIMUM, other);
    }

    public Sym minimum(double v) {
        return minimum(graph.scalar(v));
    }

    /** Clamped to [lo, hi] (torch.clamp). */
    public Sym clamp(double lo, double hi) {
        return maximum(lo).minimum(hi);
    }

    /** a where c != 0, else b; all three broadcast (torch.where). */
    public static Sym where(Sym c, Sym a, Sym b) {
        Objects.requireNonNull(c, "c");
        return c.op("where", GraphHandle.WHERE, new Sym[] {c, a, b}, NO_I, NO_F);
    }

    // ------------------------------------------------------------------ element-wise, one operand

    public Sym neg() {
        return unary(GraphHandle.NEG);
    }

    public Sym exp() {
        return unary(GraphHandle.EXP);
    }

    public Sym log() {
        return unary(GraphHandle.LOG);
    }

    public Sym sqrt() {
        return unary(GraphHandle.SQRT);
    }

    public Sym square() {
        return unary(GraphHandle.SQUARE);
    }

    public Sym abs() {
        return unary(GraphHandle.ABS);
    }

    public Sym sin() {
        return unary(GraphHandle.SIN);
    }

    public Sym cos() {
        return unary(GraphHandle.COS);
    }

    public Sym tanh() {
        return unary(GraphHandle.TANH);
    }

    public Sym sigmoid() {
        return unary(GraphHandle.SIGMOID);
    }

    public Sym relu() {
        return unary(GraphHandle.RELU);
    }

    /** x sigmoid(x). */
    public Sym silu() {
        return unary(GraphHandle.SILU);
    }

    /** -1, 0 or 1 (no derivative). */
    public Sym sign() {
        return unary(GraphHandle.SIGN);
    }

    /** 1 where x > 0, else 0 (no derivative). */
    public Sym step() {
        return unary(GraphHandle.STEP);
    }

    /** log(1 + exp(beta x)) / beta, and x where beta x > threshold: PyTorch's Softplus. */
    public Sym softplus(double beta, double threshold) {
        return op("softplus", GraphHandle.SOFTPLUS, new Sym[] {this}, NO_I, new double[] {beta, threshold});
    }

    /** Softplus with beta 1, threshold 20 (PyTorch's defaults). */
    public Sym softplus() {
        return softplus(1.0, 20.0);
    }

    /** x for x > 0, alpha (exp(x) - 1) below: PyTorch's ELU. */
    public Sym elu(double alpha) {
        return op("elu", GraphHandle.ELU, new Sym[] {this}, NO_I, new double[] {alpha});
    }

    /** ELU with alpha 1. */
    public Sym elu() {
        return elu(1.0);
    }

    /** x^p. */
    public Sym pow(double p) {
        return op("pow", GraphHandle.POW, new Sym[] {this}, NO_I, new double[] {p});
    }

    // ------------------------------------------------------------------ products

    /**
     * this [..., k] times b [k, n]: [..., n], every leading dimension of this (the batch included) read
     * as rows (torch.matmul of a batch of row vectors with a matrix).
     */
    public Sym matmul(Sym b) {
        return matmul(b, false, false);
    }

    /**
     * jdyn.h's MATMUL: transB reads b as [n, k]; transA computes this^T b summed over the leading
     * dimensions ([..., m] and [..., n] give [m, n]).
     */
    public Sym matmul(Sym b, boolean transA, boolean transB) {
        return op("matmul", GraphHandle.MATMUL, new Sym[] {this, b}, new long[] {transA ? 1 : 0, transB ? 1 : 0},
                NO_F);
    }

    /** x W^T + b for W [out, in] and b [out] (null: no bias): torch.nn.functional.linear. */
    public Sym linear(Sym w, Sym b) {
        Sym[] in = b == null ? new Sym[] {this, w} : new Sym[] {this, w, b};
        return op("linear", GraphHandle.LINEAR, in, NO_I, NO_F);
    }

    /** One product per batch row: this [-1, m, k], b [-1, k, n] give [-1, m, n] (torch.bmm). */
    public Sym bmm(Sym b) {
        return op("bmm", GraphHandle.BMM, new Sym[] {this, b}, NO_I, NO_F);
    }

    /**
     * X with this X = b (torch.linalg.solve(A, B)), by LU with partial pivoting per matrix, natively:
     * this [n, n] or [-1, n, n], b [n, k] or [-1, n, k] (an unbatched side is shared by every matrix of
     * the other); the result is shaped as b with the batch of either. Differentiable to any order (its
     * derivatives are solves again). A singular or non-finite matrix fails at run time naming the batch
     * row.
     */
    public Sym solve(Sym b) {
        return solve(b, false);
    }

    /** As {@link #solve(Sym)}, with transpose solving this^T X = b (no transposed copy is made). */
    public Sym solve(Sym b, boolean transpose) {
        return op("solve", GraphHandle.SOLVE, new Sym[] {this, b}, new long[] {transpose ? 1 : 0}, NO_F);
    }

    // ------------------------------------------------------------------ reductions

    /** The sum along dim (summing the batch dimension gives an unbatched result). */
    public Sym sum(int dim, boolean keepdim) {
        return reduce("sum", GraphHandle.SUM, dim, keepdim);
    }

    public Sym sum(int dim) {
        return sum(dim, false);
    }

    /** The sum of every element (the batch included): shape []. */
    public Sym sum() {
        return all("sum", GraphHandle.SUM);
    }

    /**
     * The mean along dim. Over the batch dimension it is the sum divided by the batch size (a node
     * counting the rows), since MEAN along the batch has no derivative program.
     */
    public Sym mean(int dim, boolean keepdim) {
        if (isBatched() && axis("mean", dim, rank()) == 0) return sum(0, keepdim).div(batchSize());
        return reduce("mean", GraphHandle.MEAN, dim, keepdim);
    }

    /** The batch size of the run, as a node of shape [] (the sum of a batched column of ones). */
    private Sym batchSize() {
        return graph.full(1.0, -1).sum(0);
    }

    public Sym mean(int dim) {
        return mean(dim, false);
    }

    /** The mean of every element (the batch included): shape []. */
    public Sym mean() {
        return all("mean", GraphHandle.MEAN);
    }

    /** The largest value along dim (its derivative goes to the largest element). */
    public Sym max(int dim, boolean keepdim) {
        return reduce("max", GraphHandle.MAX, dim, keepdim);
    }

    public Sym max(int dim) {
        return max(dim, false);
    }

    public Sym softmax(int dim) {
        return op("softmax", GraphHandle.SOFTMAX, new Sym[] {this}, new long[] {axis("softmax", dim, rank())}, NO_F);
    }

    public Sym logSoftmax(int dim) {
        return op("logSoftmax", GraphHandle.LOG_SOFTMAX, new Sym[] {this},
                new long[] {axis("logSoftmax", dim, rank())}, NO_F);
    }

    private Sym reduce(String what, int code, int dim, boolean keepdim) {
        return op(what, code, new Sym[] {this}, new long[] {axis(what, dim, rank()), keepdim ? 1 : 0}, NO_F);
    }

    /** Reduces every dimension: flattened to [-1, n] (or [n]), then each axis in turn (mean's batch axis as mean(0)). */
    private Sym all(String what, int code) {
        long[] s = shapeRef();
        if (s.length == 0) return this;
        boolean batched = isBatched();
        long n = 1;
        for (int i = batched ? 1 : 0; i < s.length; i++) n = Math.multiplyExact(n, s[i]);
        Sym x = this;
        if (batched && s.length > 1) {
            if (s.length != 2) x = x.reshape(-1, n);
            x = x.reduce(what, code, 1, false);
        } else if (!batched && s.length != 1) {
            x = x.reshape(n);
        }
        return batched && code == GraphHandle.MEAN ? x.mean(0, false) : x.reduce(what, code, 0, false);
    }

    // ------------------------------------------------------------------ shapes

    /** The same elements in another shape (-1 first keeps a batched tensor batched). */
    public Sym reshape(long... newShape) {
        return op("reshape", GraphHandle.RESHAPE, new Sym[] {this}, dims(newShape), NO_F);
    }

    /** Broadcast to shape (numpy's rules). */
    public Sym broadcastTo(long... newShape) {
        return op("broadcastTo", GraphHandle.BROADCAST_TO, new Sym[] {this}, dims(newShape), NO_F);
    }

    /** Sums the dimensions broadcasting would add to reach this shape from the given one (broadcasting's VJP). */
    public Sym sumTo(long... newShape) {
        return op("sumTo", GraphHandle.SUM_TO, new Sym[] {this}, dims(newShape), NO_F);
    }

    /**
     * Elements start (inclusive) to stop (exclusive) along dim: Python's {@code x[..., start:stop]};
     * negative indices count from the end.
     */
    public Sym slice(int dim, long start, long stop) {
        int a = axis("slice", dim, rank());
        long size = shapeRef()[a];
        if ((start < 0 || stop < 0) && size == -1) {
            throw new IllegalArgumentException("slice: negative indices along the batch dimension (of unknown size)"
                    + " of shape " + Arrays.toString(shapeRef()));
        }
        long s = start < 0 ? start + size : start;
        long e = stop < 0 ? stop + size : stop;
        return op("slice", GraphHandle.SLICE, new Sym[] {this}, new long[] {a, s, e}, NO_F);
    }

    /** Element index of dim, the dimension removed: torch.select ({@code x[:, i]} for dim 1). */
    public Sym select(int dim, long index) {
        int a = axis("select", dim, rank());
        if (a == 0 && isBatched()) throw new IllegalArgumentException("select: cannot select along the batch dimension");
        long[] s = shapeRef();
        long i = index < 0 ? index + s[a] : index;
        Sym part = slice(a, i, i + 1);
        long[] out = new long[s.length - 1];
        for (int k = 0, j = 0; k < s.length; k++) {
            if (k != a) out[j++] = s[k];
        }
        return part.reshape(out);
    }

    /** before zeros in front of and after zeros behind the elements along dim. */
    public Sym pad(int dim, long before, long after) {
        return op("pad", GraphHandle.PAD, new Sym[] {this}, new long[] {axis("pad", dim, rank()), before, after}, NO_F);
    }

    /** Swaps the last two dimensions (rank >= 2; the batch cannot move). */
    public Sym transpose() {
        return op("transpose", GraphHandle.TRANSPOSE, new Sym[] {this}, NO_I, NO_F);
    }

    /** The transpose of a matrix: {@link #transpose()}. */
    public Sym t() {
        return transpose();
    }

    /** Joins tensors along dim (torch.cat); the other dimensions must agree. */
    public static Sym cat(int dim, Sym... parts) {
        Objects.requireNonNull(parts, "parts");
        if (parts.length == 0) throw new IllegalArgumentException("cat needs at least one tensor");
        Objects.requireNonNull(parts[0], "parts[0]");
        int a = axis("cat", dim, parts[0].rank());
        return parts[0].op("cat", GraphHandle.CONCAT, parts, new long[] {a}, NO_F);
    }

    public static Sym cat(int dim, List<Sym> parts) {
        return cat(dim, parts.toArray(new Sym[0]));
    }

    /** Stacks tensors of one shape along a new dimension dim (torch.stack); the batch stays first. */
    public static Sym stack(int dim, Sym... parts) {
        Objects.requireNonNull(parts, "parts");
        if (parts.length == 0) throw new IllegalArgumentException("stack needs at least one tensor");
        Objects.requireNonNull(parts[0], "parts[0]");
        long[] s = parts[0].shapeRef();
        int a = axis("stack", dim, s.length + 1);
        if (a == 0 && parts[0].isBatched()) {
            throw new IllegalArgumentException("stack: dim " + dim + " would put a new dimension before the batch of "
                    + Arrays.toString(s));
        }
        long[] t = new long[s.length + 1];
        for (int k = 0, j = 0; k < t.length; k++) t[k] = k == a ? 1 : s[j++];
        Sym[] r = new Sym[parts.length];
        for (int i = 0; i < parts.length; i++) {
            Objects.requireNonNull(parts[i], "parts[" + i + "]");
            parts[0].sameGraph("stack", parts[i]);
            r[i] = parts[i].reshape(t);
        }
        return cat(a, r);
    }

    public static Sym stack(int dim, List<Sym> parts) {
        return stack(dim, parts.toArray(new Sym[0]));
    }

    // ------------------------------------------------------------------ constants shaped after this

    /**
     * A tensor of the given shape filled with value, in this tensor's graph (a batched shape takes the
     * batch of the run, like every batched node): torch's {@code x.new_full(shape, value)}.
     */
    public Sym newFull(double value, long... newShape) {
        return graph.full(value, newShape);
    }

    public Sym newZeros(long... newShape) {
        return newFull(0.0, newShape);
    }

    public Sym newOnes(long... newShape) {
        return newFull(1.0, newShape);
    }

    /** value everywhere, shaped as this. */
    public Sym fullLike(double value) {
        return newFull(value, shapeRef());
    }

    public Sym onesLike() {
        return fullLike(1.0);
    }

    public Sym zerosLike() {
        return fullLike(0.0);
    }

    /**
     * The first n functions of a Galerkin basis at this time (a scalar, usually {@link Graph#time()}),
     * shape [n]; derivative 1 gives their derivatives in t.
     */
    public Sym basis(Basis basis, int n, int derivative) {
        Objects.requireNonNull(basis, "basis");
        long kind = basis.kind() == Basis.Kind.FOURIER ? 0 : 1;
        return op("basis", GraphHandle.BASIS, new Sym[] {this}, new long[] {kind, n, derivative},
                new double[] {basis.kind() == Basis.Kind.FOURIER ? basis.period() : 0});
    }

    public Sym basis(Basis basis, int n) {
        return basis(basis, n, 0);
    }

    /**
     * Standard normal noise of the given shape (-1 first for one row per batch element), drawn from this
     * seed (a {@link Graph#noiseSeed}): element i is a fixed function of (seed, i), so every evaluation
     * in a solve sees the same values, a batch row's values do not depend on the batch size, and the
     * derivative is zero. Two draws of one shape from one seed are the same draw; give them different
     * streams ({@link #randn(long[], int)}) for independent noise.
     */
    public Sym randn(long... shape) {
        return random(GraphHandle.RANDOM_NORMAL, 0, shape);
    }

    /** As {@link #randn(long...)}, from stream {@code stream} (>= 0) of this seed. */
    public Sym randn(long[] shape, int stream) {
        return random(GraphHandle.RANDOM_NORMAL, stream, shape);
    }

    /** Rademacher noise (-1 or +1, each with probability 1/2), as {@link #randn(long...)} otherwise. */
    public Sym rademacher(long... shape) {
        return random(GraphHandle.RANDOM_RADEMACHER, 0, shape);
    }

    /** As {@link #rademacher(long...)}, from stream {@code stream} (>= 0) of this seed. */
    public Sym rademacher(long[] shape, int stream) {
        return random(GraphHandle.RANDOM_RADEMACHER, stream, shape);
    }

    private Sym random(int dist, int stream, long[] shape) {
        Objects.requireNonNull(shape, "shape");
        if (stream < 0) throw new IllegalArgumentException("stream must be >= 0, got " + stream);
        if (shape.length > 4) throw new IllegalArgumentException("noise of rank " + shape.length + ": at most 4");
        long[] ia = new long[2 + shape.length];
        ia[0] = dist;
        ia[1] = shape.length;
        System.arraycopy(shape, 0, ia, 2, shape.length);
        return op(dist == GraphHandle.RANDOM_NORMAL ? "randn" : "rademacher", GraphHandle.RANDOM, new Sym[] {this}, ia,
                new double[] {stream});
    }

    // ------------------------------------------------------------------ plumbing

    static final long[] NO_I = new long[0];
    static final double[] NO_F = new double[0];

    private Sym unary(int code) {
        return op(null, code, new Sym[] {this}, NO_I, NO_F);
    }

    private Sym binary(int code, Sym other) {
        return op(null, code, new Sym[] {this, other}, NO_I, NO_F);
    }

    /** One jdyn_graph_op: the inputs must be of this graph. */
    Sym op(String what, int code, Sym[] inputs, long[] iattr, double[] fattr) {
        long[] ids = new long[inputs.length];
        for (int i = 0; i < inputs.length; i++) {
            Sym s = inputs[i];
            Objects.requireNonNull(s, (what == null ? "operand" : what + ": operand") + " " + i + " is null");
            sameGraph(what, s);
            ids[i] = s.id;
        }
        return new Sym(graph, graph.handle().op(code, ids, iattr, fattr));
    }

    void sameGraph(String what, Sym other) {
        if (other.graph != graph) {
            throw new IllegalArgumentException((what == null ? "" : what + ": ") + "the operands belong to different"
                    + " graphs (" + this + " of " + graph + ", " + other + " of " + other.graph
                    + "): build every Sym of one program from one Graph");
        }
    }

    /** A Python-style dimension, checked against rank (the native core never sees negative ones). */
    static int axis(String what, int dim, int rank) {
        int a = dim < 0 ? dim + rank : dim;
        if (a < 0 || a >= rank) {
            throw new IllegalArgumentException(what + ": dim " + dim + " is out of range for a tensor of rank " + rank
                    + " (expected [" + -rank + ", " + (rank - 1) + "])");
        }
        return a;
    }

    /** iattr of RESHAPE, SUM_TO, BROADCAST_TO, FULL: rank, then the dims. */
    static long[] dims(long[] shape) {
        Objects.requireNonNull(shape, "shape");
        long[] d = new long[shape.length + 1];
        d[0] = shape.length;
        System.arraycopy(shape, 0, d, 1, shape.length);
        return d;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Sym s && s.graph == graph && s.id == id;
    }

    @Override
    public int hashCode() {
        return System.identityHashCode(graph) * 31 + Long.hashCode(id);
    }

    @Override
    public String toString() {
        return "Sym(node " + id + (graph.isClosed() ? "" : ", shape " + Arrays.toString(shapeRef())) + ")";
    }
}
