package io.jdyn;

/** The native backend cannot be used on this JVM or machine; the message says why and what to do. */
public final class BackendUnavailableException extends JdynException {
    public BackendUnavailableException(String message) {
        super(message);
    }

    public BackendUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
