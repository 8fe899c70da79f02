package io.jdyn.e2e;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jdyn.DType;
import io.jdyn.Tensor;
import io.jdyn.TensorClosedException;
import io.jdyn.fn.Graph;
import io.jdyn.fn.Init;
import io.jdyn.fn.ParamInfo;
import io.jdyn.fn.Program;
import io.jdyn.fn.Sym;
import io.jdyn.nn.Basis;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.BiFunction;
import java.util.function.DoubleBinaryOperator;
import java.util.function.DoubleUnaryOperator;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/**
 * Every {@link Sym} operation run as a program (float64) against its definition computed in Java on
 * small arrays; the signature of programs; shape errors naming the op; what Java checks itself.
 */
class SymOpsTest {
    private static final long B = 4;
    private static final double TOL = 1e-13;

    private static double[] random(int n, long seed, double lo, double hi) {
        SplittableRandom r = new SplittableRandom(seed);
        double[] v = new double[n];
        for (int i = 0; i < n; i++) v[i] = r.nextDouble(lo, hi);
        return v;
    }

    /** A concrete shape: -1 replaced by B. */
    private static long[] concrete(long[] shape) {
        long[] s = shape.clone();
        for (int i = 0; i < s.length; i++) {
            if (s[i] == -1) s[i] = B;
        }
        return s.length == 0 ? new long[] {1} : s;
    }

    private static int numel(long[] shape) {
        int n = 1;
        for (long d : concrete(shape)) n *= (int) d;
        return n;
    }

    /** Builds f over arguments of the given shapes, checks the output's symbolic shape, runs it at t on data. */
    private static double[] run(double t, List<long[]> shapes, List<double[]> data, Function<Sym[], Sym> f,
            long[] expectShape) {
        try (Graph g = new Graph()) {
            Sym[] a = new Sym[shapes.size()];
            for (int i = 0; i < a.length; i++) a[i] = g.arg(shapes.get(i));
            Sym out = f.apply(a);
            assertArrayEquals(expectShape, out.shape(), "symbolic shape");
            try (Program p = g.finish(DType.FLOAT64, out)) {
                Tensor[] in = new Tensor[a.length];
                try {
                    for (int i = 0; i < a.length; i++) in[i] = Tensor.of(data.get(i), concrete(shapes.get(i)));
                    Tensor[] res = p.run(null, t, in);
                    try {
                        assertEquals(1, res.length);
                        assertArrayEquals(concrete(expectShape), res[0].shape(), "run shape");
                        return res[0].toDoubleArray();
                    } finally {
                        for (Tensor r : res) r.close();
                    }
                } finally {
                    for (Tensor x : in) {
                        if (x != null) x.close();
                    }
                }
            }
        }
    }

    private static double[] run1(long[] shape, double[] x, Function<Sym, Sym> f, long[] expectShape) {
        return run(0.0, List.of(shape), List.of(x), a -> f.apply(a[0]), expectShape);
    }

    private static double[] run2(long[] sa, double[] a, long[] sb, double[] b, BiFunction<Sym, Sym, Sym> f,
            long[] expectShape) {
        return run(0.0, List.of(sa, sb), List.of(a, b), s -> f.apply(s[0], s[1]), expectShape);
    }

    private static void near(double[] want, double[] got, String what) {
        assertEquals(want.length, got.length, what + ": length");
        for (int i = 0; i < want.length; i++) {
            double tol = TOL * Math.max(1, Math.abs(want[i]));
            if (!(Math.abs(want[i] - got[i]) <= tol) && !(Double.compare(want[i], got[i]) == 0)) {
                throw new AssertionError(what + "[" + i + "]: want " + want[i] + " got " + got[i] + "\n want "
                        + Arrays.toString(want) + "\n got  " + Arrays.toString(got));
            }
        }
    }

    private static double[] map(double[] x, DoubleUnaryOperator f) {
        double[] y = new double[x.length];
        for (int i = 0; i < x.length; i++) y[i] = f.applyAsDouble(x[i]);
        return y;
    }

    private static double[] zip(double[] x, double[] y, DoubleBinaryOperator f) {
        double[] z = new double[x.length];
        for (int i = 0; i < x.length; i++) z[i] = f.applyAsDouble(x[i], y[i]);
        return z;
    }

