package io.jdyn.ode;

import io.jdyn.Tensor;
import java.util.Optional;
import java.util.OptionalDouble;

/**
 * The result of {@link Odeint#odeint}: the states at the output times ({@code ys}, shaped
 * [times, *y0.shape]), the times, the statistics, and, where asked for, the interpolant and the
 * terminal event. Owns native memory: close it.
 */
public final class Solution implements AutoCloseable {
    private final Tensor ys;
    private final double[] ts;
    private final SolveStats stats;
    private final DenseInterpolant dense;
    private final double eventTime;
    private final Tensor eventState;

    Solution(Tensor ys, double[] ts, SolveStats stats, DenseInterpolant dense, double eventTime, Tensor eventState) {
        this.ys = ys;
        this.ts = ts;
        this.stats = stats;
        this.dense = dense;
        this.eventTime = eventTime;
        this.eventState = eventState;
    }

    /** States at {@link #ts()}: [ts().length, *y0.shape]. After a terminal event, only the times before it. */
    public Tensor ys() {
        return ys;
    }

    public double[] ts() {
        return ts.clone();
    }

    public SolveStats stats() {
        return stats;
    }

    /** The interpolant; present when the options asked for {@code dense(true)}. */
    public Optional<DenseInterpolant> interpolant() {
        return Optional.ofNullable(dense);
    }

    /** The time of the terminal event, when it fired. */
    public OptionalDouble eventTime() {
        return eventState == null ? OptionalDouble.empty() : OptionalDouble.of(eventTime);
    }

    /** The state at the terminal event, when it fired. */
    public Optional<Tensor> eventState() {
        return Optional.ofNullable(eventState);
    }

    @Override
    public void close() {
        ys.close();
        if (dense != null) dense.close();
        if (eventState != null) eventState.close();
    }
}
