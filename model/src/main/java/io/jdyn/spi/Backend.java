package io.jdyn.spi;

import io.jdyn.DType;

/** Internal: a native backend. One instance per JVM, safe for use from several threads. */
public interface Backend {
    /** A short name and the native library's version, for diagnostics. */
    String describe();

    NativeBuffer allocate(DType dtype, long elements);

    /** Runs a whole solve in one native call. Never throws for solver failures: see the outcome. */
    SolveOutcome solve(SolveRequest request);

    MethodFacts methodFacts(int method);

    void setThreads(int threads);

    int threads();

    String blasInfo();

    /** "available: ..." or why CUDA cannot be used here. Never throws. */
    String cudaStatus();

    boolean cudaAvailable();
}
