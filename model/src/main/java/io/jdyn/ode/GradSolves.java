package io.jdyn.ode;

import io.jdyn.Tensor;
import io.jdyn.nn.NeuralField;
import io.jdyn.spi.Backend;
import io.jdyn.spi.Backends;
import io.jdyn.spi.FieldInvoker;
import io.jdyn.spi.GradOutcome;
import io.jdyn.spi.GradRequest;
import io.jdyn.spi.NativeBuffer;
import io.jdyn.spi.ProgramHandle;
import io.jdyn.spi.SolveOutcome;
import io.jdyn.spi.VjpInvoker;
import java.util.Arrays;
import java.util.function.Supplier;

/**
 * Internal: solves of differentiable fields: the inference path of a {@link NeuralField} (the program
 * runs inside the engine, no tape, no upcall) and the solves with a tape behind {@link GradSolution}.
 */
final class GradSolves {
    private static final String WHO = "a Java callback (vector field, VJP or integral loss)";

    private GradSolves() {}

    /** Forward-only solve of a layer program: one native call, no upcall per evaluation. */
    static Solution inference(NeuralField f, SolveSetup s) {
        checkField(f, s);
        s.refuseEventsAndDense("a NeuralField solve");
        Backend backend = Backends.get();
        NativeBuffer ys = s.allocateYs(backend);
        GradRequest r = new GradRequest(s.request(null, ys, null), f.program(), f.paramsBuffer(), null, 0, null);
        SolveOutcome out = run(backend, r, ys).outcome();
        return new Solution(Tensor.wrap(ys, s.ysShape(out.outputs())), s.ts(out.outputs()), Failures.stats(out), null,
                Double.NaN, null);
    }

    static GradSolution solve(NeuralField f, SolveSetup s, GradOptions g) {
        checkField(f, s);
        ProgramHandle program = f.program();
        Supplier<GradSolution.ParamGrad> target = () -> {
            if (f.isClosed()) {
                throw new IllegalStateException("the NeuralField of this solution was closed: no backward pass");
            }
            if (f.numParams() == 0) return new GradSolution.ParamGrad(null, false);
            // Frozen layers keep the gradient they had (zero after zeroGrad), as requires_grad=False does.
            Runnable restoreFrozen = f.parameters().frozenGradSnapshot();
            return new GradSolution.ParamGrad(f.parameters().grad(), false, restoreFrozen);
        };
        return taped(s, g, program, f.paramsBuffer(), null, null, 0, target);
    }

    static GradSolution solve(DifferentiableVectorField f, SolveSetup s, GradOptions g) {
        int n = f.numParams();
        if (n < 0) throw new IllegalArgumentException("numParams() must be >= 0, got " + n);
        Supplier<GradSolution.ParamGrad> target = () -> GradSolution.ownedZeros(s.spec.dtype(), n);
        return taped(s, g, null, null, f::vjp, f::evaluate, n, target);
    }

    private static GradSolution taped(SolveSetup s, GradOptions g, ProgramHandle program, NativeBuffer params,
            VjpInvoker vjp, FieldInvoker forward, long numParams,
            Supplier<GradSolution.ParamGrad> target) {
        s.refuseEventsAndDense("a solve with gradients");
        Backend backend = Backends.get();
        NativeBuffer ys = s.allocateYs(backend);
        GradRequest r = new GradRequest(s.request(forward, ys, null), program, params, vjp, numParams, g);
        GradOutcome out = run(backend, r, ys);
        SolveOutcome o = out.outcome();
        try {
            return new GradSolution(Tensor.wrap(ys, s.ysShape(o.outputs())), s.ts(o.outputs()),
                    Failures.stats(o),
                    g.sensitivity(), out.integralValue(), g.integralLoss() != null, s.stateShape, out.tape(), target);
        } catch (RuntimeException | Error e) {
            ys.close();
            out.tape().close();
            throw e;
        }
    }

    /** Runs the request; on failure frees ys (and any tape) and throws the matching exception. */
    private static GradOutcome run(Backend backend, GradRequest r, NativeBuffer ys) {
        GradOutcome out;
        try {
            out = backend.solveDifferentiable(r);
        } catch (RuntimeException | Error e) {
            ys.close();
            throw e;
        }
        SolveOutcome o = out.outcome();
        if (o.status() != SolveOutcome.OK) {
            ys.close();
            if (out.tape() != null) out.tape().close();
            throw Failures.of(o, Failures.stats(o), WHO);
        }
        if (r.keepTape() && out.tape() == null) {
            ys.close();
            throw new IllegalStateException("the backend returned no tape for a solve with gradients");
        }
        return out;
    }

    private static void checkField(NeuralField f, SolveSetup s) {
        if (f.isClosed()) throw new IllegalStateException("the NeuralField is closed");
        f.requireVectorField();
        if (f.dim() != s.spec.dim()) {
            throw new IllegalArgumentException("the NeuralField has width " + f.dim() + " but y0 has dim "
                    + s.spec.dim() + " (shape " + Arrays.toString(s.stateShape) + ")");
        }
        if (f.dtype() != s.spec.dtype()) {
            throw new IllegalArgumentException("the NeuralField is " + f.dtype() + " but y0 is " + s.spec.dtype());
        }
    }
}