    private static final long[] BD = {-1, 3};
    private static final double[] X = random((int) (B * 3), 1, -2, 2);
    private static final double[] Y = random((int) (B * 3), 2, -2, 2);
    private static final double[] POS = random((int) (B * 3), 3, 0.2, 3);

    private static void unary(String name, Function<Sym, Sym> op, DoubleUnaryOperator def, double[] x) {
        near(map(x, def), run1(BD, x, op, BD), name);
    }

    private static void binary(String name, BiFunction<Sym, Sym, Sym> op, DoubleBinaryOperator def, double[] y) {
        near(zip(X, y, def), run2(BD, X, BD, y, op, BD), name);
    }

    private static double sigmoid(double x) {
        return 1 / (1 + Math.exp(-x));
    }

    private static double softplus(double x, double beta, double threshold) {
        return beta * x > threshold ? x : Math.log1p(Math.exp(beta * x)) / beta;
    }

    @Test
    void elementwiseUnaryOpsMatchTheirDefinitions() {
        unary("neg", Sym::neg, v -> -v, X);
        unary("exp", Sym::exp, Math::exp, X);
        unary("log", Sym::log, Math::log, POS);
        unary("sqrt", Sym::sqrt, Math::sqrt, POS);
        unary("square", Sym::square, v -> v * v, X);
        unary("abs", Sym::abs, Math::abs, X);
        unary("sin", Sym::sin, Math::sin, X);
        unary("cos", Sym::cos, Math::cos, X);
        unary("tanh", Sym::tanh, Math::tanh, X);
        unary("sigmoid", Sym::sigmoid, SymOpsTest::sigmoid, X);
        unary("relu", Sym::relu, v -> Math.max(0, v), X);
        unary("silu", Sym::silu, v -> v * sigmoid(v), X);
        unary("softplus()", Sym::softplus, v -> softplus(v, 1, 20), X);
        unary("softplus(2, 1.5)", x -> x.softplus(2, 1.5), v -> softplus(v, 2, 1.5), X);
        unary("elu()", Sym::elu, v -> v > 0 ? v : Math.expm1(v), X);
        unary("elu(0.7)", x -> x.elu(0.7), v -> v > 0 ? v : 0.7 * Math.expm1(v), X);
        unary("pow(3)", x -> x.pow(3), v -> v * v * v, X);
        unary("pow(1.7)", x -> x.pow(1.7), v -> Math.pow(v, 1.7), POS);
        unary("pow(-0.5)", x -> x.pow(-0.5), v -> Math.pow(v, -0.5), POS);
        unary("sign", Sym::sign, Math::signum, X);
        unary("step", Sym::step, v -> v > 0 ? 1 : 0, X);
        unary("clamp", x -> x.clamp(-0.5, 1), v -> Math.min(1, Math.max(-0.5, v)), X);
        unary("add(2.5)", x -> x.add(2.5), v -> v + 2.5, X);
        unary("sub(2.5)", x -> x.sub(2.5), v -> v - 2.5, X);
        unary("rsub(2.5)", x -> x.rsub(2.5), v -> 2.5 - v, X);
        unary("mul(-1.5)", x -> x.mul(-1.5), v -> v * -1.5, X);
        unary("div(4)", x -> x.div(4), v -> v / 4, X);
        unary("rdiv(3)", x -> x.rdiv(3), v -> 3 / v, POS);
        unary("gt(0.3)", x -> x.gt(0.3), v -> v > 0.3 ? 1 : 0, X);
        unary("lt(0.3)", x -> x.lt(0.3), v -> v < 0.3 ? 1 : 0, X);
        unary("eq(x)", x -> x.eq(x), v -> 1, X);
        unary("maximum(0.1)", x -> x.maximum(0.1), v -> Math.max(v, 0.1), X);
        unary("minimum(0.1)", x -> x.minimum(0.1), v -> Math.min(v, 0.1), X);
        unary("onesLike + x", x -> x.onesLike().add(x), v -> 1 + v, X);
        unary("zerosLike * 0 + x", x -> x.zerosLike().add(x.mul(2)), v -> 2 * v, X);
        unary("newFull", x -> x.newFull(0.25, -1, 3).mul(x), v -> 0.25 * v, X);
    }

