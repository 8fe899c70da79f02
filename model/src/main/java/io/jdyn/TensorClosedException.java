package io.jdyn;

/** A tensor (or another native resource) was used after {@code close()}. */
public final class TensorClosedException extends IllegalStateException {
    public TensorClosedException(String message) {
        super(message);
    }
}
