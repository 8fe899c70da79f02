package io.jdyn.spi;

/**
 * Internal: the backend's report that an input held a NaN or an infinity at a flat index; the public
 * API turns it into its own exception (e.g. io.jdyn.train.optim.NonFiniteGradientException).
 */
public final class NonFiniteInputException extends RuntimeException {
    private final long index;

    public NonFiniteInputException(String message, long index) {
        super(message);
        this.index = index;
    }

    public long index() {
        return index;
    }
}
