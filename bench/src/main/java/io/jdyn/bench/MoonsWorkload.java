package io.jdyn.bench;

import io.jdyn.DType;
import io.jdyn.Tensor;
import io.jdyn.nn.Linear;
import io.jdyn.nn.NeuralField;
import io.jdyn.nn.Sequential;
import io.jdyn.nn.Tanh;
import io.jdyn.ode.GradOptions;
import io.jdyn.ode.Sensitivity;
import io.jdyn.ode.SolveOptions;
import java.util.Random;

/**
 * The moons workload of the gradient benchmarks: 512 two-moons points as scikit-learn's
 * {@code make_moons(n_samples=512, noise=0.1, random_state=seed)} builds them (outer half circle
 * (cos(pi s), sin(pi s)) and inner one (1 - cos(pi s), 1 - sin(pi s) - 0.5), s = linspace(0, 1) over
 * each half, 256 points each, shuffled, then Gaussian noise of standard deviation 0.1), labels 0 for
 * the outer and 1 for the inner moon. The random numbers are java.util.Random's, seeded, so the points
 * are not numpy's but are drawn the same way. The model is a Neural ODE over t in [0, 1] whose final
 * state's two coordinates are the logits of the two classes.
 */
final class MoonsWorkload {
    static final int N = 512;
    static final double NOISE = 0.1;
    static final long DATA_SEED = 0;
    /** The seed of the fields' (PyTorch-style) initialisation. */
    static final long INIT_SEED = 1;
    /** Adam steps that turn the seeded initialisation into "the trained moons field". */
    static final int PRETRAIN_STEPS = 50;
    static final double LR = 1e-2;
    static final double TOL = 1e-4;
    static final double[] T = {0, 1};

    /** Points [N * 2], row-major. */
    final double[] x;
    /** Labels, 0 or 1. */
    final int[] labels;

    private MoonsWorkload(double[] x, int[] labels) {
        this.x = x;
        this.labels = labels;
    }

    /** The 512-point data set with noise 0.1 and seed 0. */
    static MoonsWorkload standard() {
        return make(N, NOISE, DATA_SEED);
    }

    static MoonsWorkload make(int n, double noise, long seed) {
        int nOut = n / 2;
        int nIn = n - nOut;
        double[] x = new double[2 * n];
        int[] y = new int[n];
        for (int i = 0; i < nOut; i++) {
            double a = Math.PI * linspace(i, nOut);
            x[2 * i] = Math.cos(a);
            x[2 * i + 1] = Math.sin(a);
            y[i] = 0;
        }
        for (int i = 0; i < nIn; i++) {
            double a = Math.PI * linspace(i, nIn);
            int r = nOut + i;
            x[2 * r] = 1 - Math.cos(a);
            x[2 * r + 1] = 1 - Math.sin(a) - 0.5;
            y[r] = 1;
        }
        Random rng = new Random(seed);
        // shuffle (as sklearn's shuffle=True), then the noise
        for (int i = n - 1; i > 0; i--) {
            int j = rng.nextInt(i + 1);
            double x0 = x[2 * i], x1 = x[2 * i + 1];
            x[2 * i] = x[2 * j];
            x[2 * i + 1] = x[2 * j + 1];
            x[2 * j] = x0;
            x[2 * j + 1] = x1;
            int l = y[i];
            y[i] = y[j];
            y[j] = l;
        }
        for (int i = 0; i < 2 * n; i++) x[i] += noise * rng.nextGaussian();
        return new MoonsWorkload(x, y);
    }

    /** numpy's linspace(0, 1, count)[i]. */
    private static double linspace(int i, int count) {
        return count == 1 ? 0 : (double) i / (count - 1);
    }

    int size() {
        return labels.length;
    }

    /** The points as a [N, 2] tensor of the given dtype: the initial states. */
    Tensor y0(DType dtype) {
        return Tensor.of(dtype, x, labels.length, 2);
    }

