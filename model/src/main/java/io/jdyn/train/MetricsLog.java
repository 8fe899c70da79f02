package io.jdyn.train;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Objects;

/**
 * A CSV metrics log, one row per optimizer step ({@code kind = step}) and one per epoch
 * ({@code kind = epoch}, the training means and the validation metrics): columns
 * {@value #HEADER}. Empty cells where a value was not computed. Flushed after every row, so it can be
 * plotted while training runs.
 */
public final class MetricsLog implements Callback, AutoCloseable {
    public static final String HEADER =
            "kind,epoch,step,loss,accuracy,val_loss,val_accuracy,nfe_forward,nfe_backward,lr,time_s";
    private final Path path;
    private BufferedWriter out;
    private long rows;

    public MetricsLog(Path path) {
        this.path = Objects.requireNonNull(path, "path");
    }

    public Path path() {
        return path;
    }

    /** Data rows written (the header not counted). */
    public long rows() {
        return rows;
    }

    @Override
    public void onFitStart(TrainerState state) {
        try {
            Path parent = path.toAbsolutePath().getParent();
            if (parent != null) Files.createDirectories(parent);
            close();
            out = Files.newBufferedWriter(path, StandardCharsets.UTF_8);
            out.write(HEADER);
            out.newLine();
            out.flush();
            rows = 0;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open the metrics log " + path, e);
        }
    }

    @Override
    public void onStepEnd(TrainerState state, StepMetrics s) {
        row("step", s.epoch(), s.step(), s.loss(), s.accuracy(), Double.NaN, Double.NaN, s.nfeForward(),
                s.nfeBackward(), s.lr(), s.timeSeconds());
    }

    @Override
    public void onEpochEnd(TrainerState state) {
        row("epoch", state.epoch(), state.globalStep(), state.metric("train_loss"), state.metric("train_acc"),
                state.metric("val_loss"), state.metric("val_acc"), (long) state.metric("nfe_forward"),
                (long) state.metric("nfe_backward"), state.metric("lr"), state.metric("time"));
    }

    @Override
    public void onFitEnd(TrainerState state) {
        close();
    }

    private void row(String kind, int epoch, long step, double loss, double acc, double vloss, double vacc, long nf,
            long nb, double lr, double time) {
        if (out == null) return;
        try {
            out.write(String.join(",", kind, Integer.toString(epoch), Long.toString(step), cell(loss), cell(acc),
                    cell(vloss), cell(vacc), Long.toString(nf), Long.toString(nb), cell(lr),
                    String.format(Locale.ROOT, "%.4f", time)));
            out.newLine();
            out.flush();
            rows++;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the metrics log " + path, e);
        }
    }

    private static String cell(double v) {
        return Double.isNaN(v) ? "" : String.format(Locale.ROOT, "%.8g", v);
    }

    @Override
    public void close() {
        if (out == null) return;
        try {
            out.close();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot close the metrics log " + path, e);
        } finally {
            out = null;
        }
    }
}
