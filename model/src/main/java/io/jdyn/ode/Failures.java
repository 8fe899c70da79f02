package io.jdyn.ode;

import io.jdyn.JdynException;
import io.jdyn.spi.SolveOutcome;

/** Internal: a native status and message, as the exception the public API throws. */
final class Failures {
    private Failures() {}

    /** The statistics of a solve, with a per-sample solve's per-row counts. */
    static SolveStats stats(SolveOutcome out) {
        return new SolveStats(out.nfe(), out.accepted(), out.rejected(), out.lastDt(), out.tReached(),
                out.errorHistory(), SampleStats.ofRows(out.sampleStats()));
    }

    /** The exception for a failed solve or backward pass; who names the Java callbacks involved. */
    static RuntimeException of(int status, String msg, SolveStats stats, long badIndex, Throwable callbackError,
            String who) {
        switch (status) {
            case SolveOutcome.ARGUMENT:
                return new IllegalArgumentException(msg);
            case SolveOutcome.STEP_UNDERFLOW:
                return new StepSizeUnderflowException(msg, stats);
            case SolveOutcome.MAX_STEPS:
                return new MaxStepsExceededException(msg, stats);
            case SolveOutcome.NON_FINITE:
                return new NonFiniteValueException(msg, stats, badIndex);
            case SolveOutcome.CALLBACK: {
                String what = callbackError == null ? msg
                        : who + " threw " + callbackError + " (" + msg + ")";
                return new VectorFieldException(what, stats, callbackError);
            }
            case SolveOutcome.OUT_OF_MEMORY:
                return new JdynException("native memory exhausted: " + msg);
            default:
                return new JdynException("internal error in the native core: " + msg);
        }
    }

    static RuntimeException of(SolveOutcome out, SolveStats stats, String who) {
        return of(out.status(), out.message(), stats, out.badIndex(), out.callbackError(), who);
    }
}
