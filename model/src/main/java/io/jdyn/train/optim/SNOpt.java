package io.jdyn.train.optim;

import io.jdyn.models.Block;
import io.jdyn.models.NeuralODE;
import io.jdyn.models.SequentialModel;
import io.jdyn.ode.CurvatureRequest;
import io.jdyn.ode.Sensitivity;
import io.jdyn.spi.Backend;
import io.jdyn.spi.Backends;
import java.util.ArrayList;
import java.util.List;

/**
 * SNOpt, the second-order Neural ODE optimizer (Liu, Chen, Theodorou, NeurIPS 2021), as the original's
 * preconditioner: it rewrites the gradients of the field's Linear layers before a first-order
 * optimizer's step. Along the adjoint backward pass, at times {@link #sampleStep()} apart, it collects
 * per layer the Kronecker factors A = E[a a^T] of the layer input and G = E[g g^T] of the output's
 * cotangent (natively: no Java per sample, memory independent of the steps); every
 * {@code updateFreq} iterations it refreshes their eigenbases U_A, U_G (LAPACK) and resets the
 * eigenvalue estimate m2 = lambda_G lambda_A^T; every step it preconditions
 * <pre>
 *   K = U_G^T dW U_A,  m2 = alpha m2 + (1 - alpha) batch K^2,  dW = U_G (K / (m2 + eps)) U_A^T
 * </pre>
 * (dW the layer's weight gradient with its bias as an extra column). Used as the seed shows:
 * <pre>{@code
 * SNOpt precond = new SNOpt(model, 0.05, 100, 0.75, false);
 * Optimizer opt = SGD.of(model.parameters(), 1e-3);
 * for (...) {
 *     precond.trainItrSetup();
 *     opt.zeroGrad();
 *     try (NeuralODE.Trace tr = model.trace(x)) { ... tr.backward(dLoss); }
 *     precond.step();
 *     opt.step();
 * }
 * }</pre>
 * The model's sensitivity must be adjoint or interpolated_adjoint (the statistics come from the adjoint
 * state) and its field a native program (Linear layers whose weights no other layer shares; other
 * parameters keep their plain gradient).
 */
public final class SNOpt {
    private final List<Target> targets = new ArrayList<>();
    private final double eps;
    private final int updateFreq;
    private final double alpha;
    private final boolean fullPrecond;
    private final Backend backend;
    private double sampleStep = 0.01;
    private long iteration;

    /** One ODE's field and its preconditioned layers. */
    private static final class Target {
        final NeuralODE ode;
        final Layer[] layers;
        final int factorSize;
        CurvatureRequest pending;
        double[] lastFactors;

        Target(NeuralODE ode, Layer[] layers) {
            this.ode = ode;
            this.layers = layers;
            int n = 0;
            for (Layer l : layers) n += (int) (l.aDim * l.aDim + l.out * l.out);
            this.factorSize = n;
        }
    }

    /** A Linear layer: sizes, offsets in the flat gradient, eigenbasis and eigenvalue estimate. */
    private static final class Layer {
        final long in;
        final long out;
        final long weightOffset;
        final long biasOffset;
        final long aDim;
        double[] uA;
        double[] uG;
        double[] m2;

        Layer(long[] row) {
            in = row[0];
            out = row[1];
            weightOffset = row[4];
            biasOffset = row[5];
            aDim = in + (biasOffset >= 0 ? 1 : 0);
        }
    }

    /** The seed's defaults: eps 0.05, updateFreq 100, alpha 0.75, fullPrecond false. */
    public SNOpt(NeuralODE model) {
        this(model, 0.05, 100, 0.75, false);
    }

    public SNOpt(NeuralODE model, double eps, int updateFreq, double alpha, boolean fullPrecond) {
        this(List.of(model), eps, updateFreq, alpha, fullPrecond);
    }

    /** Every NeuralODE block of a model (encoder and decoder blocks are left to the plain gradient). */
    public SNOpt(SequentialModel model, double eps, int updateFreq, double alpha, boolean fullPrecond) {
        this(odes(model), eps, updateFreq, alpha, fullPrecond);
    }

    private SNOpt(List<NeuralODE> odes, double eps, int updateFreq, double alpha, boolean fullPrecond) {
        if (!(eps > 0) || !Double.isFinite(eps)) throw new IllegalArgumentException("eps must be finite and > 0, got " + eps);
        if (updateFreq < 1) throw new IllegalArgumentException("updateFreq must be >= 1, got " + updateFreq);
        if (!(alpha >= 0 && alpha <= 1)) throw new IllegalArgumentException("alpha must be in [0, 1], got " + alpha);
        if (fullPrecond) {
            // The original also hooks Linear layers outside the ODEs (PyTorch module hooks); jdyn's
            // encoder/decoder blocks have no such hooks yet.
            throw new UnsupportedOperationException("fullPrecond = true (preconditioning layers outside the Neural"
                    + " ODEs) is not supported yet: use fullPrecond = false");
        }
        if (odes.isEmpty()) throw new IllegalArgumentException("the model has no NeuralODE to precondition");
        this.eps = eps;
        this.updateFreq = updateFreq;
        this.alpha = alpha;
        this.fullPrecond = fullPrecond;
        this.backend = Backends.get();
        for (NeuralODE ode : odes) {
            if (ode.order() != 1) {
                throw new IllegalArgumentException("SNOpt needs a first-order NeuralODE (its field's own program in"
                        + " the backward pass); this one has order " + ode.order());
            }
            if (ode.sensitivity() == Sensitivity.AUTOGRAD) {
                throw new IllegalArgumentException("SNOpt collects its statistics along the adjoint backward pass:"
                        + " build the NeuralODE with sensitivity adjoint or interpolated_adjoint, not autograd");
            }
            long[] rows = ode.field().program().linearLayers();
            if (rows.length == 0) {
                throw new IllegalArgumentException("the NeuralODE's field has no Linear layer SNOpt can precondition"
                        + " (a Linear op on a [batch, in] input whose weight is a parameter of its own)");
            }
            Layer[] layers = new Layer[rows.length / 6];
            for (int i = 0; i < layers.length; i++) {
                long[] row = new long[6];
                System.arraycopy(rows, 6 * i, row, 0, 6);
                layers[i] = new Layer(row);
            }
            targets.add(new Target(ode, layers));
        }
    }

