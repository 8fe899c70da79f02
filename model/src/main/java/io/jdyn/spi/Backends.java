package io.jdyn.spi;

import io.jdyn.BackendUnavailableException;
import java.util.Iterator;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import java.util.function.Supplier;

/**
 * Internal: finds the native backend once per JVM. On a JVM older than 22 the backend's classes
 * cannot load (their class version is newer), and ServiceLoader's iterator itself throws: that is
 * caught here and reported as a {@link BackendUnavailableException} that says what to do.
 */
public final class Backends {
    private static final int REQUIRED_FEATURE = 22;

    private Backends() {}

    private static final class Holder {
        static final Object BACKEND_OR_ERROR = load(Backends::serviceIterator, Runtime.version().feature());
    }

    /** The backend; throws BackendUnavailableException with the reason when there is none. */
    public static Backend get() {
        Object o = Holder.BACKEND_OR_ERROR;
        if (o instanceof Backend b) return b;
        BackendUnavailableException e = (BackendUnavailableException) o;
        throw new BackendUnavailableException(e.getMessage(), e.getCause());
    }

    /** Whether a backend loaded, without throwing. */
    public static boolean available() {
        return Holder.BACKEND_OR_ERROR instanceof Backend;
    }

    private static Iterator<BackendProvider> serviceIterator() {
        return ServiceLoader.load(BackendProvider.class, Backends.class.getClassLoader()).iterator();
    }

    /** Visible for tests: loads from the given providers on a JVM of the given feature version. */
    static Object load(Supplier<Iterator<BackendProvider>> providers, int javaFeature) {
        if (javaFeature < REQUIRED_FEATURE) {
            return new BackendUnavailableException("jdyn's native backend needs Java " + REQUIRED_FEATURE
                    + " or newer (it uses the FFM API, final in Java 22); this JVM is Java " + javaFeature
                    + ". Run with a JDK " + REQUIRED_FEATURE + "+ (for example Temurin 25).");
        }
        Throwable firstFailure = null;
        try {
            Iterator<BackendProvider> it = providers.get();
            while (true) {
                BackendProvider provider;
                try {
                    if (!it.hasNext()) break;
                    provider = it.next();
                } catch (ServiceConfigurationError | LinkageError e) {
                    // UnsupportedClassVersionError lands here when the provider was compiled for a newer Java.
                    if (firstFailure == null) firstFailure = e;
                    break;
                }
                try {
                    return provider.create();
                } catch (RuntimeException | LinkageError e) {
                    if (firstFailure == null) firstFailure = e;
                }
            }
        } catch (RuntimeException | LinkageError e) {
            if (firstFailure == null) firstFailure = e;
        }
        if (firstFailure == null) {
            return new BackendUnavailableException("no jdyn native backend on the class path: add the artifact "
                    + "io.jdyn:jdyn-ffm-bindings (it brings the native library for linux-x86_64)");
        }
        if (firstFailure instanceof UnsupportedClassVersionError
                || firstFailure.getCause() instanceof UnsupportedClassVersionError) {
            return new BackendUnavailableException("jdyn's native backend was compiled for a newer Java than this "
                    + "JVM (Java " + javaFeature + "): it needs Java " + REQUIRED_FEATURE + " or newer", firstFailure);
        }
        return new BackendUnavailableException("jdyn's native backend could not start: " + firstFailure.getMessage(),
                firstFailure);
    }
}
