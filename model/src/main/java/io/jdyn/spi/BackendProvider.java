package io.jdyn.spi;

/** Internal: the ServiceLoader entry point of a backend. */
public interface BackendProvider {
    /** Creates the backend, or throws an exception whose message says why it cannot be used. */
    Backend create();
}
