package io.jdyn.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.jdyn.Tensor;
import io.jdyn.ode.Odeint;
import io.jdyn.ode.SolveOptions;
import io.jdyn.ode.Solution;
import org.junit.jupiter.api.Test;

class OdeintSmokeTest {
    @Test
    void harmonicOscillator() {
        try (Tensor y0 = Tensor.of(new double[] {1, 0}, 1, 2);
                Solution s = Odeint.odeint((t, z, dz) -> {
                    dz.set(0, 0, z.get(0, 1));
                    dz.set(0, 1, -z.get(0, 0));
                }, y0, new double[] {0, 1, 2}, SolveOptions.builder().rtol(1e-10).atol(1e-10).build())) {
            double[] ys = s.ys().toDoubleArray();
            assertEquals(Math.cos(2), ys[4], 1e-8);
            assertEquals(-Math.sin(2), ys[5], 1e-8);
            System.out.println(s.stats());
        }
    }
}