    @Test
    void elementwiseBinaryOpsMatchTheirDefinitions() {
        binary("add", Sym::add, Double::sum, Y);
        binary("sub", Sym::sub, (a, b) -> a - b, Y);
        binary("mul", Sym::mul, (a, b) -> a * b, Y);
        binary("div", Sym::div, (a, b) -> a / b, POS);
        binary("gt", Sym::gt, (a, b) -> a > b ? 1 : 0, Y);
        binary("lt", Sym::lt, (a, b) -> a < b ? 1 : 0, Y);
        double[] half = X.clone();
        for (int i = 0; i < half.length; i += 2) half[i] = i % 4 == 0 ? X[i] : half[i] + 1;
        binary("eq", Sym::eq, (a, b) -> a == b ? 1 : 0, half);
        binary("maximum", Sym::maximum, Math::max, Y);
        binary("minimum", Sym::minimum, Math::min, Y);
        // where(c, a, b) with c = x > y.
        near(zip(X, Y, (a, b) -> a > b ? a * 2 : b - 1),
                run2(BD, X, BD, Y, (a, b) -> Sym.where(a.gt(b), a.mul(2), b.sub(1)), BD), "where");
        // Broadcasting an unbatched [3] over the batch, and a scalar.
        double[] row = {0.5, -1, 2};
        double[] want = new double[X.length];
        for (int i = 0; i < X.length; i++) want[i] = X[i] * row[i % 3] + 1;
        near(want, run2(BD, X, new long[] {3}, row, (a, b) -> a.mul(b).add(1), BD), "broadcast [3]");
        double[] col = {2, 3, 4, 5};
        for (int i = 0; i < X.length; i++) want[i] = X[i] - col[i / 3];
        near(want, run2(BD, X, new long[] {-1, 1}, col, Sym::sub, BD), "broadcast [-1, 1]");
    }

    @Test
    void productsMatchTheirDefinitions() {
        double[] w = random(6, 4, -1, 1); // [3, 2]
        double[] want = new double[(int) B * 2];
        for (int r = 0; r < B; r++) {
            for (int j = 0; j < 2; j++) {
                for (int k = 0; k < 3; k++) want[r * 2 + j] += X[r * 3 + k] * w[k * 2 + j];
            }
        }
        near(want, run1(BD, X, x -> x.matmul(x.graph().constant(w, 3, 2)), new long[] {-1, 2}), "matmul");
        // trans_b: w read as [2, 3] transposed.
        double[] wt = new double[6];
        for (int k = 0; k < 3; k++) {
            for (int j = 0; j < 2; j++) wt[j * 3 + k] = w[k * 2 + j];
        }
        near(want, run1(BD, X, x -> x.matmul(x.graph().constant(wt, 2, 3), false, true), new long[] {-1, 2}),
                "matmul transB");
        // trans_a: x^T y summed over the batch: [3, 3].
        double[] ata = new double[9];
        for (int r = 0; r < B; r++) {
            for (int i = 0; i < 3; i++) {
                for (int j = 0; j < 3; j++) ata[i * 3 + j] += X[r * 3 + i] * Y[r * 3 + j];
            }
        }
        near(ata, run2(BD, X, BD, Y, (a, b) -> a.matmul(b, true, false), new long[] {3, 3}), "matmul transA");
        // linear: x W^T + b, W [2, 3].
        double[] bias = {0.25, -0.5};
        double[] lin = new double[(int) B * 2];
        for (int r = 0; r < B; r++) {
            for (int j = 0; j < 2; j++) lin[r * 2 + j] = want[r * 2 + j] + bias[j];
        }
        near(lin, run1(BD, X, x -> x.linear(x.graph().constant(wt, 2, 3), x.graph().constant(bias, 2)),
                new long[] {-1, 2}), "linear");
        near(want, run1(BD, X, x -> x.linear(x.graph().constant(wt, 2, 3), null), new long[] {-1, 2}),
                "linear without bias");
        // bmm: [-1, 2, 3] x [-1, 3, 2].
        double[] a = random((int) B * 6, 5, -1, 1), b = random((int) B * 6, 6, -1, 1);
        double[] bm = new double[(int) B * 4];
        for (int r = 0; r < B; r++) {
            for (int i = 0; i < 2; i++) {
                for (int j = 0; j < 2; j++) {
                    for (int k = 0; k < 3; k++) bm[r * 4 + i * 2 + j] += a[r * 6 + i * 3 + k] * b[r * 6 + k * 2 + j];
                }
            }
        }
        near(bm, run2(new long[] {-1, 2, 3}, a, new long[] {-1, 3, 2}, b, Sym::bmm, new long[] {-1, 2, 2}), "bmm");
        // t() of an unbatched matrix: wt^T = w.
        near(w, run1(BD, X, x -> x.graph().constant(wt, 2, 3).t().add(x.sum(0).sum().mul(0)), new long[] {3, 2}),
                "t()");
    }

