package io.jdyn.bench;

import io.jdyn.nn.Parameters;
import java.util.Arrays;

/**
 * A plain Adam (Kingma and Ba; PyTorch's defaults betas 0.9 / 0.999, eps 1e-8, no weight decay) over
 * the flat parameter and gradient tensors of a {@link io.jdyn.nn.NeuralField}: reads both as doubles,
 * updates in double precision, and writes the values back layer by layer (rounded to the field's dtype).
 */
final class Adam {
    static final double BETA1 = 0.9;
    static final double BETA2 = 0.999;
    static final double EPS = 1e-8;

    private final Parameters params;
    private final double lr;
    private double[] m;
    private double[] v;
    private long t;

    /** The parameter values and the optimiser's moments at one moment, to restore later. */
    record State(double[] values, double[] m, double[] v, long t) {}

    Adam(Parameters params, double lr) {
        this.params = params;
        this.lr = lr;
        int n = Math.toIntExact(params.numParams());
        this.m = new double[n];
        this.v = new double[n];
    }

    /** One update from the gradients in params.grad(). */
    void step() {
        double[] w = params.values().toDoubleArray();
        double[] g = params.grad().toDoubleArray();
        t++;
        double c1 = 1 - Math.pow(BETA1, t);
        double c2 = 1 - Math.pow(BETA2, t);
        for (int i = 0; i < w.length; i++) {
            m[i] = BETA1 * m[i] + (1 - BETA1) * g[i];
            v[i] = BETA2 * v[i] + (1 - BETA2) * g[i] * g[i];
            w[i] -= lr * (m[i] / c1) / (Math.sqrt(v[i] / c2) + EPS);
        }
        write(w);
    }

    State snapshot() {
        return new State(params.values().toDoubleArray(), m.clone(), v.clone(), t);
    }

    void restore(State s) {
        write(s.values());
        m = s.m().clone();
        v = s.v().clone();
        t = s.t();
    }

    private void write(double[] w) {
        for (int layer = 0; layer < params.numLayers(); layer++) {
            long count = params.count(layer);
            if (count == 0) continue;
            int off = Math.toIntExact(params.offset(layer));
            params.setLayerValues(layer, Arrays.copyOfRange(w, off, off + (int) count));
        }
    }
}
