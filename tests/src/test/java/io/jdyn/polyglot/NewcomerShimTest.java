package io.jdyn.polyglot;

import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The messages and spellings of issue 13 in the Python shim: src/test/resources/python/newcomer_checks.py in
 * one GraalPy context with files allowed (a closed tensor, odeint's argument errors, NaN from t = 0, a missing
 * checkpoint, jdyn.Tensor of Python data, torchdiffeq's odeint spelling, uncapped fixed steps).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(300)
class NewcomerShimTest {
    private PythonChecks checks;

    @TempDir
    Path tmp;

    @BeforeAll
    void start() throws IOException {
        checks = new PythonChecks("newcomer_checks.py", true);
    }

    @AfterAll
    void stop() {
        if (checks != null) checks.close();
    }

    @Test
    void closedTensorIsNamed() {
        checks.call("closed_tensor_is_named");
    }

    @Test
    void odeintArgumentErrorsNameTheFix() {
        checks.call("odeint_argument_errors_name_the_fix");
    }

    @Test
    void nanFromT0IsANonFiniteValue() {
        checks.call("nan_from_t0_is_a_non_finite_value");
    }

    @Test
    void missingCheckpointIsFileNotFound() {
        checks.call("missing_checkpoint_is_file_not_found", tmp.toString());
    }

    @Test
    void tensorOfPythonDataNamesJdynTensor() {
        checks.call("tensor_of_python_data_names_jdyn_tensor");
    }

    @Test
    void torchdiffeqSpellingReturnsTheSolution() {
        checks.call("torchdiffeq_spelling_returns_the_solution");
    }

    @Test
    void fixedStepsAreNotCappedByMaxSteps() {
        checks.call("fixed_steps_are_not_capped_by_max_steps");
    }
}
