package io.jdyn.io;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A file that jdyn reads (a checkpoint, a safetensors, .npy or CSV file) is malformed: truncated,
 * corrupted or of an unsupported kind. The message names the file and the problem.
 */
public class FormatException extends IOException {
    private final transient Path file;

    public FormatException(Path file, String problem) {
        super(file + ": " + problem);
        this.file = file;
    }

    public FormatException(Path file, String problem, Throwable cause) {
        super(file + ": " + problem, cause);
        this.file = file;
    }

    /** The file that is malformed. */
    public Path file() {
        return file;
    }
}
