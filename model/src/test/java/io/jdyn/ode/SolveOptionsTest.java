package io.jdyn.ode;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Option validation happens at build time, with messages that name the option. */
class SolveOptionsTest {
    @Test
    void defaultsAreTorchdiffeqs() {
        SolveOptions o = SolveOptions.defaults();
        assertEquals(Method.DOPRI5, o.method());
        assertEquals(1e-7, o.rtol());
        assertEquals(1e-9, o.atol());
        assertEquals(10_000, o.maxSteps());
        assertEquals(StepController.integral(), o.controller());
        assertTrue(o.adaptive());
    }

    @Test
    void aStepOrGridMakesAnyMethodFixedStep() {
        assertFalse(SolveOptions.builder().dt(0.1).build().adaptive());
        assertFalse(SolveOptions.builder().grid(0, 0.5, 1).build().adaptive());
        assertFalse(SolveOptions.builder().method("rk4").build().adaptive());
    }

    @Test
    void rejectsBadValuesNamingThem() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> SolveOptions.builder().rtol(0))
                .getMessage().contains("rtol"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> SolveOptions.builder().atol(-1e-3))
                .getMessage().contains("atol"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> SolveOptions.builder().atol(new double[] {1e-6, Double.NaN}))
                .getMessage().contains("atol[1]"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> SolveOptions.builder().dt(Double.POSITIVE_INFINITY))
                .getMessage().contains("dt"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> SolveOptions.builder().maxSteps(-1))
                .getMessage().contains("maxSteps"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> SolveOptions.builder().dt(0.1).grid(0, 1).build())
                .getMessage().contains("not both"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> SolveOptions.builder().method("rk45"))
                .getMessage().contains("dopri5"));
        assertThrows(IllegalArgumentException.class, () -> StepController.integral().withSafety(1.5));
        assertThrows(IllegalArgumentException.class, () -> StepController.pid(0, 0, 0));
        assertThrows(IllegalArgumentException.class, () -> Event.terminal((t, z) -> 0).tolerance(0));
    }

    @Test
    void methodNamesFollowTorchdyn() {
        for (Method m : Method.values()) assertEquals(m, Method.of(m.torchName()));
        assertEquals(Method.RK4_38, Method.of("RK4_38"));
        assertEquals(Method.DOPRI8, Method.of("dop853"));
        assertEquals(Method.HEUN, Method.of("adaptive_heun"));
        assertEquals(4, Method.RK4.order());
        assertFalse(Method.RK4.isAdaptive());
        assertTrue(Method.TSIT5.isAdaptive());
    }

    @Test
    void optionsAreImmutableCopies() {
        double[] atol = {1e-6, 1e-6};
        SolveOptions o = SolveOptions.builder().atol(atol).build();
        atol[0] = 1;
        assertEquals(1e-6, o.atolPerComponent()[0]);
        o.atolPerComponent()[1] = 1;
        assertEquals(1e-6, o.atolPerComponent()[1]);
        assertEquals(o.method(), o.toBuilder().build().method());
    }
}
