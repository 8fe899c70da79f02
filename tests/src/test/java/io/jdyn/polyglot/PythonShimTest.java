package io.jdyn.polyglot;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

/**
 * The python-shim on GraalPy: each test runs one check_* function of
 * src/test/resources/python/shim_checks.py in one sandboxed context (a context costs seconds to start,
 * so they share it). A check raises when it fails; its Python traceback becomes the failure message.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(300)
class PythonShimTest {
    private PythonChecks checks;

    @BeforeAll
    void start() throws IOException {
        checks = new PythonChecks("shim_checks.py");
    }

    @AfterAll
    void stop() {
        if (checks != null) checks.close();
    }

    private void check(String name) {
        checks.call(name);
    }

    @Test
    void tensorsFromListsAndBuffers() {
        check("check_tensor_from_lists_and_buffers");
    }

    @Test
    void badInputNamesTheProblem() {
        check("check_bad_input_names_the_problem");
    }

    @Test
    void torchdynCalls() {
        check("check_torchdyn_calls");
    }

    @Test
    void backwardThroughTrajectoryIndexMatchesFiniteDifferences() {
        check("check_backward_through_trajectory_index_matches_finite_differences");
    }

    @Test
    void tensorArithmeticGradientsMatchFiniteDifferences() {
        check("check_tensor_arithmetic_gradients_match_finite_differences");
    }

    @Test
    void sequentialModelsGradientsMatchFiniteDifferences() {
        check("check_sequential_models_gradients_match_finite_differences");
    }

    @Test
    void backwardTwiceIsRefused() {
        check("check_backward_twice_is_refused");
    }

    @Test
    void sequentialModelWithAugmenterTrains() {
        check("check_sequential_model_with_augmenter_trains");
    }

    @Test
    void trainerFitsMoons() {
        check("check_trainer_fits_moons");
    }

    @Test
    void pythonVectorFieldMatchesCosine() {
        check("check_python_vector_field_matches_cosine");
    }

    @Test
    void filesAreRefusedInTheSandbox() {
        check("check_files_are_refused_in_the_sandbox");
    }
}
