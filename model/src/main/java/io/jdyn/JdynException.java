package io.jdyn;

/** Base of jdyn's runtime failures that are not argument errors. */
public class JdynException extends RuntimeException {
    public JdynException(String message) {
        super(message);
    }

    public JdynException(String message, Throwable cause) {
        super(message, cause);
    }
}
