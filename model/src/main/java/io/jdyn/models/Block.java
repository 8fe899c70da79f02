package io.jdyn.models;

import io.jdyn.DType;
import io.jdyn.Tensor;

/**
 * One block of a {@link SequentialModel}: a map x [batch, inFeatures] -> [batch, outFeatures] with
 * parameters theta (a {@link NeuralODE}, a {@link LayerBlock}, an {@link AugmenterBlock}), runnable
 * without a tape ({@link #forward(Tensor)}) or with one ({@link #trace(Tensor)}) whose
 * {@link Trace#backward(Tensor)} returns dL/dx and accumulates dL/dtheta into the block's gradient,
 * as PyTorch's {@code .grad}.
 */
public interface Block extends AutoCloseable {
    int inFeatures();

    int outFeatures();

    DType dtype();

    /** The output for x [batch, inFeatures] (owned by the caller: close it). */
    Tensor forward(Tensor x);

    /** The output for x, keeping what one backward pass needs. */
    Trace trace(Tensor x);

    long numParams();

    /** Parameter i's value. */
    double param(long i);

    void setParam(long i, double value);

    /** A copy of the accumulated dL/dtheta. */
    double[] grad();

    void zeroGrad();

    @Override
    void close();

    /** A forward pass with its tape; owns its output and the dL/dx its backward pass returns. */
    interface Trace extends AutoCloseable {
        /** The block's output (owned by the trace). */
        Tensor output();

        /**
         * dL/dx for dL/d(output) = cotangent (shaped as output); adds dL/dtheta into the block's
         * gradient. Once per trace; the returned tensor is owned by the trace.
         */
        Tensor backward(Tensor cotangent);

        @Override
        void close();
    }
}
