package io.jdyn.polyglot;

import java.io.IOException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code NeuralODE(..., per_sample=True)} in the Python shim: src/test/resources/python/per_sample_checks.py
 * in one sandboxed GraalPy context (each row's output and input gradient equal the row solved alone, for
 * every sensitivity).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(300)
class PerSampleShimTest {
    private PythonChecks checks;

    @BeforeAll
    void start() throws IOException {
        checks = new PythonChecks("per_sample_checks.py");
    }

    @AfterAll
    void stop() {
        if (checks != null) checks.close();
    }

    @ParameterizedTest
    @ValueSource(strings = {"autograd", "adjoint", "interpolated_adjoint"})
    void rowsAsIfAlone(String sensitivity) {
        checks.call("rows_as_if_alone", sensitivity);
    }
}
