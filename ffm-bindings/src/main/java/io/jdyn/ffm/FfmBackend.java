package io.jdyn.ffm;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

import io.jdyn.DType;
import io.jdyn.spi.Backend;
import io.jdyn.spi.DenseHandle;
import io.jdyn.spi.GradOutcome;
import io.jdyn.spi.GradRequest;
import io.jdyn.spi.GraphHandle;
import io.jdyn.spi.LayerSpec;
import io.jdyn.spi.MethodFacts;
import io.jdyn.spi.NativeBuffer;
import io.jdyn.spi.ProgramHandle;
import io.jdyn.spi.SolveOutcome;
import io.jdyn.spi.SolveRequest;
import io.jdyn.spi.SolveSpec;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.List;

/** The native backend over libjdyn.so. */
final class FfmBackend implements Backend {
    private final JdynLibrary lib;
    private final Path libraryFile;
    private volatile CudaProbe.Result cuda;

    FfmBackend(JdynLibrary lib, Path libraryFile) {
        this.lib = lib;
        this.libraryFile = libraryFile;
    }

    @Override
    public String describe() {
        try {
            return "jdyn native " + JdynLibrary.cString((MemorySegment) lib.version.invokeExact()) + " (" + libraryFile
                    + ")";
        } catch (Throwable t) {
            return "jdyn native (" + libraryFile + ")";
        }
    }

    @Override
    public NativeBuffer allocate(DType dtype, long elements) {
        return new FfmBuffer(dtype, elements);
    }

    @Override
    public SolveOutcome solve(SolveRequest r) {
        SolveSpec spec = r.spec();
        SolveStructs.checkShape(spec);
        DType dtype = spec.dtype();
        long perState = spec.perState();
        FfmBuffer y0 = FfmBuffer.checked(r.y0(), dtype, perState, "y0");
        FfmBuffer ys = FfmBuffer.checked(r.ys(), dtype, perState * spec.times().length, "ys");
        FfmBuffer ev = r.eventState() == null ? null : FfmBuffer.checked(r.eventState(), dtype, perState, "event state");

        Upcalls.Active active = Upcalls.Active.of(r.field(), SolveStructs.event(spec), null, null, dtype,
                (int) spec.batch(), (int) spec.dim(), 0).withSample(r.sampleField());
        try (Arena a = Arena.ofConfined()) {
            // the per-row statistics of a per-sample solve: [batch, 3] (nfe, accepted, rejected)
            MemorySegment sampleStats = spec.options().perSample()
                    ? a.allocate(ValueLayout.JAVA_LONG, 3 * spec.batch()) : MemorySegment.NULL;
            MemorySegment cfg = SolveStructs.config(a, spec, r.field() == null ? MemorySegment.NULL : Upcalls.FIELD_STUB,
                    r.sampleField() == null ? MemorySegment.NULL : Upcalls.FIELD_ROWS_STUB, sampleStats);
            MemorySegment stats = a.allocate(SolveStructs.STATS);
            MemorySegment denseOut = a.allocate(ValueLayout.ADDRESS);

            MemorySegment evSegment = ev == null ? MemorySegment.NULL : ev.segment();
            int status;
            Upcalls.Active previous = Upcalls.enter(active);
            try {
                status = (int) lib.solve.invokeExact(cfg, y0.segment(), ys.segment(), evSegment, stats, denseOut);
            } finally {
                Upcalls.exit(previous);
            }
            String message = status == 0 ? "" : lib.lastErrorMessage();
            MemorySegment denseHandle = denseOut.get(ValueLayout.ADDRESS, 0);
            DenseHandle dense = denseHandle.equals(MemorySegment.NULL) ? null : new FfmDense(lib, denseHandle);
            return SolveStructs.outcome(status, message, stats, active.error, dense, sampleStats);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("native solve failed: " + t, t);
        }
    }

