package io.jdyn.train.loss;

import io.jdyn.Tensor;

/**
 * A loss value and its gradient with respect to the loss's input, a tensor of the input's shape and
 * dtype owned by the caller (close it, or this record). Feed the gradient to
 * {@code GradSolution.backward} as the cotangent (see {@link Cotangents} for a loss on the last state).
 */
public record LossValue(double value, Tensor grad) implements AutoCloseable {
    @Override
    public void close() {
        grad.close();
    }
}
