package io.jdyn.bench;

import java.util.Arrays;

/**
 * The harness's own timing loop: warm-up runs (at least the given count and at least one second,
 * so that the JIT has compiled the upcall path and the field), then timed runs with
 * System.nanoTime, reporting the median. Everything runs on the calling thread, in this JVM. The
 * counts and the warm-up time can be scaled for a quick look with -Dbench.scale=0.2 (at least one
 * warm-up and three timed runs remain).
 */
final class Timing {
    /** One measured body. */
    @FunctionalInterface
    interface Body {
        void run() throws Exception;
    }

    /** The median and spread of the timed runs, in nanoseconds; samplesNs in the order they ran. */
    record Result(double medianNs, double minNs, double maxNs, int warmups, int iterations, double[] samplesNs) {
        double medianMs() {
            return medianNs / 1e6;
        }

        /** Adds the timing fields every timed line carries. */
        Json describe(Json j) {
            return j.num("iterations", iterations).num("warmups", warmups).num("threads", io.jdyn.Jdyn.threads())
                    .str("statistic", "median");
        }
    }

    private static final double SCALE = Double.parseDouble(System.getProperty("bench.scale", "1"));
    private static final double WARMUP_SECONDS = Double.parseDouble(System.getProperty("bench.warmup.seconds", "1"));

    private Timing() {}

    static Result measure(String label, int warmups, int iterations, Body body) throws Exception {
        return interleaved(new String[] {label}, warmups, iterations, body)[0];
    }

    /**
     * Times several bodies in alternation (a, b, a, b, ...), so that a difference between them is not
     * skewed by load that comes and goes; the warm-up alternates too.
     */
    static Result[] interleaved(String[] labels, int warmups, int iterations, Body... bodies) throws Exception {
        int k = bodies.length;
        int w = Math.max(1, (int) Math.round(warmups * SCALE));
        int n = Math.max(3, (int) Math.round(iterations * SCALE));
        long warmupEnd = System.nanoTime() + (long) (WARMUP_SECONDS * SCALE * 1e9);
        int done = 0;
        while (done < w || System.nanoTime() < warmupEnd) {
            for (Body body : bodies) body.run();
            done++;
        }
        w = done;
        double[][] ns = new double[k][n];
        for (int i = 0; i < n; i++) {
            for (int b = 0; b < k; b++) {
                long start = System.nanoTime();
                bodies[b].run();
                ns[b][i] = System.nanoTime() - start;
            }
        }
        Result[] results = new Result[k];
        for (int b = 0; b < k; b++) {
            double[] sorted = ns[b].clone();
            Arrays.sort(sorted);
            double median = median(ns[b]);
            results[b] = new Result(median, sorted[0], sorted[n - 1], w, n, ns[b]);
            BenchMain.log(String.format(java.util.Locale.ROOT,
                    "  %s: median %.3f ms (min %.3f, max %.3f, %d runs after %d warm-up%s)", labels[b], median / 1e6,
                    sorted[0] / 1e6, sorted[n - 1] / 1e6, n, w, k > 1 ? ", interleaved" : ""));
        }
        return results;
    }

    static double median(double[] values) {
        return quantile(values, 0.5);
    }

    /** The q-quantile, interpolated between order statistics. */
    static double quantile(double[] values, double q) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        double pos = q * (sorted.length - 1);
        int lo = (int) Math.floor(pos);
        int hi = Math.min(lo + 1, sorted.length - 1);
        return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
    }
}
