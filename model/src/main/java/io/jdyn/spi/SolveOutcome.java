package io.jdyn.spi;

/**
 * Internal: what a solve reports: the ABI status and message, the statistics, the exception a Java
 * callback threw (if any), the interpolant (if requested; also after a failure) and, for a per-sample
 * solve, the per-row counts [batch * 3] (nfe, accepted, rejected; null otherwise).
 */
public record SolveOutcome(
        int status,
        String message,
        long nfe,
        long accepted,
        long rejected,
        long outputs,
        boolean eventFound,
        long badIndex,
        double tReached,
        double lastDt,
        double eventTime,
        double[] errorHistory,
        Throwable callbackError,
        DenseHandle dense,
        long[] sampleStats) {

    public static final int OK = 0;
    public static final int ARGUMENT = 1;
    public static final int STEP_UNDERFLOW = 2;
    public static final int MAX_STEPS = 3;
    public static final int NON_FINITE = 4;
    public static final int CALLBACK = 5;
    public static final int OUT_OF_MEMORY = 6;
    public static final int INTERNAL = 7;
}