    @Test
    void reductionsMatchTheirDefinitions() {
        double[] rowSum = new double[(int) B], rowMax = new double[(int) B], colSum = new double[3];
        double total = 0;
        for (int r = 0; r < B; r++) {
            rowMax[r] = Double.NEGATIVE_INFINITY;
            for (int k = 0; k < 3; k++) {
                double v = X[r * 3 + k];
                rowSum[r] += v;
                colSum[k] += v;
                rowMax[r] = Math.max(rowMax[r], v);
                total += v;
            }
        }
        near(rowSum, run1(BD, X, x -> x.sum(1), new long[] {-1}), "sum(1)");
        near(rowSum, run1(BD, X, x -> x.sum(-1, true), new long[] {-1, 1}), "sum(-1, keepdim)");
        near(colSum, run1(BD, X, x -> x.sum(0), new long[] {3}), "sum(0) over the batch");
        near(new double[] {total}, run1(BD, X, Sym::sum, new long[0]), "sum()");
        near(map(rowSum, v -> v / 3), run1(BD, X, x -> x.mean(1), new long[] {-1}), "mean(1)");
        near(map(colSum, v -> v / B), run1(BD, X, x -> x.mean(0, true), new long[] {1, 3}), "mean(0, keepdim)");
        near(new double[] {total / (3 * B)}, run1(BD, X, Sym::mean, new long[0]), "mean()");
        near(rowMax, run1(BD, X, x -> x.max(-1), new long[] {-1}), "max(-1)");
        double[] sm = new double[X.length], lsm = new double[X.length];
        for (int r = 0; r < B; r++) {
            double z = 0;
            for (int k = 0; k < 3; k++) z += Math.exp(X[r * 3 + k] - rowMax[r]);
            for (int k = 0; k < 3; k++) {
                sm[r * 3 + k] = Math.exp(X[r * 3 + k] - rowMax[r]) / z;
                lsm[r * 3 + k] = X[r * 3 + k] - rowMax[r] - Math.log(z);
            }
        }
        near(sm, run1(BD, X, x -> x.softmax(-1), BD), "softmax");
        near(lsm, run1(BD, X, x -> x.logSoftmax(1), BD), "logSoftmax");
        // Over a 3-d tensor: sum of every element.
        double[] c = random((int) B * 6, 7, -1, 1);
        near(new double[] {Arrays.stream(c).sum()}, run1(new long[] {-1, 2, 3}, c, Sym::sum, new long[0]), "sum() 3-d");
    }

