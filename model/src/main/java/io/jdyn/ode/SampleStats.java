package io.jdyn.ode;

import java.util.Arrays;
import java.util.Objects;

/**
 * The step counts of every sample of a per-sample solve ({@link SolveOptions.Builder#perSample}): for
 * batch row b, the vector field evaluations it took part in, its accepted and its rejected steps. A row
 * never reached (the solve failed on an earlier one) has zeros.
 */
public record SampleStats(long[] nfe, long[] accepted, long[] rejected) {

    public SampleStats {
        Objects.requireNonNull(nfe, "nfe");
        Objects.requireNonNull(accepted, "accepted");
        Objects.requireNonNull(rejected, "rejected");
        if (accepted.length != nfe.length || rejected.length != nfe.length) {
            throw new IllegalArgumentException("nfe, accepted and rejected need one entry per sample, got "
                    + nfe.length + ", " + accepted.length + ", " + rejected.length);
        }
        nfe = nfe.clone();
        accepted = accepted.clone();
        rejected = rejected.clone();
    }

    /** From the native [batch, 3] rows (nfe, accepted, rejected); null for null. */
    static SampleStats ofRows(long[] rows) {
        if (rows == null) return null;
        int b = rows.length / 3;
        long[] n = new long[b], a = new long[b], r = new long[b];
        for (int i = 0; i < b; i++) {
            n[i] = rows[3 * i];
            a[i] = rows[3 * i + 1];
            r[i] = rows[3 * i + 2];
        }
        return new SampleStats(n, a, r);
    }

    public int batch() {
        return nfe.length;
    }

    /** Accepted + rejected steps of row b. */
    public long steps(int b) {
        return accepted[b] + rejected[b];
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

    @Override
    public boolean equals(Object o) {
        return o instanceof SampleStats s && Arrays.equals(nfe, s.nfe) && Arrays.equals(accepted, s.accepted)
                && Arrays.equals(rejected, s.rejected);
    }

    @Override
    public int hashCode() {
        return Objects.hash(Arrays.hashCode(nfe), Arrays.hashCode(accepted), Arrays.hashCode(rejected));
    }

    @Override
    public String toString() {
        long[] s = accepted.clone();
        Arrays.sort(s);
        return batch() == 0 ? "no samples" : batch() + " samples, accepted steps min " + s[0] + ", median "
                + s[s.length / 2] + ", max " + s[s.length - 1];
    }
}