    /** The moons vector field: Linear(2, 64) - Tanh - Linear(64, 2). */
    static Sequential moonsNet() {
        return Sequential.of(new Linear(2, 64), new Tanh(), new Linear(64, 2));
    }

    /** The wide field: Linear(2, 256) - Tanh - Linear(256, 256) - Tanh - Linear(256, 2). */
    static Sequential wideNet() {
        return Sequential.of(new Linear(2, 256), new Tanh(), new Linear(256, 256), new Tanh(), new Linear(256, 2));
    }

    /** The moons field, float32, from the seeded initialisation (untrained). */
    static NeuralField moonsField() {
        return NeuralField.of(moonsNet(), 2, DType.FLOAT32, INIT_SEED);
    }

    /**
     * The moons field after {@link #PRETRAIN_STEPS} Adam steps (lr 1e-2) from the seeded
     * initialisation, each step's gradient from the adjoint with the seminorm (dopri5, rtol = atol =
     * 1e-4, float32): "the trained moons field" of the gradient benchmarks.
     */
    NeuralField trainedMoonsField() {
        NeuralField f = moonsField();
        try (GradStep step = new GradStep(f, this, dopri5(TOL), GradOptions.builder()
                .sensitivity(Sensitivity.ADJOINT).seminorm(true).build())) {
            Adam adam = new Adam(f.parameters(), LR);
            GradStep.Result r = null;
            for (int i = 0; i < PRETRAIN_STEPS; i++) r = step.train(adam);
            BenchMain.log(String.format(java.util.Locale.ROOT,
                    "  moons field after %d Adam steps: loss %.4f, accuracy %.3f (before the last update)",
                    PRETRAIN_STEPS, r.loss(), r.accuracy()));
        } catch (RuntimeException | Error e) {
            f.close();
            throw e;
        }
        return f;
    }

    /** The fields every line of the moons workload carries. */
    static Json describeMoons(Json j, String parameters) {
        return j.str("workload", "moons").num("batch", N).str("dtype", "float32")
                .str("field", "Linear(2, 64) - Tanh - Linear(64, 2)").str("method", "dopri5").num("rtol", TOL)
                .num("atol", TOL).str("span", "[0, 1]").str("loss", "softmax cross-entropy of the final state")
                .str("parameters", parameters);
    }

    static final String TRAINED = PRETRAIN_STEPS + " Adam steps (lr 1e-2) from seeded init " + INIT_SEED
            + ", adjoint gradients";

    /** dopri5 at rtol = atol = tol. */
    static SolveOptions dopri5(double tol) {
        return SolveOptions.builder().method("dopri5").rtol(tol).atol(tol).build();
    }

    /** The final states [N * 2] from ys [T, N, 2] flattened. */
    static double[] finalState(double[] ys, int perState) {
        double[] out = new double[perState];
        System.arraycopy(ys, ys.length - perState, out, 0, perState);
        return out;
    }

    /**
     * Softmax cross-entropy of the final state's two coordinates as logits, averaged over the points,
     * its gradient dL/dy1 = (softmax - onehot) / N, and the accuracy (argmax = label).
     */
    record Loss(double value, double[] grad, double accuracy) {}

    Loss crossEntropy(double[] logits) {
        int n = labels.length;
        double[] grad = new double[2 * n];
        double loss = 0;
        int correct = 0;
        for (int i = 0; i < n; i++) {
            double a = logits[2 * i], b = logits[2 * i + 1];
            double m = Math.max(a, b);
            double ea = Math.exp(a - m), eb = Math.exp(b - m);
            double s = ea + eb;
            double logZ = m + Math.log(s);
            int y = labels[i];
            loss += logZ - (y == 0 ? a : b);
            grad[2 * i] = (ea / s - (y == 0 ? 1 : 0)) / n;
            grad[2 * i + 1] = (eb / s - (y == 1 ? 1 : 0)) / n;
            if ((b > a ? 1 : 0) == y) correct++;
        }
        return new Loss(loss / n, grad, (double) correct / n);
    }
}
