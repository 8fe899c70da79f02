package io.jdyn.polyglot;

import java.io.IOException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

/** jdyn.optim.SNOpt and IntegrationTimeOptimizer in the Python shim: src/test/resources/python/snopt_checks.py in one GraalPy context. */
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
    void fullPrecondTrainsAnEncoderOdeDecoder() {
        checks.call("full_precond_trains_an_encoder_ode_decoder");
    }

    @Test
    void refusals() {
        checks.call("refusals");
    }

    @Test
    void t1BaselineStepIsMinusLrTimesDlDt1() {
        checks.call("t1_baseline_step_is_minus_lr_times_dl_dt1");
    }

    @Test
    void t1MovesOnUpdateIterationsAndShortensTheHorizon() {
        checks.call("t1_moves_on_update_iterations_and_shortens_the_horizon");
    }

    @Test
    void t1Refusals() {
        checks.call("t1_refusals");
    }
}
