package io.jdyn.train;

import java.io.PrintStream;
import java.util.Locale;
import java.util.Objects;

/** Prints one line per every-th epoch (and the last): the epoch's metrics. */
public final class LoggingCallback implements Callback {
    private final PrintStream out;
    private final int every;

    public LoggingCallback(PrintStream out, int every) {
        this.out = Objects.requireNonNull(out, "out");
        if (every < 1) throw new IllegalArgumentException("every must be >= 1, got " + every);
        this.every = every;
    }

    @Override
    public void onEpochEnd(TrainerState state) {
        if ((state.epoch() + 1) % every != 0 && !state.stopRequested()) return;
        out.println(line(state));
    }

    static String line(TrainerState s) {
        StringBuilder b = new StringBuilder(String.format(Locale.ROOT, "epoch %4d", s.epoch() + 1));
        s.metrics().forEach((k, v) -> {
            if (k.startsWith("nfe")) b.append(String.format(Locale.ROOT, "  %s %d", k, v.longValue()));
            else if (k.equals("time")) b.append(String.format(Locale.ROOT, "  %s %.1fs", k, v));
            else b.append(String.format(Locale.ROOT, "  %s %.4g", k, v));
        });
        return b.toString();
    }
}
