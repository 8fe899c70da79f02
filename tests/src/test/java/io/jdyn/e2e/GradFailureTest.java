package io.jdyn.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jdyn.DType;
import io.jdyn.Tensor;
import io.jdyn.TensorClosedException;
import io.jdyn.nn.Linear;
import io.jdyn.nn.NeuralField;
import io.jdyn.nn.Sequential;
import io.jdyn.nn.Tanh;
import io.jdyn.ode.BatchView;
import io.jdyn.ode.DifferentiableVectorField;
import io.jdyn.ode.GradOptions;
import io.jdyn.ode.GradSolution;
import io.jdyn.ode.MaxStepsExceededException;
import io.jdyn.ode.Odeint;
import io.jdyn.ode.ParamView;
import io.jdyn.ode.Sensitivity;
import io.jdyn.ode.Solution;
import io.jdyn.ode.SolveOptions;
import io.jdyn.ode.VectorFieldException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Misuse and failures of solves with gradients: clear exceptions, and a JVM that carries on. */
class GradFailureTest {
    private static final Sequential MLP = Sequential.of(new Linear(2, 4), new Tanh(), new Linear(4, 2));
    private static final double[] T = {0, 0.5, 1};

    private static <E extends Throwable> E assertThrowsNaming(Class<E> type, String words, Executable run) {
        E e = assertThrows(type, run);
        assertTrue(e.getMessage() != null && e.getMessage().contains(words),
                "message should name '" + words + "': " + e.getMessage());
        return e;
    }

    private static GradOptions opts(Sensitivity s) {
        return GradOptions.builder().sensitivity(s).build();
    }

    @AfterEach
    void stillHealthy() {
        try (NeuralField f = NeuralField.of(MLP, 2, DType.FLOAT64, 1);
                Tensor y0 = Tensor.of(new double[] {1, 0}, 1, 2);
                Tensor ct = Tensor.of(new double[] {0, 0, 1, 1}, 2, 1, 2);
                GradSolution s = Odeint.odeint(f, y0, new double[] {0, 1}, SolveOptions.defaults(),
                        opts(Sensitivity.ADJOINT))) {
            assertEquals(1, s.backward(ct).y0().numel() / 2);
        }
    }

    @ParameterizedTest
    @EnumSource(Sensitivity.class)
    void misuseOfTheBackwardPass(Sensitivity mode) {
        try (NeuralField f = NeuralField.of(MLP, 2, DType.FLOAT64, 1);
                Tensor y0 = Tensor.of(new double[] {1, 0, 0, 1}, 2, 2);
                Tensor good = Tensor.zeros(DType.FLOAT64, 3, 2, 2);
                Tensor badShape = Tensor.zeros(DType.FLOAT64, 3, 4);
                Tensor badType = Tensor.zeros(DType.FLOAT32, 3, 2, 2)) {
            GradSolution s = Odeint.odeint(f, y0, T, SolveOptions.defaults(), opts(mode));
            assertThrowsNaming(IllegalArgumentException.class, "shape", () -> s.backward(badShape));
            assertThrowsNaming(IllegalArgumentException.class, "FLOAT32", () -> s.backward(badType));
            s.backward(good);
            assertThrowsNaming(IllegalStateException.class, "already", () -> s.backward(good));
            s.close();
            assertThrowsNaming(TensorClosedException.class, "closed", () -> s.backward(good));
            s.close(); // idempotent

            GradSolution s2 = Odeint.odeint(f, y0, T, SolveOptions.defaults(), opts(mode));
            s2.close();
            assertThrowsNaming(TensorClosedException.class, "closed", () -> s2.backward(good));
            assertThrows(TensorClosedException.class, () -> s2.ys().toDoubleArray());
        }
    }

    @Test
    void backwardAfterTheFieldWasClosed() {
        NeuralField f = NeuralField.of(MLP, 2, DType.FLOAT64, 1);
        try (Tensor y0 = Tensor.of(new double[] {1, 0}, 1, 2); Tensor ct = Tensor.zeros(DType.FLOAT64, 3, 1, 2);
                GradSolution s = Odeint.odeint(f, y0, T, SolveOptions.defaults(), opts(Sensitivity.AUTOGRAD))) {
            f.close();
            assertThrowsNaming(IllegalStateException.class, "closed", () -> s.backward(ct));
        }
    }

    /** A Java field whose VJP or forward throws on demand. */
    static final class Faulty implements DifferentiableVectorField {
        final boolean vjpThrows;
        final boolean forwardThrows;

        Faulty(boolean vjpThrows, boolean forwardThrows) {
            this.vjpThrows = vjpThrows;
            this.forwardThrows = forwardThrows;
        }

        @Override
        public int numParams() {
            return 1;
        }

        @Override
        public void evaluate(double t, BatchView z, BatchView dz) {
            if (forwardThrows) throw new IllegalStateException("forward is broken");
            for (int i = 0; i < z.batch() * z.dim(); i++) dz.set(i, -z.get(i));
        }

