package io.jdyn.train.optim;

import io.jdyn.Tensor;
import io.jdyn.models.NeuralODE;
import java.util.Locale;

/**
 * SNOpt's co-optimisation of the integration time t1 (Liu, Chen, Theodorou 2021, section 4 and the
 * original's adaptive_t1): t1 is the end of the model's sSpan, moved every {@code t1UpdateFreq}
 * iterations by a Newton step on the quadratic model of L + t1Reg t1^2 / 2 in t1, with
 * dL/dt1 = a(t1) . f(t1, z(t1)) from the adjoint pass ({@code Gradients.times()}).
 * <ul>
 *   <li>Per iteration (after the backward pass, {@link #afterBackward(NeuralODE.Trace)}):
 *       scale = dL/dt1 / batch, Q_t = t1Reg t1 + scale, Q_tt = t1Reg + scale^2, scale2 =
 *       (f . (g + t1Reg t1)) / batch as the original; exponential averages
 *       (momentum 0.99, the first value taken as is).</li>
 *   <li>"baseline": dt1 = -t1Lr * avg(scale2) (gradient descent on t1).</li>
 *   <li>"feedback" (the paper's): dt1 = -t1Lr * avg(Q_t) / avg(Q_tt) (open loop) plus the feedback
 *       -t1Lr * sum(scale * dL/dtheta * dtheta) / avg(Q_tt) (this iteration's scale and gradient), dtheta the parameters' change over the
 *       optimizer's step.</li>
 * </ul>
 * t1 never goes below 0.1. Use: {@code t1TrainItrSetup(it)} before the forward pass, {@code afterBackward(trace)}
 * after the backward pass (before SNOpt's step, which rewrites the gradients), {@link #updateT1()} after
 * the optimizer's step.
 */
public final class IntegrationTimeOptimizer {
    private static final double MOMENTUM = 0.99;
    private static final double MIN_T1 = 0.1;

    private final NeuralODE model;
    private final boolean feedback;
    private final double t1Lr;
    private final double t1Reg;
    private final int t1UpdateFreq;
    private boolean updateItr;
    private double[] pFlat;
    private double[] pGradVal;
    private double scaleVal = Double.NaN;
    private double scaleAvg = Double.NaN;
    private double qtAvg = Double.NaN;
    private double qttAvg = Double.NaN;
    private double scale2Avg = Double.NaN;
    private double open;

    /** method: "baseline" or "feedback"; t1Lr, t1Reg >= 0; t1UpdateFreq >= 1. */
    public IntegrationTimeOptimizer(NeuralODE model, String method, double t1Lr, double t1Reg, int t1UpdateFreq) {
        if (model == null) throw new IllegalArgumentException("model is null");
        String m = method == null ? "" : method.toLowerCase(Locale.ROOT);
        if (!m.equals("baseline") && !m.equals("feedback")) {
            throw new IllegalArgumentException("adaptive_t1 must be \"baseline\" or \"feedback\", got " + method);
        }
        if (!(t1Lr >= 0) || !Double.isFinite(t1Lr)) throw new IllegalArgumentException("t1Lr must be finite and >= 0, got " + t1Lr);
        if (!(t1Reg >= 0) || !Double.isFinite(t1Reg)) throw new IllegalArgumentException("t1Reg must be finite and >= 0, got " + t1Reg);
        if (t1UpdateFreq < 1) throw new IllegalArgumentException("t1UpdateFreq must be >= 1, got " + t1UpdateFreq);
        double[] span = model.sSpan();
        if (span.length != 2 || !(span[1] > span[0])) {
            throw new IllegalArgumentException("t1 co-optimisation needs an increasing sSpan [t0, t1], got "
                    + java.util.Arrays.toString(span));
        }
        this.model = model;
        this.feedback = m.equals("feedback");
        this.t1Lr = t1Lr;
        this.t1Reg = t1Reg;
        this.t1UpdateFreq = t1UpdateFreq;
    }

    public double t1() {
        double[] s = model.sSpan();
        return s[s.length - 1];
    }

    public String method() {
        return feedback ? "feedback" : "baseline";
    }

    /** Before the forward pass of iteration trainIt (0-based): t1 moves after iterations trainIt + 1 = k * freq. */
    public void t1TrainItrSetup(long trainIt) {
        updateItr = (trainIt + 1) % t1UpdateFreq == 0;
        if (feedback && updateItr) pFlat = model.parameters().values().toDoubleArray();
    }

    /** After the backward pass of a final-state trace of the model: records dL/dt1 and, for feedback, dL/dtheta. */
    public void afterBackward(NeuralODE.Trace trace) {
        double[] times = trace.gradients().times();
        double dLdt1 = times[times.length - 1];
        long batch = model.lastBatchSize();
        double t1 = t1();
        // f . (g + reg t1) summed = dL/dt1 + reg t1 * sum(f): sum(f) over the batch and components.
        double sumF = sumOfField(trace.output(), t1);
        double scale = dLdt1 / batch;
        double qt = t1Reg * t1 + scale;
        double qtt = t1Reg + scale * scale;
        double scale2 = (dLdt1 + t1Reg * t1 * sumF) / batch;
        scaleVal = scale;
        scaleAvg = ema(scaleAvg, scale);
        qtAvg = ema(qtAvg, qt);
        qttAvg = ema(qttAvg, qtt);
        scale2Avg = ema(scale2Avg, scale2);
        open = -t1Lr * qtAvg / qttAvg;
        if (feedback) {
            pGradVal = model.parameters().grad().toDoubleArray();
        }
    }

    private double sumOfField(Tensor z, double t1) {
        // trace.output() belongs to the trace: evaluate f on a copy so closing here frees only ours.
        try (Tensor zc = z.copy(); Tensor f = model.field().forward(t1, zc)) {
            double s = 0;
            for (double v : f.toDoubleArray()) s += v;
            return s;
        }
    }

    private static double ema(double avg, double v) {
        return Double.isNaN(avg) ? v : avg * MOMENTUM + v * (1 - MOMENTUM);
    }

    /** After the optimizer's step: on an update iteration, moves t1 (the model's sSpan end); returns t1. */
    public double updateT1() {
        if (!updateItr) return t1();
        if (Double.isNaN(qttAvg)) {
            throw new IllegalStateException("no backward pass recorded: call afterBackward(trace) before updateT1()");
        }
        double delta;
        if (feedback) {
            double[] now = model.parameters().values().toDoubleArray();
            double s = 0;
            for (int i = 0; i < now.length; i++) s += scaleVal * pGradVal[i] * (now[i] - pFlat[i]);
            delta = open - t1Lr * s / qttAvg;
        } else {
            delta = -t1Lr * scale2Avg;
        }
        double[] span = model.sSpan();
        double t1 = Math.max(MIN_T1, span[1] + delta);
        model.setSSpan(span[0], t1);
        return t1;
    }

    /** The running averages [scale, Q_t, Q_tt, scale2] (for tests and logs). */
    public double[] averages() {
        return new double[] {scaleAvg, qtAvg, qttAvg, scale2Avg};
    }
}
