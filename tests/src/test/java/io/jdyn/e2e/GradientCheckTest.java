package io.jdyn.e2e;

import io.jdyn.e2e.GradSupport.Problem;
import io.jdyn.e2e.GradSupport.Subject;
import io.jdyn.nn.Augmenter;
import io.jdyn.nn.Basis;
import io.jdyn.nn.DepthCat;
import io.jdyn.nn.ELU;
import io.jdyn.nn.GalLinear;
import io.jdyn.nn.Layer;
import io.jdyn.nn.Linear;
import io.jdyn.nn.Sequential;
import io.jdyn.nn.SiLU;
import io.jdyn.nn.Sigmoid;
import io.jdyn.nn.Sin;
import io.jdyn.nn.Softplus;
import io.jdyn.nn.Tanh;
import io.jdyn.ode.GradOptions;
import io.jdyn.ode.Sensitivity;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Gradients of L = sum_k <c_k, y(t_k)> in float64 with respect to y0, every parameter and every
 * output time (t0 and t1 included), for every sensitivity mode and small random fields of every
 * layer kind, against finite differences. Autograd: central differences (eps 1e-5) of the fixed-grid
 * solve on its own steps moved with the perturbed times, to 1e-6 relative. Adjoints at rtol = atol =
 * 1e-10: 4-point differences (eps 1e-3: truncation O(eps^4)) of adaptive solves at 1e-12 (noise ~
 * tol / eps), to 1e-5 relative.
 */
class GradientCheckTest {
    private static final double[] TIMES = {0.1, 0.5, 1.0, 1.4};

    private static Sequential mlp(Layer activation) {
        return Sequential.of(new Linear(2, 6), activation, new Linear(6, 2));
    }

    static List<Arguments> cases() {
        List<Object[]> fields = new ArrayList<>();
        fields.add(field("Linear-Tanh-Linear", () -> mlp(new Tanh())));
        fields.add(field("Linear-Softplus-Linear", () -> mlp(new Softplus())));
        fields.add(field("Linear-SiLU-Linear", () -> mlp(new SiLU())));
        fields.add(field("Linear-ELU-Linear", () -> mlp(new ELU())));
        fields.add(field("Linear-Sigmoid-Linear", () -> mlp(new Sigmoid())));
        fields.add(field("Linear-Sin-Linear", () -> mlp(new Sin())));
        fields.add(field("DepthCat-Linear-Tanh-Linear",
                () -> Sequential.of(new DepthCat(), new Linear(3, 6), new Tanh(), new Linear(6, 2))));
        fields.add(field("Augmenter-Linear-Softplus-Linear",
                () -> Sequential.of(new Augmenter(2), new Linear(4, 6), new Softplus(2, 20), new Linear(6, 2))));
        fields.add(field("GalLinear(Fourier)-Tanh-GalLinear(Fourier)", () -> Sequential.of(
                new GalLinear(2, 6, Basis.fourier(2.0), 3), new Tanh(), new GalLinear(6, 2, Basis.fourier(2.0), 3))));
        fields.add(field("GalLinear(polynomial)-Tanh-Linear", () -> Sequential.of(
                new GalLinear(2, 6, Basis.polynomial(), 3), new Tanh(), new Linear(6, 2))));
        List<Arguments> out = new ArrayList<>();
        for (Sensitivity mode : Sensitivity.values()) {
            for (Object[] f : fields) out.add(Arguments.of(f[0], f[1], mode));
            out.add(Arguments.of("Java TanhField with its own VJP",
                    (Supplier<Subject>) () -> GradSupport.java("Java TanhField", new GradSupport.TanhField(2, 11)), mode));
        }
        return out;
    }

    private static Object[] field(String name, Supplier<Sequential> net) {
        Supplier<Subject> s = () -> GradSupport.neural(name, net.get(), 2, 1234);
        return new Object[] {name, s};
    }

    @ParameterizedTest(name = "{2}: {0}")
    @MethodSource("cases")
    void gradientsMatchFiniteDifferences(String name, Supplier<Subject> subject, Sensitivity mode) {
        try (Subject s = subject.get()) {
            GradSupport.check(s, new Problem(3, 2, TIMES, 7), mode, GradOptions.builder());
        }
    }
}
