package io.jdyn.ode;

import io.jdyn.Tensor;
import io.jdyn.nn.NeuralField;
import io.jdyn.spi.Backend;
import io.jdyn.spi.Backends;
import io.jdyn.spi.NativeBuffer;
import io.jdyn.spi.SolveOutcome;
import io.jdyn.spi.SolveRequest;
import java.util.Objects;

/**
 * torchdiffeq's {@code odeint} for the JVM: solves dz/dt = f(t, z) from {@code y0} at {@code t[0]}
 * and returns the states at every time in {@code t}. The whole solve is one native call.
 *
 * <pre>{@code
 * try (Tensor y0 = Tensor.of(new double[] {1, 0}, 1, 2);
 *      Solution s = Odeint.odeint((t, z, dz) -> { ... }, y0, new double[] {0, 1, 2},
 *              SolveOptions.builder().method("dopri5").rtol(1e-8).atol(1e-8).build())) {
 *     double[] ys = s.ys().toDoubleArray();
 * }
 * }</pre>
 */
public final class Odeint {
    private Odeint() {}

    /** Solves with the default options (dopri5, rtol 1e-7, atol 1e-9). */
    public static Solution odeint(VectorField f, Tensor y0, double[] t) {
        return odeint(f, y0, t, SolveOptions.defaults());
    }

    /**
     * Solves with the given options. y0 is [dim] or [batch, dim]; every row of a batch shares one
     * step. Throws IllegalArgumentException for bad arguments and a {@link SolveException} subclass
     * when the step loop fails.
     *
     * <p>A {@link NeuralField} runs as a native layer program inside the engine (no upcall per
     * evaluation, no tape: the inference path); events and dense output are not available for it.
     */
    public static Solution odeint(VectorField f, Tensor y0, double[] t, SolveOptions options) {
        SolveSetup s = SolveSetup.check(f, y0, t, options);
        if (f instanceof NeuralField nf) return GradSolves.inference(nf, s);
        return solve(s, f::evaluate, null);
    }

    /**
     * Per-sample solve with a field that takes each row at its own time (torchode's per-sample
     * stepping): with {@code options.perSample()} and an adaptive method, every row of y0 [batch, dim]
     * takes its own steps, as if solved alone, and the field is called once per lockstep evaluation of
     * the batch with the rows' times. Without perSample the rows share one step and every row gets the
     * step's time. {@code solution.stats().perSample()} has each row's evaluations and steps.
     * Terminal events and dense output are refused with per-sample adaptive stepping.
     *
     * <p>A plain {@link VectorField} with perSample options also works ({@link #odeint}), but the
     * engine must call it once per run of consecutive rows at one time, on that sub-batch: rows soon
     * all have their own times, so that is one call per row, and the field sees sub-batches (it must not
     * depend on a row's position in the batch).
     */
    public static Solution odeintPerSample(SampleVectorField f, Tensor y0, double[] t, SolveOptions options) {
        SolveSetup s = SolveSetup.check(f, y0, t, options);
        return solve(s, null, f::evaluate);
    }

    private static Solution solve(SolveSetup s, io.jdyn.spi.FieldInvoker field, io.jdyn.spi.SampleFieldInvoker sample) {
        SolveOptions options = s.spec.options();
        Backend backend = Backends.get();
        NativeBuffer ys = s.allocateYs(backend);
        NativeBuffer eventState = options.event() == null ? null : backend.allocate(s.spec.dtype(), s.spec.perState());
        SolveRequest request = new SolveRequest(s.spec, field, s.y0.nativeBuffer(), ys, eventState, sample);
        SolveOutcome out;
        try {
            out = backend.solve(request);
        } catch (RuntimeException | Error e) {
            ys.close();
            if (eventState != null) eventState.close();
            throw e;
        }
        SolveStats stats = Failures.stats(out);
        if (out.status() != SolveOutcome.OK) {
            ys.close();
            if (eventState != null) eventState.close();
            if (out.dense() != null) out.dense().close();
            throw Failures.of(out, stats, "the vector field");
        }
        Tensor ysTensor = Tensor.wrap(ys, s.ysShape(out.outputs()));
        Tensor eventTensor = null;
        if (eventState != null) {
            if (out.eventFound()) {
                eventTensor = Tensor.wrap(eventState, s.stateShape);
            } else {
                eventState.close();
            }
        }
        DenseInterpolant dense = out.dense() == null ? null
                : new DenseInterpolant(out.dense(), s.spec.dtype(), s.stateShape);
        return new Solution(ysTensor, s.ts(out.outputs()), stats, dense, out.eventTime(), eventTensor);
    }

    /**
     * Solves a {@link NeuralField} and keeps what {@code grad.sensitivity()} needs for one backward
     * pass: the whole solve, forward and (later) backward, runs natively. Events and dense output are
     * not available here.
     */
    public static GradSolution odeint(NeuralField f, Tensor y0, double[] t, SolveOptions options, GradOptions grad) {
        SolveSetup s = SolveSetup.check(f, y0, t, options);
        return GradSolves.solve(f, s, Objects.requireNonNull(grad, "grad options"));
    }

    /**
     * Solves a Java field with its own VJP and keeps what {@code grad.sensitivity()} needs for one
     * backward pass; the field and its VJP are upcalls. Events and dense output are not available here.
     */
    public static GradSolution odeint(DifferentiableVectorField f, Tensor y0, double[] t, SolveOptions options,
            GradOptions grad) {
        SolveSetup s = SolveSetup.check(f, y0, t, options);
        return GradSolves.solve(f, s, Objects.requireNonNull(grad, "grad options"));
    }
}
