package io.jdyn.models;

import io.jdyn.Tensor;
import io.jdyn.fn.Fn;
import io.jdyn.fn.Sym;
import io.jdyn.train.loss.Reduction;
import java.util.Arrays;

/**
 * A NeuralODE's integral loss: the field is compiled over [z, c] with c' = l(t, z) (one column per
 * sample), so the running cost is integrated by the same native solve, in the same program as the field,
 * and differentiated by every sensitivity like any state. The column is left out of step-size control
 * (it never steers the forward solve, as the native integral of an {@link io.jdyn.ode.IntegralLoss}) and
 * hidden from the model's inputs and outputs: this class widens inputs, narrows outputs and adds the
 * column's cotangent (1 for a sum over the batch, 1/B for a mean) to a backward pass.
 */
final class IntegralTerm {
    private final IntegralCost cost;
    private final Reduction reduction;
    private final int dim;
    /** Set when the cost is traced: true when it returned one value for the whole batch. */
    private boolean wholeBatch;

    IntegralTerm(IntegralCost cost, Reduction reduction, int dim) {
        this.cost = cost;
        this.reduction = reduction;
        this.dim = dim;
    }

    /** The field over [z, c] (width dim + 1): [f(t, z), l(t, z, f(t, z))]. */
    Fn augment(Fn f) {
        return new Fn() {
            @Override
            public Sym apply(Sym t, Sym s, io.jdyn.fn.Params p) {
                Sym z = s.slice(-1, 0, dim);
                Sym dz = f.apply(t, z, p);
                if (dz == null || !Arrays.equals(dz.shape(), new long[] {-1, dim})) {
                    throw new IllegalArgumentException("the field maps [-1, " + dim + "] to "
                            + (dz == null ? "null" : Arrays.toString(dz.shape())) + ", but a vector field must return [-1, "
                            + dim + "]");
                }
                return Sym.cat(-1, dz, column(cost.apply(t, z, dz, p)));
            }

            @Override
            public String toString() {
                return (f.getClass().isHidden() ? "lambda" : f.toString()) + " with an integral loss";
            }
        };
    }

    private Sym column(Sym l) {
        if (l == null) throw new NullPointerException("the integral loss returned null");
        long[] s = l.shape();
        if (Arrays.equals(s, new long[] {-1, 1})) return l;
        if (Arrays.equals(s, new long[] {-1})) return l.reshape(-1, 1);
        if (s.length == 0 || Arrays.equals(s, new long[] {1})) {
            // One cost for the batch: every row carries it and the loss takes their mean, which is it.
            wholeBatch = true;
            return l.reshape(1, 1).broadcastTo(-1, 1);
        }
        throw new IllegalArgumentException("the integral loss returned shape " + Arrays.toString(s)
                + "; it must be one cost per sample ([-1, 1] or [-1]) or one for the batch ([] or [1])");
    }

    /** The forward solve's step-size control: the state, not the running cost. */
    boolean[] normMask() {
        boolean[] m = new boolean[dim + 1];
        Arrays.fill(m, 0, dim, true);
        return m;
    }

    private boolean mean() {
        return wholeBatch || reduction == Reduction.MEAN;
    }

    /** x [B, dim] with a zero cost column: [B, dim + 1]. */
    Tensor widen(Tensor x) {
        long[] s = x.shape();
        if (s.length != 2 || s[1] != dim) {
            throw new IllegalArgumentException("x has shape " + Arrays.toString(s) + ", expected [batch, " + dim + "]");
        }
        double[] in = x.toDoubleArray();
        int b = Math.toIntExact(s[0]);
        double[] out = new double[b * (dim + 1)];
        for (int i = 0; i < b; i++) System.arraycopy(in, i * dim, out, i * (dim + 1), dim);
        return Tensor.of(x.dtype(), out, b, dim + 1);
    }

    /** y [..., dim + 1] without its cost column: [..., dim] (a copy). */
    Tensor narrow(Tensor y) {
        long[] s = y.shape();
        double[] in = y.toDoubleArray();
        int rows = in.length / (dim + 1);
        double[] out = new double[rows * dim];
        for (int i = 0; i < rows; i++) System.arraycopy(in, i * (dim + 1), out, i * dim, dim);
        long[] ns = s.clone();
        ns[ns.length - 1] = dim;
        return Tensor.of(y.dtype(), out, ns);
    }

    /** The integral loss from the final state [B, dim + 1]: the sum or mean of its cost column. */
    double value(Tensor last) {
        double[] v = last.toDoubleArray();
        int b = v.length / (dim + 1);
        double sum = 0;
        for (int i = 0; i < b; i++) sum += v[i * (dim + 1) + dim];
        return mean() ? sum / b : sum;
    }

    /**
     * The cotangent over [T, B, dim + 1] from one over [T, B, dim] (null: none, an integral loss alone):
     * the cost column gets its weight at the last time only.
     */
    Tensor cotangent(Tensor ct, long nTimes, long batch, io.jdyn.DType dtype) {
        double[] in = ct == null ? null : ct.toDoubleArray();
        int rows = Math.toIntExact(nTimes * batch);
        double[] out = new double[rows * (dim + 1)];
        if (in != null) for (int i = 0; i < rows; i++) System.arraycopy(in, i * dim, out, i * (dim + 1), dim);
        double w = mean() ? 1.0 / batch : 1.0;
        for (long i = (nTimes - 1) * batch; i < rows; i++) out[(int) i * (dim + 1) + dim] = w;
        return Tensor.of(dtype, out, nTimes, batch, dim + 1);
    }
}
