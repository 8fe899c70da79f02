package io.jdyn.e2e;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jdyn.e2e.Problems.Ode;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The non-stiff DETEST problems of Hull, Enright, Fellen and Sedgwick (1972), classes A and B, on
 * [0, 20], as diffrax's and torchdiffeq's test suites use them. The truth at t = 20 is the closed
 * form where there is one, else Hipparchus's DormandPrince853Integrator at rtol = atol = 1e-13.
 */
class DetestTest {
    private static final double[] TIMES = {0, 20};

    static Stream<Ode> problems() {
        List<Ode> all = new ArrayList<>(Problems.detestA());
        all.addAll(Problems.detestB());
        return all.stream();
    }

    static Stream<Arguments> problemsTimesAccurateMethods() {
        return problems().flatMap(p -> Stream.of("dopri5", "tsit5", "dopri8").map(m -> Arguments.of(p, m)));
    }

    static Stream<Arguments> problemsTimesProportionalMethods() {
        return problems().flatMap(p -> Stream.of("dopri5", "dopri8").map(m -> Arguments.of(p, m)));
    }

    static Stream<Ode> problemsWithClosedForm() {
        return problems().filter(p -> p.exact() != null);
    }

    /** The reference is only as good as Hipparchus at 1e-13: check it on the problems that have a closed form. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("problemsWithClosedForm")
    void hipparchusReferenceMatchesClosedForm(Ode p) {
        double err = Problems.maxAbsDiff(Problems.reference(p.rhs(), p.y0(), 0, p.t1()), p.exact().apply(p.t1()));
        // DP853 at rtol = atol = 1e-13 over 20 time units: global error a few 1e-12 at most; 1e-10 leaves
        // a wide margin while staying four orders below the 1e-6 bar the solver is held to.
        assertTrue(err < 1e-10, p + ": Hipparchus reference off the closed form by " + err);
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("problemsTimesAccurateMethods")
    void errorAtEndWithinBarAtTolerance1e8(Ode p, String method) {
        double[] y = Problems.solveFinal(p.rhs(), p.y0(), TIMES, Problems.adaptive(method, 1e-8));
        double err = Problems.maxAbsDiff(y, p.truth());
        // The bar of the issue: at rtol = atol = 1e-8 a 5th/8th-order pair keeps the global error at
        // t = 20 within 1e-6 (100x the local tolerance, room for accumulation over the span).
        assertTrue(err <= 1e-6, p + " " + method + ": error at t=20 is " + err);
    }

    static Stream<Arguments> classATimesLowOrderMethods() {
        return Problems.detestA().stream().flatMap(p -> Stream.of("heun", "bosh3").map(m -> Arguments.of(p, m)));
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("classATimesLowOrderMethods")
    void lowOrderAdaptiveMethodsOnClassA(Ode p, String method) {
        double[] y = Problems.solveFinal(p.rhs(), p.y0(), TIMES, Problems.adaptive(method, 1e-6));
        double err = Problems.maxAbsDiff(y, p.truth());
        // diffrax's bar for methods of order < 4, which it runs at rtol = atol = 1e-6: 1e-3.
        assertTrue(err <= 1e-3, p + " " + method + ": error at t=20 is " + err);
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("problemsTimesProportionalMethods")
    void errorShrinksWithTolerance(Ode p, String method) {
        double[] truth = p.truth();
        double[] tols = {1e-4, 1e-6, 1e-8};
        double[] errs = new double[tols.length];
        for (int i = 0; i < tols.length; i++) {
            errs[i] = Problems.maxAbsDiff(Problems.solveFinal(p.rhs(), p.y0(), TIMES, Problems.adaptive(method, tols[i])),
                    truth);
        }
        for (int i = 1; i < tols.length; i++) {
            // Tolerance proportionality: 100x tighter tolerance must buy at least 10x less error
            // (a loose bar: ideal proportionality gives 100x), unless the error is already at the
            // round-off floor of the reference and of the sum of 10^3..10^4 steps (1e-12).
            boolean ok = errs[i] <= errs[i - 1] / 10 || errs[i] < 1e-12;
            if (!ok) {
                // The one allowed exception: the shortfall is the algorithm's, not jdyn's. DOP853's
                // error estimate is optimistic on A3 (y' = y cos t), where Hipparchus's own
                // DormandPrince853 gains only 9.2x from 1e-6 to 1e-8 too. Accept it only when the
                // twin shows the same shortfall and jdyn's error is no worse than 1.5x the twin's
                // (identical algorithms agree to round-off; 1.5x leaves room for summation order).
                double twinLoose = Problems.maxAbsDiff(
                        Problems.hipparchusTwin(method, p.rhs(), p.y0(), p.t1(), tols[i - 1]), truth);
                double twinTight = Problems.maxAbsDiff(
                        Problems.hipparchusTwin(method, p.rhs(), p.y0(), p.t1(), tols[i]), truth);
                ok = twinTight > twinLoose / 10 && errs[i] <= 1.5 * twinTight;
            }
            assertTrue(ok, p + " " + method + ": errors at tol 1e-4, 1e-6, 1e-8 are " + errs[0] + ", " + errs[1]
                    + ", " + errs[2]);
        }
    }
}