    @Test
    void shapeOpsMatchTheirDefinitions() {
        near(X, run1(BD, X, x -> x.reshape(-1, 3, 1), new long[] {-1, 3, 1}), "reshape");
        double[] s = new double[(int) B * 2], last = new double[(int) B], mid = new double[(int) B];
        for (int r = 0; r < B; r++) {
            s[r * 2] = X[r * 3];
            s[r * 2 + 1] = X[r * 3 + 1];
            last[r] = X[r * 3 + 2];
            mid[r] = X[r * 3 + 1];
        }
        near(s, run1(BD, X, x -> x.slice(1, 0, 2), new long[] {-1, 2}), "slice(1, 0, 2)");
        near(s, run1(BD, X, x -> x.slice(-1, -3, -1), new long[] {-1, 2}), "slice(-1, -3, -1)");
        near(last, run1(BD, X, x -> x.slice(1, -1, 3), new long[] {-1, 1}), "slice(1, -1, 3)");
        near(mid, run1(BD, X, x -> x.select(1, 1), new long[] {-1}), "select(1, 1)");
        near(last, run1(BD, X, x -> x.select(-1, -1), new long[] {-1}), "select(-1, -1)");
        double[] padded = new double[(int) B * 6];
        for (int r = 0; r < B; r++) System.arraycopy(X, r * 3, padded, r * 6 + 1, 3);
        near(padded, run1(BD, X, x -> x.pad(1, 1, 2), new long[] {-1, 6}), "pad");
        double[] cat = new double[(int) B * 6], stack = new double[(int) B * 6];
        for (int r = 0; r < B; r++) {
            System.arraycopy(X, r * 3, cat, r * 6, 3);
            System.arraycopy(Y, r * 3, cat, r * 6 + 3, 3);
            for (int k = 0; k < 3; k++) {
                stack[r * 6 + k * 2] = X[r * 3 + k];
                stack[r * 6 + k * 2 + 1] = Y[r * 3 + k];
            }
        }
        near(cat, run2(BD, X, BD, Y, (a, b) -> Sym.cat(-1, a, b), new long[] {-1, 6}), "cat(-1)");
        near(cat, run2(BD, X, BD, Y, (a, b) -> Sym.stack(1, a, b), new long[] {-1, 2, 3}), "stack(1)");
        near(stack, run2(BD, X, BD, Y, (a, b) -> Sym.stack(-1, a, b), new long[] {-1, 3, 2}), "stack(-1)");
        double[] tr = new double[(int) B * 6];
        double[] a = random((int) B * 6, 8, -1, 1);
        for (int r = 0; r < B; r++) {
            for (int i = 0; i < 2; i++) {
                for (int j = 0; j < 3; j++) tr[r * 6 + j * 2 + i] = a[r * 6 + i * 3 + j];
            }
        }
        near(tr, run1(new long[] {-1, 2, 3}, a, Sym::transpose, new long[] {-1, 3, 2}), "transpose");
        double[] row = {1, 2, 3};
        double[] bc = new double[(int) B * 3];
        for (int i = 0; i < bc.length; i++) bc[i] = row[i % 3] + X[i];
        near(bc, run2(new long[] {3}, row, BD, X, (r, x) -> r.broadcastTo(-1, 3).add(x), BD), "broadcastTo");
        double[] colSum = new double[3];
        for (int i = 0; i < X.length; i++) colSum[i % 3] += X[i];
        near(colSum, run1(BD, X, x -> x.sumTo(3), new long[] {3}), "sumTo");
    }

    @Test
    void inputsTimeBasisAndConstantsMatchTheirDefinitions() {
        double t = 0.37;
        near(new double[] {t}, run(t, List.of(BD), List.of(X), s -> s[0].graph().time(), new long[0]), "time");
        double[] tcol = new double[(int) B * 4];
        for (int r = 0; r < B; r++) {
            System.arraycopy(X, r * 3, tcol, r * 4, 3);
            tcol[r * 4 + 3] = t;
        }
        near(tcol, run(t, List.of(BD), List.of(X), s -> Sym.cat(1, s[0], s[0].graph().time().broadcastTo(-1, 1)),
                new long[] {-1, 4}), "DepthCat's t column");
        near(new double[] {1, t, t * t}, run(t, List.of(BD), List.of(X),
                s -> s[0].graph().time().basis(Basis.polynomial(), 3), new long[] {3}), "polynomial basis");
        double w = 2 * Math.PI / 2.0;
        near(new double[] {1, Math.cos(w * t), Math.sin(w * t), Math.cos(2 * w * t), Math.sin(2 * w * t)},
                run(t, List.of(BD), List.of(X), s -> s[0].graph().time().basis(Basis.fourier(2.0), 5), new long[] {5}),
                "Fourier basis");
        near(new double[] {0, 1, 2 * t}, run(t, List.of(BD), List.of(X),
                s -> s[0].graph().time().basis(Basis.polynomial(), 3, 1), new long[] {3}), "polynomial basis, d/dt");
        // A scalar argument.
        near(new double[] {2.5 * 3}, run(0, List.of(new long[0]), List.of(new double[] {2.5}), s -> s[0].mul(3),
                new long[0]), "scalar argument");
    }

