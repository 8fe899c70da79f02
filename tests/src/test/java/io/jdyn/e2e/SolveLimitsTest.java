package io.jdyn.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jdyn.DType;
import io.jdyn.Tensor;
import io.jdyn.ode.MaxStepsExceededException;
import io.jdyn.ode.Odeint;
import io.jdyn.ode.Solution;
import io.jdyn.ode.SolveOptions;
import io.jdyn.ode.VectorField;
import java.util.ArrayList;
import java.util.List;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.Test;

/**
 * Limits a long script meets (issue 13): the float32 precision warning is logged once per distinct
 * setting, not once per solve; fixed-step solves are not stopped by the adaptive solver's default
 * 10,000-step cap (only by an explicit maxSteps). The problem is y' = -y, y(0) = 1: y = exp(-t).
 */
class SolveLimitsTest {
    private static final VectorField DECAY = (t, z, dz) -> dz.set(0, 0, -z.get(0, 0));

    private static double solveLast(DType dtype, SolveOptions o, double t1) {
        try (Tensor y0 = Tensor.of(dtype, new double[] {1}, 1, 1);
                Solution s = Odeint.odeint(DECAY, y0, new double[] {0, t1}, o)) {
            return s.ys().toDoubleArray()[1];
        }
    }

    @Test
    void float32PrecisionWarningOncePerSetting() {
        Logger log = Logger.getLogger("io.jdyn.ode");
        List<String> warnings = new ArrayList<>();
        Handler h = new Handler() {
            @Override
            public void publish(LogRecord r) {
                if (r.getMessage() != null && r.getMessage().contains("below what")) warnings.add(r.getMessage());
            }

            @Override
            public void flush() {}

            @Override
            public void close() {}
        };
        log.addHandler(h);
        try {
            // rtols no other test uses (the record is per JVM), both below float32's ~1.2e-6
            SolveOptions a = SolveOptions.builder().rtol(3.25e-9).atol(1e-6).build();
            SolveOptions b = SolveOptions.builder().rtol(4.75e-9).atol(1e-6).build();
            for (int i = 0; i < 5; i++) solveLast(DType.FLOAT32, a, 0.1);
            assertEquals(1, warnings.size(), "five solves, one setting: " + warnings);
            assertTrue(warnings.get(0).contains("3.25E-9") || warnings.get(0).contains("3.25e-09"), warnings.get(0));
            solveLast(DType.FLOAT32, b, 0.1);
            solveLast(DType.FLOAT32, a, 0.1);
            assertEquals(2, warnings.size(), "a second setting warns once more: " + warnings);
        } finally {
            log.removeHandler(h);
        }
    }

    @Test
    void fixedStepsAreNotCappedByTheAdaptiveDefault() {
        // 20,000 rk4 steps of 1e-4: twice the default cap. rk4's global error ~ h^4 = 1e-16: the exact value to 1e-12
        SolveOptions fixed = SolveOptions.builder().method("rk4").dt(1e-4).build();
        assertEquals(0, fixed.maxSteps(), "no cap on fixed steps unless set");
        assertEquals(Math.exp(-2), solveLast(DType.FLOAT64, fixed, 2.0), 1e-12);
        // an explicit cap still applies to fixed steps
        assertThrows(MaxStepsExceededException.class,
                () -> solveLast(DType.FLOAT64, fixed.toBuilder().maxSteps(1000).build(), 2.0));
        // adaptive solves keep the default
        assertEquals(10_000, SolveOptions.builder().build().maxSteps());
        // a grid that would not fit in memory is refused up front, naming the fix
        IllegalArgumentException tooMany = assertThrows(IllegalArgumentException.class,
                () -> solveLast(DType.FLOAT64, SolveOptions.builder().method("euler").dt(1e-9).build(), 1.0));
        assertTrue(tooMany.getMessage().contains("maxSteps"), tooMany.getMessage());
    }
}
