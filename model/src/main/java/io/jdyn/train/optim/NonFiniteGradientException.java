package io.jdyn.train.optim;

import io.jdyn.JdynException;

/**
 * An optimizer step or a gradient clip met a NaN or infinite gradient; nothing was changed.
 * {@link #index()} is the flat index of the first bad one in {@code Parameters.grad()}.
 */
public final class NonFiniteGradientException extends JdynException {
    private final long index;

    public NonFiniteGradientException(String message, long index) {
        super(message);
        this.index = index;
    }

    /** Runs a backend call, turning its non-finite report into this exception. */
    static <T> T translate(java.util.function.Supplier<T> call) {
        try {
            return call.get();
        } catch (io.jdyn.spi.NonFiniteInputException e) {
            throw new NonFiniteGradientException(e.getMessage(), e.index());
        }
    }

    static void translate(Runnable call) {
        translate(() -> {
            call.run();
            return null;
        });
    }

    /** Flat index of the first non-finite gradient, or -1 when unknown. */
    public long index() {
        return index;
    }
}