    private static List<NeuralODE> odes(SequentialModel model) {
        List<NeuralODE> out = new ArrayList<>();
        for (Block b : model.blocks()) if (b instanceof NeuralODE n) out.add(n);
        return out;
    }

    /** The original's snopt_step_size: the spacing of the sampled times (0.01: about 100 on [0, 1]). */
    public double sampleStep() {
        return sampleStep;
    }

    public SNOpt sampleStep(double step) {
        if (!(step > 0) || !Double.isFinite(step)) throw new IllegalArgumentException("sampleStep must be finite and > 0, got " + step);
        this.sampleStep = step;
        return this;
    }

    public double eps() {
        return eps;
    }

    public int updateFreq() {
        return updateFreq;
    }

    public double alpha() {
        return alpha;
    }

    public boolean fullPrecond() {
        return fullPrecond;
    }

    /** Steps taken so far. */
    public long iteration() {
        return iteration;
    }

    /** Whether this iteration collects statistics (every updateFreq-th, starting with the first). */
    public boolean storeThisItr() {
        return iteration % updateFreq == 0;
    }

    /**
     * Before the iteration's forward pass (the original's train_itr_setup): on an update iteration,
     * asks the next backward pass of each ODE for its statistics.
     */
    public void trainItrSetup() {
        if (!storeThisItr()) return;
        for (Target t : targets) {
            t.pending = new CurvatureRequest(sampleStep, t.factorSize);
            t.ode.collectCurvature(t.pending);
        }
    }

    /**
     * After the backward pass, before the optimizer's step: refreshes the eigenbases on an update
     * iteration, then preconditions every layer's gradient in place.
     */
    public void step() {
        boolean refresh = storeThisItr();
        for (Target t : targets) {
            if (refresh) refresh(t);
            double batch = t.ode.lastBatchSize();
            if (batch <= 0) throw new IllegalStateException("no forward pass was traced before SNOpt.step()");
            var grad = t.ode.parameters().grad().nativeBuffer();
            for (Layer l : t.layers) {
                NonFiniteGradientException.translate(() -> backend.snoptPrecondition(grad, l.weightOffset, l.biasOffset,
                        l.out, l.in, l.uG, l.uA, l.m2, alpha, eps, batch));
            }
        }
        iteration++;
    }

    private void refresh(Target t) {
        CurvatureRequest r = t.pending;
        t.pending = null;
        if (r == null || !r.filled() || r.samples() == 0) {
            t.ode.collectCurvature(null);
            throw new IllegalStateException("SNOpt has no statistics for this update iteration: call trainItrSetup()"
                    + " before the forward pass and run the trace's backward before step()");
        }
        double[] f = r.factors();
        t.lastFactors = f.clone();
        int pos = 0;
        for (Layer l : t.layers) {
            int na = (int) (l.aDim * l.aDim);
            int ng = (int) (l.out * l.out);
            double[] a = new double[na];
            double[] g = new double[ng];
            System.arraycopy(f, pos, a, 0, na);
            System.arraycopy(f, pos + na, g, 0, ng);
            pos += na + ng;
            double[] m2 = new double[(int) (l.out * l.aDim)];
            backend.snoptEigenbasis(l.out, l.aDim, g, a, m2);
            l.uA = a;
            l.uG = g;
            l.m2 = m2;
        }
    }

    /** Layer i's Kronecker eigenbasis and eigenvalue estimate of ODE {@code ode} (for tests): [U_A, U_G, m2]. */
    public double[][] layerState(int ode, int layer) {
        Layer l = targets.get(ode).layers[layer];
        if (l.uA == null) throw new IllegalStateException("no statistics yet");
        return new double[][] {l.uA.clone(), l.uG.clone(), l.m2.clone()};
    }

    /**
     * The factors last collected for ODE {@code ode} (per layer A then G, row-major, as
     * {@link CurvatureRequest#factors()}).
     */
    public double[] lastFactors(int ode) {
        double[] f = targets.get(ode).lastFactors;
        if (f == null) throw new IllegalStateException("no statistics yet");
        return f.clone();
    }

    /** The number of preconditioned layers of ODE {@code ode}. */
    public int numLayers(int ode) {
        return targets.get(ode).layers.length;
    }
}
