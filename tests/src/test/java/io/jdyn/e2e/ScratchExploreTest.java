package io.jdyn.e2e;

import io.jdyn.e2e.Problems.Ode;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ScratchExploreTest {
    @Test
    void explore() {
        List<Ode> all = new ArrayList<>(Problems.detestA());
        all.addAll(Problems.detestB());
        for (Ode p : all) {
            double[] truth = p.truth();
            StringBuilder sb = new StringBuilder(p.name());
            for (String m : new String[] {"dopri5", "tsit5", "dopri8"}) {
                sb.append("  ").append(m).append(":");
                for (double tol : new double[] {1e-4, 1e-6, 1e-8}) {
                    double[] y = Problems.solveFinal(p.rhs(), p.y0(), new double[] {0, 20}, Problems.adaptive(m, tol));
                    sb.append(String.format(" %.2e", Problems.maxAbsDiff(y, truth)));
                }
            }
            System.out.println(sb);
        }
    }
}
