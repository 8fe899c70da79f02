package io.jdyn.e2e;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jdyn.examples.RegularizedMoons;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * RNODE's claim on moons at reduced size (256 points, 150 epochs, seed 0): with the kinetic energy and
 * the Jacobian Frobenius norm (lambda 0.005 each), the trained field takes fewer dopri5 evaluations at
 * every tolerance than the same field trained plain, and is still a good classifier.
 *
 * <p>Bars: the accuracy bar is MoonsTrainingTest's 0.97 (two moons at noise 0.1 are separable; see
 * there). The NFE must be strictly lower at every tolerance: dopri5 takes 6 evaluations per step, so
 * "lower" is at least one step fewer over the 256 points; at full size (bench/run regulariser-nfe) the
 * saving is 15-30% (measured here: 32/44/68 against 38/56/86 at 1e-3/1e-4/1e-5, accuracy 0.988 against 1.0).
 */
class RegularizedMoonsTest {
    @Test
    void regularisedFieldTakesFewerStepsAtAboutEqualAccuracy() {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        RegularizedMoons.Outcome o;
        try (PrintStream out = new PrintStream(buf, true, StandardCharsets.UTF_8)) {
            o = RegularizedMoons.run(new RegularizedMoons.Options(256, 150, 0.005, 0), out);
        }
        String log = buf.toString(StandardCharsets.UTF_8);
        assertTrue(o.plain().accuracy() >= 0.97, log);
        assertTrue(o.regularized().accuracy() >= 0.97, log);
        for (int i = 0; i < RegularizedMoons.TOLERANCES.length; i++) {
            assertTrue(o.regularized().nfe()[i] < o.plain().nfe()[i], "tolerance " + RegularizedMoons.TOLERANCES[i] + "\n" + log);
        }
    }
}
