package io.jdyn.polyglot;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.jdyn.DType;
import io.jdyn.Tensor;
import io.jdyn.models.CNF;
import io.jdyn.models.NeuralODE;
import io.jdyn.models.TraceEstimator;
import io.jdyn.nn.NeuralField;
import io.jdyn.nn.Linear;
import io.jdyn.nn.Sequential;
import io.jdyn.nn.Tanh;
import java.io.IOException;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

/**
 * torchdyn's CNF from Python (src/test/resources/python/cnf_checks.py: the tutorial's spelling, its
 * training loop and sampling, MultivariateNormal), and the flow the shim traces from torchdyn's own
 * formulation against the same flow built with the Java API ({@link CNF}): same parameter names and layout,
 * the same outputs and gradients in float64.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(300)
class CNFShimTest {
    private PythonChecks checks;

    @BeforeAll
    void start() throws IOException {
        checks = new PythonChecks("cnf_checks.py");
    }

    @AfterAll
    void stop() {
        if (checks != null) checks.close();
    }

    @Test
    void shimCnfEqualsTheJavaCnf() {
        NeuralODE py = checks.call("make_cnf_model").as(NeuralODE.class);
        try (NeuralODE jv = NeuralODE.builder(new CNF(Sequential.of(new Linear(2, 16), new Tanh(), new Linear(16, 2))), 3)
                .dtype(DType.FLOAT64).seed(7).solver("dopri5").sensitivity("adjoint").rtol(1e-8).atol(1e-8).seminorm(false).build()) {
            assertEquals(List.of("net.0.weight", "net.0.bias", "net.2.weight", "net.2.bias"), py.parameters().names());
            assertEquals(jv.parameters().infos(), py.parameters().infos());
            for (String name : py.parameters().names()) jv.parameters().set(name, py.parameters().get(name));
            double[] x0 = {0, 0.5, -1.0, 0, 1.5, 0.25, 0, -0.75, 0.5, 0, 0.1, 0.9};
            double[] cot = {0.25, 1.0, -0.5, 0.25, 0.25, 2.0, 0.25, -1.0, 0.5, 0.25, 0.3, -0.2};
            try (Tensor x = Tensor.of(x0, 4, 3); Tensor c = Tensor.of(cot, 4, 3);
                    Tensor yPy = py.forward(x); Tensor yJava = jv.forward(x)) {
                // One program from two front ends: equal up to summation order (float64, solves at 1e-8).
                assertArrayEquals(yJava.toDoubleArray(), yPy.toDoubleArray(), 1e-10, "forward");
                py.zeroGrad();
                jv.zeroGrad();
                try (NeuralODE.Trace a = py.trace(x); NeuralODE.Trace b = jv.trace(x);
                        Tensor ga = a.backward(c); Tensor gb = b.backward(c)) {
                    assertArrayEquals(gb.toDoubleArray(), ga.toDoubleArray(), 1e-8, "dL/dx");
                    assertArrayEquals(jv.grad(), py.grad(), 1e-8, "dL/dtheta");
                }
            }
        }
    }

    @Test
    void shimHutchinsonFieldEqualsTheJavaOne() {
        for (CNF.NoiseDist dist : CNF.NoiseDist.values()) {
            String kind = dist == CNF.NoiseDist.GAUSSIAN ? "gaussian" : "rademacher";
            NeuralField py = checks.call("make_hutch_field", kind).as(NeuralField.class);
            try (NeuralField jv = NeuralField.of(new CNF(Sequential.of(new Linear(2, 16), new Tanh(), new Linear(16, 2)),
                    TraceEstimator.HUTCH_TRACE, dist), 3, DType.FLOAT64, 7)) {
                assertEquals(List.of("net.0.weight", "net.0.bias", "net.2.weight", "net.2.bias", "noise"),
                        py.parameters().names());
                assertEquals(jv.noiseSeeds(), py.noiseSeeds());
                for (String name : py.parameters().names()) jv.parameters().set(name, py.parameters().get(name));
                double[] x0 = {0, 0.5, -1.0, 0, 1.5, 0.25, 0, -0.75, 0.5, 0, 0.1, 0.9};
                for (long draw : new long[] {3, 4}) {
                    py.drawNoise(draw);
                    jv.drawNoise(draw);
                    try (Tensor x = Tensor.of(x0, 4, 3); Tensor a = py.forward(0.3, x); Tensor b = jv.forward(0.3, x)) {
                        assertArrayEquals(b.toDoubleArray(), a.toDoubleArray(), 1e-12, dist + " draw " + draw);
                    }
                }
            } finally {
                py.close();
            }
        }
    }

    @Test
    void hutchinsonTutorialTrains() {
        checks.call("check_hutchinson_tutorial_trains");
    }

    @Test
    void priorLogProbAndSample() {
        checks.call("check_prior_log_prob_and_sample");
    }

    @Test
    void torchdynTutorialTrainsAndSamples() {
        checks.call("check_tutorial_trains_and_samples");
    }

    @Test
    void badArgumentsAreNamed() {
        checks.call("check_bad_arguments_are_named");
    }
}
