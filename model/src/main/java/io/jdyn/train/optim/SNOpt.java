package io.jdyn.train.optim;

import io.jdyn.models.Block;
import io.jdyn.models.LayerBlock;
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
 *
 * <p>{@code fullPrecond} (the original's full_precond) also preconditions the Linear layers outside the
 * ODEs: those of a {@link SequentialModel}'s {@link LayerBlock}s (encoders, decoders), with factors from
 * the iteration's batch instead of the adjoint samples, as the original's module hooks: A = E[[x, 1][x, 1]^T]
 * of the layer input and G = E[gy gy^T] with gy = batch * dL/d(layer output), collected natively by the
 * block's backward pass; the same eigenbasis and preconditioning follow. A lone NeuralODE has no such
 * layers, so there the flag changes nothing.
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

    /** One ODE's field, or (fullPrecond) one layer block outside the ODEs, and its preconditioned layers. */
    private static final class Target {
        final NeuralODE ode;
        final LayerBlock block;
        final Layer[] layers;
        final int factorSize;
        CurvatureRequest pending;
        double[] pendingBlock;
        double[] lastFactors;

        Target(NeuralODE ode, LayerBlock block, Layer[] layers) {
            this.ode = ode;
            this.block = block;
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

    /**
     * Every NeuralODE block of a model; with fullPrecond also every LayerBlock holding a Linear layer
     * (else encoder and decoder blocks keep their plain gradient).
     */
    public SNOpt(SequentialModel model, double eps, int updateFreq, double alpha, boolean fullPrecond) {
        this(blocks(model, fullPrecond), eps, updateFreq, alpha, fullPrecond);
    }

    private SNOpt(List<? extends Block> blocks, double eps, int updateFreq, double alpha, boolean fullPrecond) {
        if (!(eps > 0) || !Double.isFinite(eps)) throw new IllegalArgumentException("eps must be finite and > 0, got " + eps);
        if (updateFreq < 1) throw new IllegalArgumentException("updateFreq must be >= 1, got " + updateFreq);
        if (!(alpha >= 0 && alpha <= 1)) throw new IllegalArgumentException("alpha must be in [0, 1], got " + alpha);
        if (blocks.stream().noneMatch(b -> b instanceof NeuralODE)) {
            throw new IllegalArgumentException("the model has no NeuralODE to precondition");
        }
        this.eps = eps;
        this.updateFreq = updateFreq;
        this.alpha = alpha;
        this.fullPrecond = fullPrecond;
        this.backend = Backends.get();
        for (Block b : blocks) {
            if (b instanceof LayerBlock lb) {
                targets.add(new Target(null, lb, layers(lb.linearLayers())));
                continue;
            }
            NeuralODE ode = (NeuralODE) b;
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
            targets.add(new Target(ode, null, layers(rows)));
        }
    }

    private static Layer[] layers(long[] rows) {
        Layer[] layers = new Layer[rows.length / 6];
        for (int i = 0; i < layers.length; i++) {
            long[] row = new long[6];
            System.arraycopy(rows, 6 * i, row, 0, 6);
            layers[i] = new Layer(row);
        }
        return layers;
    }

    /** The model's NeuralODEs and, with fullPrecond, its LayerBlocks that hold a Linear layer, in order. */
    private static List<Block> blocks(SequentialModel model, boolean fullPrecond) {
        List<Block> out = new ArrayList<>();
        for (Block b : model.blocks()) {
            if (b instanceof NeuralODE) out.add(b);
            else if (fullPrecond && b instanceof LayerBlock lb && lb.linearLayers().length > 0) out.add(b);
        }
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
            if (t.ode != null) {
                t.pending = new CurvatureRequest(sampleStep, t.factorSize);
                t.ode.collectCurvature(t.pending);
            } else {
                t.pendingBlock = new double[t.factorSize];
                t.block.collectCurvature(t.pendingBlock);
            }
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
            double batch = t.ode != null ? t.ode.lastBatchSize() : t.block.lastBatchSize();
            if (batch <= 0) throw new IllegalStateException("no forward pass was traced before SNOpt.step()");
            var grad = (t.ode != null ? t.ode.parameters() : t.block.parameters()).grad().nativeBuffer();
            for (Layer l : t.layers) {
                NonFiniteGradientException.translate(() -> backend.snoptPrecondition(grad, l.weightOffset, l.biasOffset,
                        l.out, l.in, l.uG, l.uA, l.m2, alpha, eps, batch));
            }
        }
        iteration++;
    }

    private void refresh(Target t) {
        double[] f;
        if (t.ode != null) {
            CurvatureRequest r = t.pending;
            t.pending = null;
            if (r == null || !r.filled() || r.samples() == 0) {
                t.ode.collectCurvature(null);
                throw noStatistics();
            }
            f = r.factors();
        } else {
            f = t.pendingBlock;
            t.pendingBlock = null;
            if (f == null || t.block.curvaturePending()) {
                t.block.collectCurvature(null);
                throw noStatistics();
            }
        }
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

    private static IllegalStateException noStatistics() {
        return new IllegalStateException("SNOpt has no statistics for this update iteration: call trainItrSetup()"
                + " before the forward pass and run the trace's backward before step()");
    }

    /**
     * The number of preconditioned blocks ("targets"): the NeuralODEs and, with fullPrecond, the
     * LayerBlocks holding a Linear layer, in model order. The {@code ode} index of the accessors below
     * counts these.
     */
    public int numTargets() {
        return targets.size();
    }

    /** Layer i's Kronecker eigenbasis and eigenvalue estimate of target {@code ode} (see {@link #numTargets()}) (for tests): [U_A, U_G, m2]. */
    public double[][] layerState(int ode, int layer) {
        Layer l = targets.get(ode).layers[layer];
        if (l.uA == null) throw new IllegalStateException("no statistics yet");
        return new double[][] {l.uA.clone(), l.uG.clone(), l.m2.clone()};
    }

    /**
     * The factors last collected for target {@code ode} (per layer A then G, row-major, as
     * {@link CurvatureRequest#factors()}).
     */
    public double[] lastFactors(int ode) {
        double[] f = targets.get(ode).lastFactors;
        if (f == null) throw new IllegalStateException("no statistics yet");
        return f.clone();
    }

    /** The number of preconditioned layers of target {@code ode}. */
    public int numLayers(int ode) {
        return targets.get(ode).layers.length;
    }
}
