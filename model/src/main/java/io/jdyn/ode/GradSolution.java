package io.jdyn.ode;

import io.jdyn.DType;
import io.jdyn.Tensor;
import io.jdyn.TensorClosedException;
import io.jdyn.spi.BackwardOutcome;
import io.jdyn.spi.NativeBuffer;
import io.jdyn.spi.SolveOutcome;
import io.jdyn.spi.TapeHandle;
import java.util.Arrays;
import java.util.OptionalDouble;
import java.util.function.Supplier;

/**
 * A solve that can be differentiated: the states at the output times, as {@link Solution} has them,
 * and the tape its {@link Sensitivity} keeps for one {@link #backward(Tensor)} pass (PyTorch's
 * graph without retain_graph). Owns native memory (ys, the tape, the gradients): close it.
 *
 * <pre>{@code
 * try (GradSolution s = Odeint.odeint(field, y0, t, options,
 *         GradOptions.builder().sensitivity(Sensitivity.ADJOINT).build())) {
 *     Gradients g = s.backward(ysCotangent);   // dL/dy0, dL/dt, dL/dtheta into field.parameters().grad()
 * }
 * }</pre>
 */
public final class GradSolution implements AutoCloseable {
    /**
     * Where dL/dtheta goes: a tensor (or null), whether the gradients own it, and what to run once the
     * pass has accumulated into it (restoring the gradients of frozen layers).
     */
    record ParamGrad(Tensor tensor, boolean owned, Runnable afterBackward) {
        ParamGrad(Tensor tensor, boolean owned) {
            this(tensor, owned, () -> {});
        }
    }

    private final Tensor ys;
    private final double[] ts;
    private final SolveStats stats;
    private final Sensitivity sensitivity;
    private final double integralValue;
    private final boolean hasIntegral;
    private final long[] stateShape;
    private final Supplier<ParamGrad> paramGrad;
    private final long tapeBytes;
    private final long tapeSteps;
    private final double[] stepTimes;
    private final TapeHandle tape;
    private Gradients gradients;
    private boolean backwardDone;
    private boolean closed;

    GradSolution(Tensor ys, double[] ts, SolveStats stats, Sensitivity sensitivity, double integralValue,
            boolean hasIntegral, long[] stateShape, TapeHandle tape, Supplier<ParamGrad> paramGrad) {
        this.ys = ys;
        this.ts = ts;
        this.stats = stats;
        this.sensitivity = sensitivity;
        this.integralValue = integralValue;
        this.hasIntegral = hasIntegral;
        this.stateShape = stateShape;
        this.tape = tape;
        this.paramGrad = paramGrad;
        this.tapeBytes = tape.bytes();
        this.tapeSteps = tape.steps();
        this.stepTimes = tape.stepTimes();
    }

    /** States at {@link #ts()}: [ts().length, *y0.shape]. */
    public Tensor ys() {
        return ys;
    }

    public double[] ts() {
        return ts.clone();
    }

    /** The forward solve's statistics. */
    public SolveStats stats() {
        return stats;
    }

    public Sensitivity sensitivity() {
        return sensitivity;
    }

    /** The integral of the integral loss over the solve, when one was given. */
    public OptionalDouble integralValue() {
        return hasIntegral ? OptionalDouble.of(integralValue) : OptionalDouble.empty();
    }

    /** Native bytes the tape held after the forward solve (grows with the steps for autograd only). */
    public long tapeBytes() {
        return tapeBytes;
    }

    /** Accepted steps the autograd tape recorded (0 for the adjoint modes). */
    public long tapeSteps() {
        return tapeSteps;
    }

    /** The autograd tape's step boundaries, tapeSteps() + 1 times; empty for the adjoint modes. */
    public double[] stepTimes() {
        return stepTimes.clone();
    }

    /** Backward from the integral loss alone (a zero cotangent for ys). */
    public Gradients backward() {
        return run(null);
    }