    @Test
    void parametersAreLaidOutInDeclarationOrderAndRunFromTheFlatBuffer() {
        try (Graph g = new Graph()) {
            Sym x = g.arg(-1, 3);
            Sym w = g.param("w", Init.uniform(0.5), 2, 3);
            Sym b = g.param("b", Init.constant(0.75), 2);
            Sym s = g.param("s", Init.normal(2), new long[0]);
            Sym y = x.linear(w, b).mul(s);
            try (Program p = g.finish(DType.FLOAT64, y, x.sum(1))) {
                assertEquals(List.of(new ParamInfo("w", new long[] {2, 3}, 0, 6), new ParamInfo("b", new long[] {2}, 6, 2),
                        new ParamInfo("s", new long[0], 8, 1)), p.params());
                assertEquals(9, p.numParams());
                assertEquals(1, p.numArgs());
                assertEquals(2, p.numOutputs());
                assertArrayEquals(new long[] {-1, 3}, p.argShape(0));
                assertArrayEquals(new long[] {-1, 2}, p.outputShape(0));
                assertArrayEquals(new long[] {-1}, p.outputShape(1));
                assertTrue(p.numNodes() > 4 && p.numNodes() < 20, "nodes " + p.numNodes());
                assertEquals(false, p.isVectorField());
                try (Tensor theta = p.initParams(42); Tensor again = p.initParams(42); Tensor xs = Tensor.of(X, B, 3)) {
                    double[] th = theta.toDoubleArray();
                    assertArrayEquals(th, again.toDoubleArray(), 0.0, "reproducible from the seed");
                    for (int i = 0; i < 6; i++) assertTrue(Math.abs(th[i]) <= 0.5, "uniform(0.5): " + th[i]);
                    assertEquals(0.75, th[6], 0.0);
                    assertEquals(0.75, th[7], 0.0);
                    Tensor[] out = p.run(theta, 0, xs);
                    try {
                        double[] y0 = out[0].toDoubleArray();
                        for (int r = 0; r < B; r++) {
                            for (int j = 0; j < 2; j++) {
                                double v = th[6 + j];
                                for (int k = 0; k < 3; k++) v += X[r * 3 + k] * th[j * 3 + k];
                                assertEquals(v * th[8], y0[r * 2 + j], 1e-13);
                            }
                        }
                        assertArrayEquals(new long[] {B}, out[1].shape());
                    } finally {
                        for (Tensor o : out) o.close();
                    }
                    // What Java checks before the native call.
                    assertMessage(() -> p.run(null, 0, xs), "has 9 parameters");
                    assertMessage(() -> p.run(theta, 0), "takes 1 argument");
                    try (Tensor bad = Tensor.of(new double[8], 4, 2); Tensor f32 = Tensor.zeros(DType.FLOAT32, 4, 3)) {
                        assertMessage(() -> p.run(theta, 0, bad), "argument 0 has shape [4, 2] but the program takes [-1, 3]");
                        assertMessage(() -> p.run(theta, 0, f32), "argument 0 is FLOAT32 but the program is FLOAT64");
                    }
                }
            }
        }
    }

    /**
     * The VJP (Graph.grad of L = sum(f(x) * c)) and the JVP (f's tangent along u) of f at x against
     * central differences of the program itself.
     */
    private static void derivatives(String name, long[] xs, double[] x, Function<Sym, Sym> f) {
        try (Graph g = new Graph()) {
            Sym a = g.arg(xs);
            Sym u = g.arg(xs);
            Sym y = f.apply(a);
            Sym c = g.arg(y.shape());
            Sym loss = y.mul(c).sum();
            Sym grad = Graph.grad(loss, a);
            Sym jv = g.jvp(List.of(a), List.of(u), List.of(y)).get(0);
            double[] cv = random(numel(y.shape()), 31, -1, 1), uv = random(x.length, 32, -1, 1);
            try (Program p = g.finish(DType.FLOAT64, loss, grad, y, jv); Tensor ct = Tensor.of(cv, concrete(y.shape()));
                    Tensor ut = Tensor.of(uv, concrete(xs))) {
                java.util.function.Function<double[], Tensor[]> at = xv -> {
                    try (Tensor xt = Tensor.of(xv, concrete(xs))) {
                        return p.run(null, 0.3, xt, ut, ct);
                    }
                };
                Tensor[] base = at.apply(x);
                double[] gv = base[1].toDoubleArray(), jvv = base[3].toDoubleArray();
                for (Tensor t : base) t.close();
                double h = 1e-6;
                for (int i = 0; i < x.length; i++) {
                    double[] xp = x.clone(), xm = x.clone();
                    xp[i] += h;
                    xm[i] -= h;
                    Tensor[] rp = at.apply(xp), rm = at.apply(xm);
                    double fd = (rp[0].toDoubleArray()[0] - rm[0].toDoubleArray()[0]) / (2 * h);
                    for (Tensor t : rp) t.close();
                    for (Tensor t : rm) t.close();
                    assertEquals(fd, gv[i], 1e-6 * Math.max(1, Math.abs(fd)), name + ": VJP [" + i + "]");
                }
                double[] xp = x.clone(), xm = x.clone();
                for (int i = 0; i < x.length; i++) {
                    xp[i] += h * uv[i];
                    xm[i] -= h * uv[i];
                }
                Tensor[] rp = at.apply(xp), rm = at.apply(xm);
                double[] yp = rp[2].toDoubleArray(), ym = rm[2].toDoubleArray();
                for (Tensor t : rp) t.close();
                for (Tensor t : rm) t.close();
                for (int i = 0; i < jvv.length; i++) {
                    double fd = (yp[i] - ym[i]) / (2 * h);
                    assertEquals(fd, jvv[i], 1e-6 * Math.max(1, Math.abs(fd)), name + ": JVP [" + i + "]");
                }
            }
        }
    }

