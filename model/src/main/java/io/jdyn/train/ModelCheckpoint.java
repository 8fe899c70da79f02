package io.jdyn.train;

import io.jdyn.io.Checkpoint;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * Lightning's ModelCheckpoint: after each epoch saves {@code best.safetensors} in dir when the monitored
 * metric improved, and {@code last.safetensors} when saveLast is on, with {@link Checkpoint#save} (temp
 * file, fsync, atomic move: a reader never sees a half-written file). The metadata holds the epoch,
 * step and the epoch's metrics.
 */
public final class ModelCheckpoint implements Callback {
    public static final String BEST = "best.safetensors";
    public static final String LAST = "last.safetensors";
    private final Path dir;
    private final String monitor;
    private final Mode mode;
    private final boolean saveLast;
    private double best = Double.NaN;
    private int bestEpoch = -1;
    private int saves;

    public ModelCheckpoint(Path dir, String monitor, Mode mode, boolean saveLast) {
        this.dir = Objects.requireNonNull(dir, "dir");
        this.monitor = Objects.requireNonNull(monitor, "monitor");
        this.mode = Objects.requireNonNull(mode, "mode");
        this.saveLast = saveLast;
    }

    @Override
    public void onFitStart(TrainerState state) {
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create the checkpoint directory " + dir, e);
        }
    }

    @Override
    public void onEpochEnd(TrainerState state) {
        double v = state.metric(monitor);
        Map<String, String> md = new LinkedHashMap<>();
        md.put("epoch", Integer.toString(state.epoch()));
        md.put("step", Long.toString(state.globalStep()));
        state.metrics().forEach((k, x) -> md.put(k, Double.toString(x)));
        try {
            if (mode.better(v, best, 0.0)) {
                best = v;
                bestEpoch = state.epoch();
                Checkpoint.save(bestPath(), state.model().field(), md);
                saves++;
            }
            if (saveLast) {
                Checkpoint.save(lastPath(), state.model().field(), md);
                saves++;
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write a checkpoint in " + dir, e);
        }
    }

    public Path bestPath() {
        return dir.resolve(BEST);
    }

    public Path lastPath() {
        return dir.resolve(LAST);
    }

    public double best() {
        return best;
    }

    public int bestEpoch() {
        return bestEpoch;
    }

    /** Files written so far. */
    public int saves() {
        return saves;
    }
}
