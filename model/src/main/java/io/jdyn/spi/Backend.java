package io.jdyn.spi;

import io.jdyn.DType;
import java.util.List;

/** Internal: a native backend. One instance per JVM, safe for use from several threads. */
public interface Backend {
    /** A short name and the native library's version, for diagnostics. */
    String describe();

    NativeBuffer allocate(DType dtype, long elements);

    /** Runs a whole solve in one native call. Never throws for solver failures: see the outcome. */
    SolveOutcome solve(SolveRequest request);

    MethodFacts methodFacts(int method);

    /**
     * Builds a native layer program for inputs of width dimIn; throws IllegalArgumentException with
     * the native message (which names the layer) when the widths or settings do not fit.
     */
    ProgramHandle createProgram(List<LayerSpec> layers, DType dtype, long dimIn);

    /** A new, empty differentiable-program builder (jdyn_graph_new). */
    GraphHandle newGraph();

    /**
     * Solves a differentiable field (a layer program or a Java field with its VJP), keeping a tape
     * when asked. Never throws for solver failures: see the outcome.
     */
    GradOutcome solveDifferentiable(GradRequest request);

    /** Worker threads for splitting a solve's batch (jdyn_set_num_threads); see {@code Jdyn.setThreads}. */
    void setThreads(int threads);

    int threads();

    String blasInfo();

    /** "available: ..." or why CUDA cannot be used here. Never throws. */
    String cudaStatus();

    boolean cudaAvailable();

    /*
     * Optimizer steps and gradient clipping (jdyn.h's jdyn_sgd_step, jdyn_adam_step, jdyn_clip_grad_*):
     * in place on elements [offset, offset + count) of flat buffers of one dtype, PyTorch's rules. The
     * state buffers (momentum, exp_avg, exp_avg_sq) are the caller's, zero before the first step; step
     * is the 1-based number of this step on the block. Bad arguments throw IllegalArgumentException with
     * the native message; a NaN or infinite gradient throws
     * io.jdyn.train.optim.NonFiniteGradientException (with its flat index) and changes nothing.
     */

    /** torch.optim.SGD's update; momentumBuf may be null when momentum is 0. */
    void sgdStep(NativeBuffer params, NativeBuffer grad, NativeBuffer momentumBuf, long offset, long count, long step,
            double lr, double momentum, double dampening, double weightDecay, boolean nesterov);

    /** torch.optim.Adam's update (decoupled = false) or AdamW's (decoupled = true). */
    void adamStep(NativeBuffer params, NativeBuffer grad, NativeBuffer expAvg, NativeBuffer expAvgSq, long offset,
            long count, long step, double lr, double beta1, double beta2, double eps, double weightDecay,
            boolean decoupled);

    /**
     * clip_grad_norm_ over the blocks {offset0, count0, offset1, count1, ...} (sorted, disjoint) of grad:
     * returns their total normType-norm (Double.POSITIVE_INFINITY: the largest magnitude) before clipping.
     */
    double clipGradNorm(NativeBuffer grad, long[] ranges, double maxNorm, double normType);

    /** clip_grad_value_: clamps the blocks of grad to [-clipValue, clipValue]. */
    void clipGradValue(NativeBuffer grad, long[] ranges, double clipValue);

    /*
     * SNOpt (jdyn_sym_eig, jdyn_snopt_eigenbasis, jdyn_snopt_precondition): LAPACK's dsyevd and the
     * preconditioned gradient of one Linear layer in its Kronecker-factored eigenbasis.
     */

    /** a [n, n] symmetric row-major -> its eigenvectors as columns; returns the eigenvalues ascending. */
    default double[] symEig(double[] a, int n) {
        throw new UnsupportedOperationException("this backend has no eigendecomposition");
    }

    /** gFactor [out, out] -> U_G, aFactor [aDim, aDim] -> U_A, m2 [out, aDim] = lambda_G lambda_A^T, in place. */
    default void snoptEigenbasis(long out, long aDim, double[] gFactor, double[] aFactor, double[] m2) {
        throw new UnsupportedOperationException("this backend has no SNOpt eigenbasis");
    }

    /**
     * Preconditions one layer's gradient in place in grad (weight [out, in] at weightOffset, bias at
     * biasOffset or -1); m2 is updated in place (the running eigenvalue estimate).
     */
    default void snoptPrecondition(NativeBuffer grad, long weightOffset, long biasOffset, long out, long in,
            double[] uG, double[] uA, double[] m2, double alpha, double eps, double batch) {
        throw new UnsupportedOperationException("this backend has no SNOpt preconditioner");
    }
}