    @Test
    void everyDifferentiableOpHasVjpAndJvpMatchingFiniteDifferences() {
        double[] w = random(6, 40, -1, 1), row = {0.5, -1, 2};
        List<Object[]> cases = List.of(
                new Object[] {"neg", (Function<Sym, Sym>) Sym::neg, X},
                new Object[] {"exp", (Function<Sym, Sym>) Sym::exp, X},
                new Object[] {"log", (Function<Sym, Sym>) Sym::log, POS},
                new Object[] {"sqrt", (Function<Sym, Sym>) Sym::sqrt, POS},
                new Object[] {"square", (Function<Sym, Sym>) Sym::square, X},
                new Object[] {"abs", (Function<Sym, Sym>) Sym::abs, X},
                new Object[] {"sin", (Function<Sym, Sym>) Sym::sin, X},
                new Object[] {"cos", (Function<Sym, Sym>) Sym::cos, X},
                new Object[] {"tanh", (Function<Sym, Sym>) Sym::tanh, X},
                new Object[] {"sigmoid", (Function<Sym, Sym>) Sym::sigmoid, X},
                new Object[] {"relu", (Function<Sym, Sym>) Sym::relu, X},
                new Object[] {"silu", (Function<Sym, Sym>) Sym::silu, X},
                new Object[] {"softplus(2, 1.5)", (Function<Sym, Sym>) x -> x.softplus(2, 1.5), X},
                new Object[] {"elu(0.7)", (Function<Sym, Sym>) x -> x.elu(0.7), X},
                new Object[] {"pow(1.7)", (Function<Sym, Sym>) x -> x.pow(1.7), POS},
                new Object[] {"x * x.exp() / (1 + x^2)", (Function<Sym, Sym>) x -> x.mul(x.exp()).div(x.square().add(1)), X},
                new Object[] {"x - sin x", (Function<Sym, Sym>) x -> x.sub(x.sin()), X},
                new Object[] {"maximum/minimum", (Function<Sym, Sym>) x -> x.maximum(x.sin()).add(x.minimum(x.cos())), X},
                new Object[] {"where", (Function<Sym, Sym>) x -> Sym.where(x.gt(0), x.square(), x.sin()), X},
                new Object[] {"broadcast [3]", (Function<Sym, Sym>) x -> x.mul(x.graph().constant(row, 3)), X},
                new Object[] {"matmul", (Function<Sym, Sym>) x -> x.matmul(x.graph().constant(w, 3, 2)), X},
                new Object[] {"matmul transA", (Function<Sym, Sym>) x -> x.matmul(x.tanh(), true, false), X},
                new Object[] {"linear", (Function<Sym, Sym>) x -> x.linear(x.graph().constant(w, 2, 3),
                        x.graph().constant(new double[] {1, -1}, 2)), X},
                new Object[] {"sum(1)", (Function<Sym, Sym>) x -> x.sum(1), X},
                new Object[] {"sum(0)", (Function<Sym, Sym>) x -> x.sum(0), X},
                new Object[] {"mean(1, keepdim)", (Function<Sym, Sym>) x -> x.mean(1, true), X},
                new Object[] {"mean(0)", (Function<Sym, Sym>) x -> x.mean(0), X},
                new Object[] {"mean()", (Function<Sym, Sym>) Sym::mean, X},
                new Object[] {"max(1)", (Function<Sym, Sym>) x -> x.max(1), X},
                new Object[] {"softmax", (Function<Sym, Sym>) x -> x.softmax(-1), X},
                new Object[] {"logSoftmax", (Function<Sym, Sym>) x -> x.logSoftmax(-1), X},
                new Object[] {"reshape", (Function<Sym, Sym>) x -> x.reshape(-1, 3, 1).tanh(), X},
                new Object[] {"slice + pad", (Function<Sym, Sym>) x -> x.slice(1, 1, 3).pad(1, 2, 1).exp(), X},
                new Object[] {"select", (Function<Sym, Sym>) x -> x.select(1, -1).square(), X},
                new Object[] {"cat", (Function<Sym, Sym>) x -> Sym.cat(1, x.sin(), x.square()), X},
                new Object[] {"stack", (Function<Sym, Sym>) x -> Sym.stack(1, x.sin(), x.square()), X},
                new Object[] {"transpose", (Function<Sym, Sym>) x -> x.reshape(-1, 3, 1).matmul(x.graph().constant(
                        new double[] {1, 2}, 1, 2)).transpose().sin(), X},
                new Object[] {"time", (Function<Sym, Sym>) x -> x.mul(x.graph().time().sin()), X});
        for (Object[] c : cases) {
            @SuppressWarnings("unchecked")
            Function<Sym, Sym> f = (Function<Sym, Sym>) c[1];
            derivatives((String) c[0], BD, (double[]) c[2], f);
        }
        double[] a = random((int) B * 6, 41, -1, 1);
        derivatives("bmm", new long[] {-1, 2, 3}, a, x -> x.bmm(x.transpose()));
    }