    /**
     * The backward pass for L with dL/dys = ysCotangent (shaped and typed as {@link #ys()}). Once per
     * solution: the tape is freed afterwards. The gradients are owned by this solution (closed with it).
     */
    public Gradients backward(Tensor ysCotangent) {
        if (ysCotangent == null) throw new IllegalArgumentException("ysCotangent is null (use backward() for none)");
        return run(ysCotangent);
    }

    /**
     * The backward pass (ysCotangent may be null: the integral loss alone) that also fills SNOpt's
     * curvature request along the adjoint backsolve (adjoint sensitivities of a NeuralField only).
     */
    public Gradients backward(Tensor ysCotangent, CurvatureRequest curvature) {
        if (curvature == null) throw new IllegalArgumentException("curvature is null (use backward(Tensor))");
        if (sensitivity == Sensitivity.AUTOGRAD) {
            throw new IllegalArgumentException("SNOpt collects its statistics along the adjoint backward pass: use"
                    + " the adjoint or interpolated_adjoint sensitivity, not autograd");
        }
        return run(ysCotangent, curvature);
    }

    private Gradients run(Tensor cotangent) {
        return run(cotangent, null);
    }

    private synchronized Gradients run(Tensor cotangent, CurvatureRequest curvature) {
        if (closed) throw new TensorClosedException("the solution is closed");
        if (backwardDone) {
            throw new IllegalStateException("backward was already called on this solution: its tape supports one"
                    + " backward pass; solve again for another");
        }
        if (cotangent != null) {
            if (!Arrays.equals(cotangent.shape(), ys.shape())) {
                throw new IllegalArgumentException("ysCotangent has shape " + Arrays.toString(cotangent.shape())
                        + " but ys has shape " + Arrays.toString(ys.shape()));
            }
            if (cotangent.dtype() != ys.dtype()) {
                throw new IllegalArgumentException("ysCotangent is " + cotangent.dtype() + " but ys is " + ys.dtype());
            }
            cotangent.nativeBuffer(); // throws when closed
        }
        ParamGrad pg = paramGrad.get(); // throws when the field was closed
        backwardDone = true;
        DType dtype = ys.dtype();
        Tensor gY0 = Tensor.zeros(dtype, stateShape);
        double[] gTimes = new double[ts.length];
        BackwardOutcome out;
        try {
            NativeBuffer gp = pg.tensor() == null ? null : pg.tensor().nativeBuffer();
            NativeBuffer ct = cotangent == null ? null : cotangent.nativeBuffer();
            if (curvature == null) {
                out = tape.backward(ct, gY0.nativeBuffer(), gp, gTimes);
            } else {
                curvature.markFilled();
                out = tape.backwardCurvature(ct, gY0.nativeBuffer(), gp, gTimes, curvature.sampleStep(),
                        curvature.factors(), curvature.samplesHolder());
            }
        } catch (RuntimeException | Error e) {
            gY0.close();
            if (pg.owned() && pg.tensor() != null) pg.tensor().close();
            throw e;
        } finally {
            tape.close();
        }
        pg.afterBackward().run();
        BackwardStats bs = new BackwardStats(out.nfe(), out.accepted(), out.rejected());
        if (out.status() != SolveOutcome.OK) {
            gY0.close();
            if (pg.owned() && pg.tensor() != null) pg.tensor().close();
            SolveStats s = new SolveStats(out.nfe(), out.accepted(), out.rejected(), Double.NaN, Double.NaN,
                    new double[4]);
            throw Failures.of(out.status(), "backward pass: " + out.message(), s, -1, out.callbackError(),
                    "a Java callback of the backward pass");
        }
        gradients = new Gradients(gY0, gTimes, pg.tensor(), pg.owned(), bs, stats);
        return gradients;
    }

    static ParamGrad ownedZeros(DType dtype, long n) {
        return new ParamGrad(n > 0 ? Tensor.zeros(dtype, n) : null, true);
    }

    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        ys.close();
        tape.close();
        if (gradients != null) gradients.close();
    }

    @Override
    public String toString() {
        return "GradSolution(sensitivity=" + sensitivity + ", ys=" + Arrays.toString(ys.shape()) + ", " + stats
                + ", tape " + tapeBytes + " bytes)";
    }
}
