package io.jdyn.polyglot;

import java.io.IOException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

/**
 * The python-shim's hypersolvers with torchdyn's names (src/test/resources/python/hyper_checks.py, one
 * sandboxed GraalPy context): g = 0 reproduces euler / midpoint / rk4 to rounding, a fitted HyperEuler
 * beats Euler at equal NFE through odeint and through NeuralODE(f, solver=HyperEuler(...)), refusals.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(300)
class HypersolverShimTest {
    private PythonChecks checks;

    @BeforeAll
    void start() throws IOException {
        checks = new PythonChecks("hyper_checks.py");
    }

    @AfterAll
    void stop() {
        if (checks != null) checks.close();
    }

    @Test
    void namesAreTorchdyns() {
        checks.call("check_names_are_torchdyns");
    }

    @Test
    void aZeroHypernetIsTheBaseMethod() {
        checks.call("check_zero_hypernet_is_the_base_method");
    }

    @Test
    void aFittedHyperEulerBeatsEulerThroughOdeintAndNeuralOde() {
        checks.call("check_fitted_hypereuler_beats_euler_through_odeint_and_neuralode");
    }

    @Test
    void refusalsSayWhy() {
        checks.call("check_refusals_say_why");
    }
}
