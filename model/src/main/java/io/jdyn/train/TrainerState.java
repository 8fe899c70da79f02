package io.jdyn.train;

import io.jdyn.models.NeuralODE;
import io.jdyn.train.optim.Optimizer;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What callbacks see: the model, the optimizer, the epoch and step counters, and the latest epoch
 * metrics by name ({@code train_loss}, {@code train_acc}, {@code val_loss}, {@code val_acc},
 * {@code nfe_forward}, {@code nfe_backward}, {@code lr}, {@code time}).
 */
public final class TrainerState {
    private final NeuralODE model;
    private final Optimizer optimizer;
    private final Map<String, Double> metrics = new LinkedHashMap<>();
    int epoch;
    long step;
    private String stopReason;

    TrainerState(NeuralODE model, Optimizer optimizer) {
        this.model = model;
        this.optimizer = optimizer;
    }

    public NeuralODE model() {
        return model;
    }

    public Optimizer optimizer() {
        return optimizer;
    }

    /** The current epoch, 0-based. */
    public int epoch() {
        return epoch;
    }

    /** Optimizer steps taken so far. */
    public long globalStep() {
        return step;
    }

    /** The latest epoch's metrics (read-only view). */
    public Map<String, Double> metrics() {
        return Collections.unmodifiableMap(metrics);
    }

    /** A metric by name, or NaN when it was not computed. */
    public double metric(String name) {
        Double v = metrics.get(name);
        return v == null ? Double.NaN : v;
    }

    void put(String name, double value) {
        metrics.put(name, value);
    }

    void clearMetrics() {
        metrics.clear();
    }

    /** Asks the trainer to stop after this epoch; the first reason given is kept. */
    public void requestStop(String reason) {
        if (stopReason == null) stopReason = reason;
    }

    public boolean stopRequested() {
        return stopReason != null;
    }

    /** Why training stopped early, or null. */
    public String stopReason() {
        return stopReason;
    }
}
