package io.jdyn.spi;

/** Internal: what a backward pass reports: the ABI status and message, its statistics, a callback's exception. */
public record BackwardOutcome(int status, String message, long nfe, long accepted, long rejected,
        Throwable callbackError) {}
