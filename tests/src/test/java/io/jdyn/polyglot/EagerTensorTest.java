package io.jdyn.polyglot;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jdyn.fn.Eager;
import java.io.IOException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

/**
 * The python-shim's eager tensors (every operation and its backward natively through {@link Eager}): each
 * test runs one check_* function of src/test/resources/python/eager_checks.py in one sandboxed GraalPy
 * context (shared: a context costs seconds to start). The checks compare each torch idiom with its
 * definition on small arrays and autograd through each operation with central finite differences in
 * float64; a check raises when it fails, and its Python traceback becomes the failure message.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(300)
class EagerTensorTest {
    private PythonChecks checks;

    @BeforeAll
    void start() throws IOException {
        checks = new PythonChecks("eager_checks.py");
    }

    @AfterAll
    void stop() {
        if (checks != null) checks.close();
    }

    private void check(String name) {
        checks.call(name);
        assertTrue(Eager.cacheSize() <= Eager.CAPACITY, "the program cache is bounded");
    }

    @Test
    void elementwiseAndBroadcasting() {
        check("check_elementwise_and_broadcasting");
    }

    @Test
    void elementwiseGradientsMatchFiniteDifferences() {
        check("check_elementwise_gradients");
    }

    @Test
    void slicing() {
        check("check_slicing");
    }

    @Test
    void catAndStack() {
        check("check_cat_and_stack");
    }

    @Test
    void matmul() {
        check("check_matmul");
    }

    @Test
    void reductions() {
        check("check_reductions");
    }

    @Test
    void softmax() {
        check("check_softmax");
    }

    @Test
    void shapes() {
        check("check_shapes");
    }

    @Test
    void creationAndRandom() {
        check("check_creation_and_random");
    }

    @Test
    void exportToListsAndBuffers() {
        check("check_export_to_lists_and_buffers");
    }

    @Test
    void autogradMechanics() {
        check("check_autograd_mechanics");
    }

    @Test
    void torchIdiomsWithModelCalls() {
        check("check_torch_idioms_with_model_calls");
    }

    @Test
    void stateDictRoundTrip() {
        check("check_state_dict_round_trip");
    }

    @Test
    void errorsNameTheProblem() {
        check("check_errors_name_the_problem");
    }
}
