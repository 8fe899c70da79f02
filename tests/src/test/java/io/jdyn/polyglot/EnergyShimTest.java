package io.jdyn.polyglot;

import java.io.IOException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

/**
 * torchdyn's {@code from torchdyn.models import HNN, LNN} through the Python shim
 * (src/test/resources/python/energy_checks.py in one sandboxed GraalPy context): the traced fields against
 * their analytic values, training through the adjoint, jdyn.linalg.solve (eager and traced), and the messages.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(300)
class EnergyShimTest {
    private PythonChecks checks;

    @BeforeAll
    void start() throws IOException {
        checks = new PythonChecks("energy_checks.py");
    }

    @AfterAll
    void stop() {
        if (checks != null) checks.close();
    }

    @Test
    void hnnFieldIsJGradH() {
        checks.call("check_hnn_field_is_j_grad_h");
    }

    @Test
    void lnnFieldSolvesEulerLagrange() {
        checks.call("check_lnn_field_solves_euler_lagrange");
    }

    @Test
    void energyModelsTrainWithTheAdjoint() {
        checks.call("check_energy_models_train_with_the_adjoint");
    }

    @Test
    void linalgSolveEagerAndTraced() {
        checks.call("check_linalg_solve");
    }

    @Test
    void messages() {
        checks.call("check_messages");
    }
}