    @Override
    public ProgramHandle createProgram(List<LayerSpec> layers, DType dtype, long dimIn) {
        return FfmProgram.create(lib, layers, dtype, dimIn);
    }

    @Override
    public GraphHandle newGraph() {
        return FfmGraph.create(lib);
    }

    @Override
    public GradOutcome solveDifferentiable(GradRequest request) {
        return GradSolver.solve(lib, request);
    }

    @Override
    public void sgdStep(NativeBuffer params, NativeBuffer grad, NativeBuffer momentumBuf, long offset, long count,
            long step, double lr, double momentum, double dampening, double weightDecay, boolean nesterov) {
        FfmOptim.sgdStep(lib, params, grad, momentumBuf, offset, count, step, lr, momentum, dampening, weightDecay,
                nesterov);
    }

    @Override
    public void adamStep(NativeBuffer params, NativeBuffer grad, NativeBuffer expAvg, NativeBuffer expAvgSq,
            long offset, long count, long step, double lr, double beta1, double beta2, double eps, double weightDecay,
            boolean decoupled) {
        FfmOptim.adamStep(lib, params, grad, expAvg, expAvgSq, offset, count, step, lr, beta1, beta2, eps, weightDecay,
                decoupled);
    }

    @Override
    public double clipGradNorm(NativeBuffer grad, long[] ranges, double maxNorm, double normType) {
        return FfmOptim.clipGradNorm(lib, grad, ranges, maxNorm, normType);
    }

    @Override
    public void clipGradValue(NativeBuffer grad, long[] ranges, double clipValue) {
        FfmOptim.clipGradValue(lib, grad, ranges, clipValue);
    }

    @Override
    public double[] symEig(double[] a, int n) {
        return FfmSnopt.symEig(lib, a, n);
    }

    @Override
    public void snoptEigenbasis(long out, long aDim, double[] gFactor, double[] aFactor, double[] m2) {
        FfmSnopt.eigenbasis(lib, out, aDim, gFactor, aFactor, m2);
    }

    @Override
    public void snoptPrecondition(NativeBuffer grad, long weightOffset, long biasOffset, long out, long in,
            double[] uG, double[] uA, double[] m2, double alpha, double eps, double batch) {
        FfmSnopt.precondition(lib, grad, weightOffset, biasOffset, out, in, uG, uA, m2, alpha, eps, batch);
    }

    @Override
    public MethodFacts methodFacts(int method) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(JAVA_LONG, 4);
            int rc = (int) lib.methodInfo.invokeExact((long) method, out, out.asSlice(8), out.asSlice(16),
                    out.asSlice(24));
            if (rc != 0) throw new IllegalArgumentException(lib.lastErrorMessage());
            return new MethodFacts((int) out.getAtIndex(JAVA_LONG, 0), (int) out.getAtIndex(JAVA_LONG, 1),
                    (int) out.getAtIndex(JAVA_LONG, 2), (int) out.getAtIndex(JAVA_LONG, 3));
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    @Override
    public void setThreads(int threads) {
        try {
            int rc = (int) lib.setNumThreads.invokeExact((long) threads);
            if (rc != 0) throw new IllegalArgumentException(lib.lastErrorMessage());
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    @Override
    public int threads() {
        try {
            return (int) (long) lib.getNumThreads.invokeExact();
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    @Override
    public String blasInfo() {
        try {
            return JdynLibrary.cString((MemorySegment) lib.blasInfo.invokeExact());
        } catch (Throwable t) {
            return "OpenBLAS (unknown configuration)";
        }
    }

    @Override
    public String cudaStatus() {
        return cuda().description();
    }

    @Override
    public boolean cudaAvailable() {
        return cuda().available();
    }

    private CudaProbe.Result cuda() {
        CudaProbe.Result r = cuda;
        if (r == null) {
            synchronized (this) {
                if (cuda == null) cuda = CudaProbe.probe();
                r = cuda;
            }
        }
        return r;
    }
}
