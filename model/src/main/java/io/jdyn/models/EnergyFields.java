package io.jdyn.models;

import io.jdyn.fn.Sym;
import java.util.Arrays;

/** Internal: the checks HNN and LNN share. */
final class EnergyFields {
    private EnergyFields() {}

    /** The number of degrees of freedom n of a state [-1, 2n]; a clear message otherwise. */
    static int halfWidth(String model, Sym x) {
        long[] s = x.shape();
        if (s.length != 2 || s[0] != -1 || s[1] % 2 != 0) {
            throw new IllegalArgumentException(model + ": the state must be a batch of rows [q, p] of even width"
                    + " [-1, 2n], got " + Arrays.toString(s));
        }
        return Math.toIntExact(s[1] / 2);
    }

    /** The net's energy: batched (one value per row, summed inside a row), or a scalar. */
    static Sym energy(String model, String what, Sym e) {
        long[] s = e.shape();
        boolean perRow = s.length >= 1 && s[0] == -1;
        if (!perRow && s.length != 0) {
            throw new IllegalArgumentException(model + ": the net must map the state [-1, 2n] to " + what
                    + " per row ([-1, 1]), got " + Arrays.toString(s));
        }
        return e;
    }
}
