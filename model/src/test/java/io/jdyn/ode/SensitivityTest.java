package io.jdyn.ode;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class SensitivityTest {
    @Test
    void torchdynNames() {
        assertEquals(Sensitivity.AUTOGRAD, Sensitivity.of("autograd"));
        assertEquals(Sensitivity.ADJOINT, Sensitivity.of(" Adjoint "));
        assertEquals(Sensitivity.INTERPOLATED_ADJOINT, Sensitivity.of("interpolated_adjoint"));
        assertEquals("interpolated_adjoint", Sensitivity.INTERPOLATED_ADJOINT.toString());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Sensitivity.of("backprop"));
        assertTrue(e.getMessage().contains("autograd, adjoint, interpolated_adjoint"), e.getMessage());
    }

    @Test
    void gradOptionsDefaultsAndBuilder() {
        GradOptions d = GradOptions.defaults();
        assertEquals(Sensitivity.AUTOGRAD, d.sensitivity());
        assertTrue(d.seminorm());
        assertEquals(0, d.rtol());
        assertNull(d.integralLoss());
        GradOptions g = GradOptions.builder().sensitivity("adjoint").seminorm(false).rtol(1e-6).atol(1e-8)
                .maxSteps(50).build();
        assertEquals(Sensitivity.ADJOINT, g.sensitivity());
        assertFalse(g.seminorm());
        assertEquals(1e-6, g.rtol());
        assertEquals(50, g.toBuilder().build().maxSteps());
        assertThrows(IllegalArgumentException.class, () -> GradOptions.builder().rtol(0));
        assertThrows(IllegalArgumentException.class, () -> GradOptions.builder().maxSteps(0));
    }
}
