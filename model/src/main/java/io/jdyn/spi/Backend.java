package io.jdyn.spi;

import io.jdyn.DType;
import java.util.List;

/** Internal: a native backend. One instance per JVM, safe for use from several threads. */
public interface Backend {
    /** A short name and the native library's version, for diagnostics. */
    String describe();

    NativeBuffer allocate(DType dtype, long elements);

    /** Runs a whole solve in one native call. Never throws for solver failures: see the outcome. */
    SolveOutcome solve(SolveRequest request);

    MethodFacts methodFacts(int method);

    /**
     * Builds a native layer program for inputs of width dimIn; throws IllegalArgumentException with
     * the native message (which names the layer) when the widths or settings do not fit.
     */
    ProgramHandle createProgram(List<LayerSpec> layers, DType dtype, long dimIn);

    /**
     * Solves a differentiable field (a layer program or a Java field with its VJP), keeping a tape
     * when asked. Never throws for solver failures: see the outcome.
     */
    GradOutcome solveDifferentiable(GradRequest request);

    void setThreads(int threads);

    int threads();

    String blasInfo();

    /** "available: ..." or why CUDA cannot be used here. Never throws. */
    String cudaStatus();

    boolean cudaAvailable();
}
