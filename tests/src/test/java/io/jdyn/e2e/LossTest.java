package io.jdyn.e2e;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jdyn.DType;
import io.jdyn.Tensor;
import io.jdyn.train.loss.Cotangents;
import io.jdyn.train.loss.CrossEntropyLoss;
import io.jdyn.train.loss.LossValue;
import io.jdyn.train.loss.MSELoss;
import io.jdyn.train.loss.Metrics;
import io.jdyn.train.loss.NLLLoss;
import io.jdyn.train.loss.Reduction;
import org.junit.jupiter.api.Test;

/** The losses' values against direct formulas and their gradients against finite differences. */
class LossTest {
    private static final double[] LOGITS = {1.0, -2.0, 0.5, 3.0, 0.1, 0.2, -0.3, 0.0, -1.5, 2.5, 2.5, 0.7};
    private static final int[] LABELS = {2, 0, 1};

    /** Central differences of f at x, step h per element. */
    interface Scalar {
        double at(double[] x);
    }

    private static double[] finiteDiff(Scalar f, double[] x, double h) {
        double[] g = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            double[] xp = x.clone(), xm = x.clone();
            xp[i] += h;
            xm[i] -= h;
            g[i] = (f.at(xp) - f.at(xm)) / (2 * h);
        }
        return g;
    }

    private static double ce(double[] x, int[] labels, int c, Reduction r) {
        try (Tensor t = Tensor.of(x, labels.length, c)) {
            return new CrossEntropyLoss(r).value(t, labels);
        }
    }

    @Test
    void crossEntropyValueAndGradient() {
        int c = 4;
        double expected = 0;
        for (int i = 0; i < 3; i++) {
            double s = 0;
            for (int j = 0; j < c; j++) s += Math.exp(LOGITS[i * c + j]);
            expected += Math.log(s) - LOGITS[i * c + LABELS[i]];
        }
        expected /= 3;
        for (Reduction r : Reduction.values()) {
            try (Tensor t = Tensor.of(LOGITS, 3, c); LossValue l = new CrossEntropyLoss(r).compute(t, LABELS)) {
                double scale = r == Reduction.MEAN ? 1 : 3;
                assertEquals(expected * scale, l.value(), 1e-14);
                assertArrayEquals(new long[] {3, c}, l.grad().shape());
                assertEquals(DType.FLOAT64, l.grad().dtype());
                double[] fd = finiteDiff(x -> ce(x, LABELS, c, r), LOGITS, 1e-6);
                assertArrayEquals(fd, l.grad().toDoubleArray(), 1e-8, r.toString());
                // Softmax minus one-hot: each row of the gradient sums to zero.
                double[] g = l.grad().toDoubleArray();
                for (int i = 0; i < 3; i++) {
                    double row = 0;
                    for (int j = 0; j < c; j++) row += g[i * c + j];
                    assertEquals(0, row, 1e-15);
                }
            }
        }
    }

    @Test
    void crossEntropyIsStableForHugeLogits() {
        double[] big = {1000, 0, -1000, 1000};
        try (Tensor t = Tensor.of(big, 2, 2); LossValue l = new CrossEntropyLoss().compute(t, new int[] {0, 0})) {
            // Row 0: log(1 + e^-1000) ~ 0; row 1: 2000.
            assertEquals(1000, l.value(), 1e-9);
            double[] g = l.grad().toDoubleArray();
            for (double v : g) assertTrue(Double.isFinite(v));
            assertArrayEquals(new double[] {0, 0, -0.5, 0.5}, g, 1e-12);
        }
    }

    @Test
    void crossEntropyEqualsNllOfLogSoftmaxAndTakesFloat32AndTensorLabels() {
        try (Tensor t = Tensor.of(DType.FLOAT32, LOGITS, 3, 4); Tensor ls = CrossEntropyLoss.logSoftmax(t);
                Tensor lab = Tensor.of(new double[] {2, 0, 1}, 3); LossValue ce = new CrossEntropyLoss().compute(t, lab);
                LossValue nll = new NLLLoss().compute(ls, LABELS)) {
            assertEquals(DType.FLOAT32, ce.grad().dtype());
            assertEquals(ce.value(), nll.value(), 1e-6);
            // NLL's gradient: -1/N at each label.
            double[] g = nll.grad().toDoubleArray();
            double[] expected = new double[12];
            for (int i = 0; i < 3; i++) expected[i * 4 + LABELS[i]] = -1.0 / 3;
            assertArrayEquals(expected, g, 1e-7);
        }
    }

    @Test
    void nllGradientMatchesFiniteDifferences() {
        double[] fd = finiteDiff(x -> {
            try (Tensor t = Tensor.of(x, 3, 4)) {
                return new NLLLoss(Reduction.SUM).value(t, LABELS);
            }
        }, LOGITS, 1e-6);
        try (Tensor t = Tensor.of(LOGITS, 3, 4); LossValue l = new NLLLoss(Reduction.SUM).compute(t, LABELS)) {
            assertEquals(-(LOGITS[2] + LOGITS[4] + LOGITS[9]), l.value(), 1e-15);
            assertArrayEquals(fd, l.grad().toDoubleArray(), 1e-8);
        }
    }

    @Test
    void mseValueAndGradient() {
        double[] x = {0.5, -1, 2, 3, 0, 1};
        double[] y = {0, -1, 1, 1, 0.5, -1};
        try (Tensor tx = Tensor.of(x, 1, 2, 3); Tensor ty = Tensor.of(y, 1, 2, 3);
                LossValue mean = new MSELoss().compute(tx, ty); LossValue sum = new MSELoss(Reduction.SUM).compute(tx, ty)) {
            double s = 0;
            for (int i = 0; i < 6; i++) s += (x[i] - y[i]) * (x[i] - y[i]);
            assertEquals(s / 6, mean.value(), 1e-15);
            assertEquals(s, sum.value(), 1e-15);
            assertArrayEquals(new long[] {1, 2, 3}, mean.grad().shape());
            double[] fd = finiteDiff(v -> {
                try (Tensor a = Tensor.of(v, 1, 2, 3)) {
                    return new MSELoss().value(a, ty);
                }
            }, x, 1e-6);
            assertArrayEquals(fd, mean.grad().toDoubleArray(), 1e-8);
        }
    }

    @Test
    void accuracyCountsArgmaxHits() {
        try (Tensor t = Tensor.of(LOGITS, 3, 4)) {
            // argmax rows: 3 (3.0), 0 (0.1 is not the max: row 1 = 0.1, 0.2, -0.3, 0.0 -> 1), row 2 ties 2.5 -> 1
            assertArrayEquals(new int[] {3, 1, 1}, Metrics.argmax(t));
            assertEquals(1.0 / 3, Metrics.accuracy(t, LABELS), 1e-15);
            assertEquals(1.0, Metrics.accuracy(t, new int[] {3, 1, 1}));
            assertEquals(0.0, Metrics.accuracy(t, new int[] {0, 0, 0}));
        }
    }

    @Test
    void argumentsAreChecked() {
        try (Tensor t = Tensor.of(LOGITS, 3, 4); Tensor flat = Tensor.of(LOGITS, 12)) {
            assertTrue(assertThrows(IllegalArgumentException.class, () -> new CrossEntropyLoss().compute(t, new int[] {0, 4, 1}))
                    .getMessage().contains("label 1 is 4"));
            assertTrue(assertThrows(IllegalArgumentException.class, () -> new CrossEntropyLoss().compute(t, new int[] {0}))
                    .getMessage().contains("3 rows but 1 labels"));
            assertTrue(assertThrows(IllegalArgumentException.class, () -> new NLLLoss().compute(flat, new int[] {0}))
                    .getMessage().contains("[N, C]"));
            assertTrue(assertThrows(IllegalArgumentException.class, () -> new MSELoss().compute(t, flat)).getMessage()
                    .contains("shape"));
        }
    }

    @Test
    void cotangentOfALastStateLoss() {
        double[] ys = new double[3 * 2 * 2];
        for (int i = 0; i < ys.length; i++) ys[i] = i;
        try (Tensor tys = Tensor.of(ys, 3, 2, 2); Tensor last = Cotangents.lastState(tys);
                Tensor g = Tensor.of(new double[] {1, 2, 3, 4}, 2, 2); Tensor ct = Cotangents.atLastTime(g, 3)) {
            assertArrayEquals(new double[] {8, 9, 10, 11}, last.toDoubleArray());
            assertArrayEquals(new long[] {3, 2, 2}, ct.shape());
            assertArrayEquals(new double[] {0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4}, ct.toDoubleArray());
        }
    }
}