    private static String assertMessage(Executable e, String part) {
        IllegalArgumentException x = assertThrows(IllegalArgumentException.class, e);
        assertTrue(x.getMessage().contains(part), "message \"" + x.getMessage() + "\" lacks \"" + part + "\"");
        return x.getMessage();
    }

    @Test
    void shapeErrorsNameTheOpAndTheShapes() {
        try (Graph g = new Graph()) {
            Sym x = g.arg(-1, 3);
            assertMessage(() -> x.matmul(g.constant(new double[4], 2, 2)), "MATMUL");
            assertMessage(() -> x.linear(g.constant(new double[4], 2, 2), null), "LINEAR");
            String m = assertMessage(() -> x.add(g.constant(new double[2], 2)), "ADD");
            assertTrue(m.contains("[batch, 3]") && m.contains("[2]"), m);
            assertMessage(() -> Sym.cat(1, x, g.arg(-1, 2, 1)), "CONCAT");
            assertMessage(() -> x.reshape(-1, 4), "RESHAPE");
            assertMessage(() -> x.slice(1, 2, 5), "SLICE");
            assertMessage(() -> x.transpose(), "TRANSPOSE");
            assertMessage(() -> x.bmm(x), "BMM");
            assertMessage(() -> g.param("w", Init.zeros(), -1, 3), "cannot be batched");
            g.param("w", Init.zeros(), 3);
            assertMessage(() -> g.param("w", Init.zeros(), 3), "duplicate parameter");
            // Java's own checks: Python-style dims, array lengths, graphs mixed up.
            assertMessage(() -> x.sum(-3), "sum: dim -3 is out of range");
            assertMessage(() -> x.slice(0, -2, -1), "batch");
            assertMessage(() -> Sym.stack(0, x, x), "before the batch");
            assertMessage(() -> g.constant(new double[3], 2, 2), "holds 4 values but 3 were given");
            assertMessage(() -> g.vjp(List.of(x), List.of(), List.of(x)), "1 outputs but 0 cotangents");
            try (Graph other = new Graph()) {
                Sym y = other.arg(-1, 3);
                assertMessage(() -> x.add(y), "different graphs");
                assertMessage(() -> Sym.cat(1, x, y), "different graphs");
                assertMessage(() -> Graph.grad(x.sum(), y), "another graph");
                assertMessage(() -> g.finish(DType.FLOAT64, y), "another graph");
            }
        }
        Graph closed = new Graph();
        Sym z = closed.arg(-1, 2);
        closed.close();
        assertThrows(TensorClosedException.class, () -> z.add(z));
    }
}
