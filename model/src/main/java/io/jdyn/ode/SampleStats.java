package io.jdyn.ode;

import java.util.Arrays;

/**
 * Per-row statistics of a per-sample solve ({@link SolveOptions.Builder#perSample}): for every batch
 * row, the field evaluations it took part in and its accepted and rejected steps, which are what the
 * row would report solved alone. With fixed steps every row has the batch's figures.
 */
public record SampleStats(long[] nfe, long[] accepted, long[] rejected) {

    public SampleStats {
        nfe = nfe.clone();
        accepted = accepted.clone();
        rejected = rejected.clone();
        if (accepted.length != nfe.length || rejected.length != nfe.length) {
            throw new IllegalArgumentException("nfe, accepted and rejected must have one entry per row");
        }
    }

    /** From the engine's [batch, 3] rows (nfe, accepted, rejected). */
    static SampleStats ofRows(long[] rows) {
        int n = rows.length / 3;
        long[] nfe = new long[n];
        long[] acc = new long[n];
        long[] rej = new long[n];
        for (int b = 0; b < n; b++) {
            nfe[b] = rows[3 * b];
            acc[b] = rows[3 * b + 1];
            rej[b] = rows[3 * b + 2];
        }
        return new SampleStats(nfe, acc, rej);
    }

    public int rows() {
        return nfe.length;
    }

    @Override
    public long[] nfe() {
        return nfe.clone();
    }

    @Override
    public long[] accepted() {
        return accepted.clone();
    }

    @Override
    public long[] rejected() {
        return rejected.clone();
    }

    /** Accepted + rejected steps of row b. */
    public long steps(int b) {
        return accepted[b] + rejected[b];
    }

    @Override
    public String toString() {
        long min = Long.MAX_VALUE;
        long max = 0;
        double sum = 0;
        for (int b = 0; b < rows(); b++) {
            min = Math.min(min, steps(b));
            max = Math.max(max, steps(b));
            sum += steps(b);
        }
        return rows() + " rows, steps per row " + min + ".." + max + " (mean " + String.format("%.1f", sum / rows())
                + ")";
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof SampleStats s && Arrays.equals(nfe, s.nfe) && Arrays.equals(accepted, s.accepted)
                && Arrays.equals(rejected, s.rejected);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * Arrays.hashCode(nfe) + Arrays.hashCode(accepted)) + Arrays.hashCode(rejected);
    }
}
