package io.jdyn.polyglot;

import java.io.IOException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * torchdyn's {@code NeuralODE(..., integral_loss=l)} in the Python shim: src/test/resources/python/
 * integral_checks.py in one sandboxed GraalPy context (closed form of a time-dependent cost and its input
 * gradient for every sensitivity, a whole-batch cost, the l(t, x, dx) form against the Java regulariser,
 * a regularised moons training, refusals).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(300)
class IntegralLossShimTest {
    private PythonChecks checks;

    @BeforeAll
    void start() throws IOException {
        checks = new PythonChecks("integral_checks.py");
    }

    @AfterAll
    void stop() {
        if (checks != null) checks.close();
    }

    @ParameterizedTest
    @ValueSource(strings = {"autograd", "adjoint", "interpolated_adjoint"})
    void closedFormOfATimeDependentCost(String sensitivity) {
        checks.call("closed_form", sensitivity);
    }

    @Test
    void wholeBatchCostEqualsTheSumOfPerSampleCosts() {
        checks.call("whole_batch_cost_equals_sum_of_per_sample");
    }

    @Test
    void dxArgumentIsTheFieldValue() {
        checks.call("dx_argument_is_the_field_value");
    }

    @Test
    void regularisedTrainingLowersTheLoss() {
        checks.call("regularised_training_lowers_the_loss");
    }

    @Test
    void refusals() {
        checks.call("refusals");
    }
}
