package io.jdyn.spi;

import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jdyn.BackendUnavailableException;
import java.util.Iterator;
import java.util.List;
import java.util.ServiceConfigurationError;
import org.junit.jupiter.api.Test;

/** The loader's answers on old JVMs, missing providers and providers that cannot start. */
class BackendsTest {
    @Test
    void saysWhichJavaIsNeededOnJava21() {
        Object r = Backends.load(() -> List.<BackendProvider>of().iterator(), 21);
        BackendUnavailableException e = assertInstanceOf(BackendUnavailableException.class, r);
        assertTrue(e.getMessage().contains("needs Java 22 or newer"), e.getMessage());
        assertTrue(e.getMessage().contains("this JVM is Java 21"), e.getMessage());
    }

    @Test
    void reportsAClassVersionErrorThrownByTheServiceIterator() {
        // What ServiceLoader does when the provider class was compiled for a newer Java.
        Iterator<BackendProvider> failing = new Iterator<>() {
            @Override
            public boolean hasNext() {
                throw new ServiceConfigurationError("provider could not be instantiated",
                        new UnsupportedClassVersionError("io/jdyn/ffm/FfmBackendProvider has class file version 66.0"));
            }

            @Override
            public BackendProvider next() {
                throw new AssertionError();
            }
        };
        Object r = Backends.load(() -> failing, 22);
        BackendUnavailableException e = assertInstanceOf(BackendUnavailableException.class, r);
        assertTrue(e.getMessage().contains("newer Java"), e.getMessage());
    }

    @Test
    void saysWhichArtifactIsMissingWhenThereIsNoProvider() {
        Object r = Backends.load(() -> List.<BackendProvider>of().iterator(), 25);
        BackendUnavailableException e = assertInstanceOf(BackendUnavailableException.class, r);
        assertTrue(e.getMessage().contains("jdyn-ffm-bindings"), e.getMessage());
    }

    @Test
    void passesOnTheReasonAProviderCannotStart() {
        BackendProvider broken = () -> {
            throw new IllegalStateException("no libjdyn for freebsd-riscv64");
        };
        Object r = Backends.load(() -> List.of(broken).iterator(), 25);
        BackendUnavailableException e = assertInstanceOf(BackendUnavailableException.class, r);
        assertTrue(e.getMessage().contains("freebsd-riscv64"), e.getMessage());
    }

    @Test
    void takesTheFirstProviderThatStarts() {
        Backend b = (Backend) java.lang.reflect.Proxy.newProxyInstance(getClass().getClassLoader(),
                new Class<?>[] {Backend.class}, (p, m, a) -> null);
        BackendProvider broken = () -> {
            throw new IllegalStateException("broken");
        };
        Object r = Backends.load(() -> List.of(broken, () -> b).iterator(), 25);
        assertSame(b, r);
    }
}
