package io.jdyn.spi;

/**
 * Internal: one solve as {@code jdyn_solve} takes it: the {@link SolveSpec} (what to solve and how),
 * the Java vector field (null for a program, which the engine evaluates itself), and the buffers:
 * y0 [batch * dim], ys [times * batch * dim] and, when the options hold an event, the event state.
 * sampleField, when not null, is the field with a time per row (then field may be null).
 */
public record SolveRequest(SolveSpec spec, FieldInvoker field, NativeBuffer y0, NativeBuffer ys,
        NativeBuffer eventState, SampleFieldInvoker sampleField) {}
