package io.jdyn.polyglot;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jdyn.DType;
import io.jdyn.Tensor;
import io.jdyn.fn.Fn;
import io.jdyn.fn.Init;
import io.jdyn.fn.Sym;
import io.jdyn.models.NeuralODE;
import io.jdyn.nn.Linear;
import io.jdyn.nn.Sequential;
import io.jdyn.nn.Tanh;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.graalvm.polyglot.Value;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Vector fields written the torch way in Python (an nn.Module's forward, a function f(t, x)), traced once
 * into native programs: src/test/resources/python/trace_checks.py's checks in one sandboxed GraalPy
 * context, and the traced field against the same field written with the Java Fn API (same parameters by
 * name and seed, same outputs and gradients to 1e-12 in float64, same NFE).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(300)
class TracedFieldTest {
    private PythonChecks checks;

    @BeforeAll
    void start() throws IOException {
        checks = new PythonChecks("trace_checks.py");
    }

    @AfterAll
    void stop() {
        if (checks != null) checks.close();
    }

    private Value call(String name) {
        return checks.call(name);
    }

    /** trace_checks.TwinField written with the Java Fn API. */
    static final Fn TWIN = (t, x, p) -> {
        Sym h = Sequential.of(new Linear(2, 16), new Tanh(), new Linear(16, 2)).apply(t, x, p.scope("net"));
        Sym gate = x.slice(1, 0, 1).sigmoid();
        Sym scale = p.param("scale", Init.zeros(), 2);
        return h.mul(gate).add(scale.mul(t.sin())).sub(x.pow(3).mul(0.1));
    };

    @Test
    void tracedPythonFieldEqualsTheJavaFnField() {
        NeuralODE py = call("make_twin_model").as(NeuralODE.class);
        try (NeuralODE jv = NeuralODE.builder(TWIN, 2).dtype(DType.FLOAT64).seed(7).solver("dopri5")
                .sensitivity("adjoint").rtol(1e-6).atol(1e-6).rtolAdjoint(1e-4).atolAdjoint(1e-4)
                .seminorm(false).sSpan(0.0, 1.0).build()) {
            jv.parameters().set("scale", new double[] {0.5, -0.25});
            // same names, layout and (from the same seed) the same initial values
            assertEquals(List.of("net.0.weight", "net.0.bias", "net.2.weight", "net.2.bias", "scale"),
                    py.parameters().names());
            assertEquals(jv.parameters().infos(), py.parameters().infos());
            assertArrayEquals(jv.parameters().values().toDoubleArray(), py.parameters().values().toDoubleArray(),
                    0.0);
            double[] x0 = {0.5, -1.0, 1.5, 0.25, -0.75, 0.5, 0.1, 0.9};
            double[] cot = {1.0, -0.5, 0.25, 2.0, -1.0, 0.5, 0.3, -0.2};
            try (Tensor x = Tensor.of(x0, 4, 2); Tensor c = Tensor.of(cot, 4, 2);
                    Tensor yPy = py.forward(x); Tensor yJava = jv.forward(x)) {
                assertArrayEquals(yJava.toDoubleArray(), yPy.toDoubleArray(), 1e-12, "forward");
                py.resetNfe();
                jv.resetNfe();
                py.zeroGrad();
                jv.zeroGrad();
                try (NeuralODE.Trace tp = py.trace(x); NeuralODE.Trace tj = jv.trace(x);
                        Tensor gp = tp.backward(c); Tensor gj = tj.backward(c)) {
                    assertArrayEquals(tj.output().toDoubleArray(), tp.output().toDoubleArray(), 1e-12, "trace output");
                    assertArrayEquals(gj.toDoubleArray(), gp.toDoubleArray(), 1e-12, "dL/dx");
                    double[] pj = jv.parameters().grad().toDoubleArray(), pp = py.parameters().grad().toDoubleArray();
                    assertArrayEquals(pj, pp, 1e-12, "dL/dtheta");
                    assertTrue(Arrays.stream(pj).anyMatch(v -> v != 0), "non-trivial gradients");
                }
                assertEquals(jv.nfe(), py.nfe(), "NFE");
                assertEquals(jv.forwardNfe(), py.forwardNfe(), "forward NFE");
                assertTrue(py.nfe() > 0);
            }
        } finally {
            py.close();
        }
    }

    @Test
    void moduleFieldTrainsWithAdjoint() {
        call("check_module_field_trains_with_adjoint");
    }

    @Test
    void stateDictRoundTripAndParameters() {
        call("check_state_dict_round_trip_and_parameters");
    }

    @Test
    void hnnWithAutogradGradMatchesTheAnalyticField() {
        call("check_hnn_with_autograd_grad_matches_the_analytic_field");
    }

    @Test
    void functionFieldsAndOperations() {
        call("check_function_fields_and_operations");
    }

    @Test
    void refusalsNameTheLine() {
        call("check_refusals_name_the_line");
    }

    @Test
    void saveAndLoadATracedField(@TempDir Path dir) throws IOException {
        try (PythonChecks files = new PythonChecks("trace_checks.py", true)) {
            files.call("check_save_and_load_a_traced_field", dir.resolve("twin.safetensors").toString());
        }
    }
}