        @Override
        public double vjp(double t, BatchView z, BatchView v, BatchView gz, ParamView gp) {
            if (vjpThrows) throw new ArithmeticException("vjp is broken");
            for (int i = 0; i < z.batch() * z.dim(); i++) gz.set(i, -v.get(i));
            return 0;
        }
    }

    @ParameterizedTest
    @EnumSource(Sensitivity.class)
    void aJavaVjpThatThrowsEndsTheBackwardPassWithVectorFieldException(Sensitivity mode) {
        try (Tensor y0 = Tensor.of(new double[] {1, 0}, 1, 2); Tensor ct = Tensor.zeros(DType.FLOAT64, 3, 1, 2);
                GradSolution s = Odeint.odeint(new Faulty(true, false), y0, T, SolveOptions.defaults(), opts(mode))) {
            VectorFieldException e = assertThrows(VectorFieldException.class, () -> s.backward(ct));
            assertInstanceOf(ArithmeticException.class, e.getCause());
            assertTrue(e.getMessage().contains("ArithmeticException") && e.getMessage().contains("backward"),
                    e.getMessage());
            assertThrowsNaming(IllegalStateException.class, "already", () -> s.backward(ct));
        }
    }

    @Test
    void aJavaForwardThatThrowsEndsTheSolve() {
        try (Tensor y0 = Tensor.of(new double[] {1, 0}, 1, 2)) {
            VectorFieldException e = assertThrows(VectorFieldException.class,
                    () -> Odeint.odeint(new Faulty(false, true), y0, T, SolveOptions.defaults(),
                            opts(Sensitivity.ADJOINT)).close());
            assertInstanceOf(IllegalStateException.class, e.getCause());
            assertEquals("forward is broken", e.getCause().getMessage());
        }
    }

    @Test
    void anIntegralLossThatThrowsEndsTheSolve() {
        try (NeuralField f = NeuralField.of(MLP, 2, DType.FLOAT64, 1); Tensor y0 = Tensor.of(new double[] {1, 0}, 1, 2)) {
            VectorFieldException e = assertThrows(VectorFieldException.class,
                    () -> Odeint.odeint(f, y0, T, SolveOptions.defaults(), GradOptions.builder()
                            .integralLoss((t, z, g) -> {
                                throw new UnsupportedOperationException("no loss today");
                            }).build()).close());
            assertInstanceOf(UnsupportedOperationException.class, e.getCause());
        }
    }

    @Test
    void theBackwardStepBudgetIsEnforced() {
        try (NeuralField f = NeuralField.of(MLP, 2, DType.FLOAT64, 1); Tensor y0 = Tensor.of(new double[] {1, 0}, 1, 2);
                Tensor ct = Tensor.of(new double[] {1, 1, 1, 1, 1, 1}, 3, 1, 2);
                GradSolution s = Odeint.odeint(f, y0, new double[] {0, 5, 10}, GradSupport.adaptive(1e-10),
                        GradOptions.builder().sensitivity(Sensitivity.ADJOINT).maxSteps(3).build())) {
            MaxStepsExceededException e = assertThrows(MaxStepsExceededException.class, () -> s.backward(ct));
            assertTrue(e.getMessage().contains("backward"), e.getMessage());
        }
    }

    @Test
    void eventsAndDenseOutputAreRefusedWithGradients() {
        try (NeuralField f = NeuralField.of(MLP, 2, DType.FLOAT64, 1); Tensor y0 = Tensor.of(new double[] {1, 0}, 1, 2)) {
            assertThrowsNaming(IllegalArgumentException.class, "dense", () -> Odeint.odeint(f, y0, T,
                    SolveOptions.builder().dense(true).build(), GradOptions.defaults()));
            assertThrowsNaming(IllegalArgumentException.class, "events", () -> Odeint.odeint(new Faulty(false, false),
                    y0, T, SolveOptions.builder().event(io.jdyn.ode.Event.terminal((t, z) -> z.get(0, 0))).build(),
                    GradOptions.defaults()));
        }
        // The plain path of a Java differentiable field still takes events (it is a VectorField).
        try (Tensor y0 = Tensor.of(new double[] {1, 0}, 1, 2);
                Solution s = Odeint.odeint((io.jdyn.ode.VectorField) new Faulty(false, false), y0, T)) {
            assertEquals(Math.exp(-1), s.ys().get(2, 0, 0), 1e-6);
        }
    }

    @Test
    void abandonedFieldsAndSolutionsAreLeftToTheCleaners() throws InterruptedException {
        // Tapes that outlive their (closed or unreachable) program, never closed: the cleaners free
        // tapes before the programs they hold, whatever order the collector finds them in.
        for (int i = 0; i < 50; i++) {
            NeuralField f = NeuralField.of(MLP, 2, DType.FLOAT64, i);
            Tensor y0 = Tensor.of(new double[] {1, 0}, 1, 2);
            Odeint.odeint(f, y0, T, SolveOptions.defaults(), opts(Sensitivity.values()[i % 3]));
            if (i % 2 == 0) f.close();
            y0.close();
        }
        for (int i = 0; i < 5; i++) {
            System.gc();
            Thread.sleep(20);
        }
    }
}
