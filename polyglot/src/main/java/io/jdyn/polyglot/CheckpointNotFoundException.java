package io.jdyn.polyglot;

import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * No checkpoint at the path a script gave: a class of its own so that the Python shim raises
 * FileNotFoundError (as torch.load does) rather than a bare OSError.
 */
public final class CheckpointNotFoundException extends UncheckedIOException {
    private static final long serialVersionUID = 1L;

    CheckpointNotFoundException(String message, IOException cause) {
        super(message, cause);
    }
}
