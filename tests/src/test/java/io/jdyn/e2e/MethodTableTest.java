package io.jdyn.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jdyn.ode.Method;
import io.jdyn.spi.Backends;
import io.jdyn.spi.MethodFacts;
import java.util.Locale;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The Java method table agrees with what the native core says of each method. */
class MethodTableTest {
    @ParameterizedTest
    @EnumSource(Method.class)
    void nativeFactsMatchJavaTable(Method m) {
        MethodFacts f = Backends.get().methodFacts(m.code());
        assertEquals(m.order(), f.order(), m + ": order");
        assertEquals(m.isAdaptive(), f.errorOrder() > 0, m + ": has an embedded error estimate (" + f + ")");
        if (m.isAdaptive()) {
            assertTrue(f.errorOrder() < f.order(), m + ": the embedded solution is of lower order (" + f + ")");
        }
        assertTrue(f.stages() >= 1, m + ": stages " + f);
        assertTrue(f.denseDegree() >= 1, m + ": dense degree " + f);
    }

    @ParameterizedTest
    @EnumSource(Method.class)
    void nameRoundTrips(Method m) {
        assertSame(m, Method.of(m.torchName()));
        assertSame(m, Method.of(m.torchName().toUpperCase(Locale.ROOT)));
        assertSame(m, Method.of("  " + m.torchName() + " "));
        assertEquals(m.torchName(), m.toString());
    }

    @Test
    void aliases() {
        assertSame(Method.DOPRI5, Method.of("dopri5"));
        assertSame(Method.HEUN, Method.of("adaptive_heun"));
        assertSame(Method.DOPRI8, Method.of("dop853"));
    }

    @Test
    void unknownNameListsTheKnownOnes() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Method.of("bogus"));
        assertTrue(e.getMessage().contains("bogus"), e.getMessage());
        for (Method m : Method.values()) {
            assertTrue(e.getMessage().contains(m.torchName()), "message should list " + m + ": " + e.getMessage());
        }
        assertThrows(IllegalArgumentException.class, () -> Method.of(null));
    }

    @Test
    void unknownNativeMethodCodeIsAnArgumentError() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Backends.get().methodFacts(Method.values().length));
        assertTrue(e.getMessage().contains("unknown method"), e.getMessage());
    }
}
