package io.jdyn.spark;

import java.io.Serializable;
import java.math.BigDecimal;

/**
 * What the tree aggregation of a training round sums: the loss, the gradient, the sample count and
 * the time spent natively. Loss and gradient are summed exactly (BigDecimal holds any sum of doubles
 * without rounding) and rounded once on the driver, so the result does not depend on the shape of the
 * tree or on the order in which tasks finish: the same partitions give the same bits every run.
 */
final class PartialSum implements Serializable {
    private static final long serialVersionUID = 1L;

    private BigDecimal loss = BigDecimal.ZERO;
    /** null until a partition with samples adds its gradient. */
    private BigDecimal[] grad;
    private long count;
    private long nativeNanosSum;
    private long nativeNanosMax;

    static PartialSum empty() {
        return new PartialSum();
    }

    /** One partition's result: its summed loss and gradient over count samples, and its native time. */
    static PartialSum of(double loss, double[] grad, long count, long nativeNanos) {
        PartialSum p = new PartialSum();
        p.loss = new BigDecimal(loss);
        p.grad = new BigDecimal[grad.length];
        for (int i = 0; i < grad.length; i++) p.grad[i] = new BigDecimal(grad[i]);
        p.count = count;
        p.nativeNanosSum = nativeNanos;
        p.nativeNanosMax = nativeNanos;
        return p;
    }

    /** Adds other into this (Spark lets combOp reuse its first argument) and returns this. */
    PartialSum merge(PartialSum other) {
        loss = loss.add(other.loss);
        if (other.grad != null) {
            if (grad == null) {
                grad = other.grad.clone();
            } else {
                if (grad.length != other.grad.length) {
                    throw new IllegalStateException("partitions returned gradients of " + grad.length + " and "
                            + other.grad.length + " values");
                }
                for (int i = 0; i < grad.length; i++) grad[i] = grad[i].add(other.grad[i]);
            }
        }
        count += other.count;
        nativeNanosSum += other.nativeNanosSum;
        nativeNanosMax = Math.max(nativeNanosMax, other.nativeNanosMax);
        return this;
    }

    long count() {
        return count;
    }

    /** The summed loss divided by units, rounded once. */
    double loss(long units) {
        return loss.divide(BigDecimal.valueOf(units), java.math.MathContext.DECIMAL128).doubleValue();
    }

    /** The summed gradient divided by units, each value rounded once; empty when nothing was summed. */
    double[] grad(long units) {
        if (grad == null) return new double[0];
        double[] g = new double[grad.length];
        BigDecimal u = BigDecimal.valueOf(units);
        for (int i = 0; i < g.length; i++) g[i] = grad[i].divide(u, java.math.MathContext.DECIMAL128).doubleValue();
        return g;
    }

    long nativeNanosSum() {
        return nativeNanosSum;
    }

    long nativeNanosMax() {
        return nativeNanosMax;
    }
}
