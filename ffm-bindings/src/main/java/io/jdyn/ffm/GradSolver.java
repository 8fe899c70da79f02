package io.jdyn.ffm;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import io.jdyn.DType;
import io.jdyn.ode.GradOptions;
import io.jdyn.ode.IntegralLoss;
import io.jdyn.spi.GradOutcome;
import io.jdyn.spi.GradRequest;
import io.jdyn.spi.SolveOutcome;
import io.jdyn.spi.SolveRequest;
import io.jdyn.spi.SolveSpec;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Solves of differentiable fields: jdyn_program_solve for a layer program (which runs inside the
 * engine: no upcall unless an integral loss is given) and jdyn_diff_field_solve for a Java field with
 * its VJP (upcalls). Wraps the tape, when one was asked for, in an {@link FfmTape}.
 */
final class GradSolver {
    private GradSolver() {}

    static GradOutcome solve(JdynLibrary lib, GradRequest g) {
        SolveRequest r = g.solve();
        SolveSpec spec = r.spec();
        SolveStructs.checkShape(spec);
        DType dtype = spec.dtype();
        long perState = spec.perState();
        long nTimes = spec.times().length;
        FfmBuffer y0 = FfmBuffer.checked(r.y0(), dtype, perState, "y0");
        FfmBuffer ys = FfmBuffer.checked(r.ys(), dtype, perState * nTimes, "ys");
        FfmProgram program = null;
        FfmBuffer params = null;
        long numParams = g.numParams();
        if (g.program() != null) {
            if (!(g.program() instanceof FfmProgram p)) {
                throw new IllegalArgumentException("program " + g.program().getClass().getName()
                        + " does not belong to the FFM backend");
            }
            program = p;
            numParams = p.numParams();
            if (p.dtype() != dtype) throw new IllegalArgumentException("the program is " + p.dtype() + " but y0 is " + dtype);
            params = p.buffer(g.params(), Math.max(1, numParams), "params");
        } else if (r.field() == null || g.vjp() == null) {
            throw new IllegalArgumentException("a differentiable solve needs a program, or a Java field and its VJP");
        }
        GradOptions gradOptions = g.grad(); // null: forward only, no tape
        IntegralLoss loss = gradOptions == null ? null : gradOptions.integralLoss();
        // A per-sample adaptive solve runs each row alone: a Java field is called back one row at a time.
        boolean perRow = spec.options().perSample() && spec.options().adaptive();
        int callbackBatch = perRow ? 1 : (int) spec.batch();
        Upcalls.Active active = Upcalls.Active.of(r.field(), SolveStructs.event(spec), g.vjp(),
                loss == null ? null : loss::value, dtype, callbackBatch, (int) spec.dim(), numParams);
        if (program != null) program.retain();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment cfg = SolveStructs.config(a, spec, program == null ? Upcalls.FIELD_STUB : MemorySegment.NULL);
            MemorySegment grad = gradOptions == null ? MemorySegment.NULL : GradStructs.gradOptions(a, gradOptions);
            MemorySegment stats = a.allocate(SolveStructs.STATS);
            MemorySegment sampleStats = perRow ? a.allocate(JAVA_LONG, 3 * spec.batch()) : null;
            if (sampleStats != null) SolveStructs.set(cfg, "sample_stats", sampleStats);
            MemorySegment integralValue = a.allocate(JAVA_DOUBLE);
            MemorySegment tapeOut = g.keepTape() ? a.allocate(ADDRESS) : MemorySegment.NULL;
            int status;
            Upcalls.Active previous = Upcalls.enter(active);
            try {
                if (program != null) {
                    status = (int) lib.programSolve.invokeExact(cfg, program.handle(), params.segment(), grad,
                            y0.segment(), ys.segment(), stats, integralValue, tapeOut);
                } else {
                    status = (int) lib.diffFieldSolve.invokeExact(cfg, GradStructs.diffField(a, numParams), grad,
                            y0.segment(), ys.segment(), stats, integralValue, tapeOut);
                }
            } finally {
                Upcalls.exit(previous);
            }
            String message = status == 0 ? "" : lib.lastErrorMessage();
            MemorySegment tapeHandle = g.keepTape() ? tapeOut.get(ADDRESS, 0) : MemorySegment.NULL;
            FfmTape tape = null;
            if (!tapeHandle.equals(MemorySegment.NULL)) {
                if (program != null) program.retainAgain(); // the tape's own reference, released when it is freed
                tape = new FfmTape(lib, tapeHandle, program, params, active, dtype, perState, nTimes, numParams);
            }
            SolveOutcome outcome = SolveStructs.outcome(status, message, stats, active.error, null,
                    sampleStats == null ? MemorySegment.NULL : sampleStats);
            return new GradOutcome(outcome, integralValue.get(JAVA_DOUBLE, 0), tape);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("native solve failed: " + t, t);
        } finally {
            if (program != null) program.release();
        }
    }
}
