package io.jdyn.polyglot;

import java.io.IOException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

/** jdyn.optim.SNOpt in the Python shim: src/test/resources/python/snopt_checks.py in one GraalPy context. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(300)
class SNOptShimTest {
    private PythonChecks checks;

    @BeforeAll
    void start() throws IOException {
        checks = new PythonChecks("snopt_checks.py");
    }

    @AfterAll
    void stop() {
        if (checks != null) checks.close();
    }

    @Test
    void trainsMoonsWithTheSeedLoop() {
        checks.call("trains_moons_with_the_seed_loop");
    }

    @Test
    void refusals() {
        checks.call("refusals");
    }
}
