package io.jdyn.train;

import java.util.Objects;

/**
 * Lightning's EarlyStopping: stops when the monitored epoch metric has not improved by more than
 * minDelta for patience epochs, or at once when it reaches the stopping threshold (if one is set).
 */
public final class EarlyStopping implements Callback {
    private final String monitor;
    private final int patience;
    private final Mode mode;
    private final double minDelta;
    private final double stoppingThreshold;
    private double best = Double.NaN;
    private int wait;
    private int stoppedEpoch = -1;

    public EarlyStopping(String monitor, int patience, Mode mode) {
        this(monitor, patience, mode, 0.0, Double.NaN);
    }

    /** With a minimum improvement and a threshold (NaN: none) that stops training once reached. */
    public EarlyStopping(String monitor, int patience, Mode mode, double minDelta, double stoppingThreshold) {
        this.monitor = Objects.requireNonNull(monitor, "monitor");
        this.mode = Objects.requireNonNull(mode, "mode");
        if (patience < 0) throw new IllegalArgumentException("patience must be >= 0, got " + patience);
        if (!(minDelta >= 0)) throw new IllegalArgumentException("minDelta must be >= 0, got " + minDelta);
        this.patience = patience;
        this.minDelta = minDelta;
        this.stoppingThreshold = stoppingThreshold;
    }

    /** Stops as soon as monitor reaches threshold (>= for MAX, <= for MIN); never on patience. */
    public static EarlyStopping atThreshold(String monitor, Mode mode, double threshold) {
        return new EarlyStopping(monitor, Integer.MAX_VALUE, mode, 0.0, threshold);
    }

    @Override
    public void onFitStart(TrainerState state) {
        best = Double.NaN;
        wait = 0;
        stoppedEpoch = -1;
    }

    @Override
    public void onEpochEnd(TrainerState state) {
        double v = state.metric(monitor);
        if (Double.isNaN(v)) return;   // not computed this epoch (e.g. validation every k epochs)
        if (!Double.isNaN(stoppingThreshold)
                && (mode == Mode.MAX ? v >= stoppingThreshold : v <= stoppingThreshold)) {
            stoppedEpoch = state.epoch();
            state.requestStop(monitor + " = " + v + " reached the threshold " + stoppingThreshold);
            return;
        }
        if (mode.better(v, best, minDelta)) {
            best = v;
            wait = 0;
        } else if (++wait >= patience && patience != Integer.MAX_VALUE) {
            stoppedEpoch = state.epoch();
            state.requestStop(monitor + " did not improve for " + patience + " epochs (best " + best + ")");
        }
    }

    public double best() {
        return best;
    }

    /** The epoch it stopped training at, or -1. */
    public int stoppedEpoch() {
        return stoppedEpoch;
    }
}
