package io.jdyn.bench;

import java.util.Arrays;

/**
 * The harness's own timing loop: warm-up runs, then timed runs with System.nanoTime, reporting the
 * median. Everything runs on the calling thread, in this JVM. The counts can be scaled for a quick
 * look with -Dbench.scale=0.2 (at least one warm-up and three timed runs remain).
 */
final class Timing {
    /** One measured body. */
    @FunctionalInterface
    interface Body {
        void run() throws Exception;
    }

    /** The median and spread of the timed runs, in nanoseconds. */
    record Result(double medianNs, double minNs, double maxNs, int warmups, int iterations) {
        double medianMs() {
            return medianNs / 1e6;
        }

        /** Adds the timing fields every timed line carries. */
        Json describe(Json j) {
            return j.num("iterations", iterations).num("warmups", warmups).num("threads", 1)
                    .str("statistic", "median");
        }
    }

    private static final double SCALE = Double.parseDouble(System.getProperty("bench.scale", "1"));

    private Timing() {}

    static Result measure(String label, int warmups, int iterations, Body body) throws Exception {
        int w = Math.max(1, (int) Math.round(warmups * SCALE));
        int n = Math.max(3, (int) Math.round(iterations * SCALE));
        for (int i = 0; i < w; i++) body.run();
        double[] ns = new double[n];
        for (int i = 0; i < n; i++) {
            long start = System.nanoTime();
            body.run();
            ns[i] = System.nanoTime() - start;
        }
        double[] sorted = ns.clone();
        Arrays.sort(sorted);
        double median = n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
        Result r = new Result(median, sorted[0], sorted[n - 1], w, n);
        BenchMain.log(String.format(java.util.Locale.ROOT, "  %s: median %.3f ms (min %.3f, max %.3f, %d runs after %d warm-up)",
                label, median / 1e6, sorted[0] / 1e6, sorted[n - 1] / 1e6, n, w));
        return r;
    }
}
