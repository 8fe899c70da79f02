package io.jdyn.train.optim;

import io.jdyn.nn.Parameters;
import io.jdyn.spi.Backend;
import io.jdyn.spi.Backends;
import io.jdyn.spi.NativeBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Shared plumbing of the optimizers: the parameters, per-layer step counts (PyTorch's per-parameter
 * state["step"]: a frozen layer does not count steps), the native state buffers, the learning rate.
 */
final class ParamBlocks {
    final Parameters params;
    final Backend backend;
    final long[] steps;
    private final NativeBuffer[] state;
    private double lr;
    private boolean closed;

    ParamBlocks(Parameters params, double lr, int stateBuffers) {
        this.params = Objects.requireNonNull(params, "params");
        checkLr(lr);
        this.lr = lr;
        this.backend = Backends.get();
        this.steps = new long[params.numLayers()];
        this.state = new NativeBuffer[params.numParams() == 0 ? 0 : stateBuffers];
        try {
            // Zero-filled, the state PyTorch starts from.
            for (int i = 0; i < state.length; i++) state[i] = backend.allocate(params.dtype(), params.numParams());
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    static double checkLr(double lr) {
        if (!(lr >= 0) || Double.isInfinite(lr)) throw new IllegalArgumentException("lr must be finite and >= 0, got " + lr);
        return lr;
    }

    NativeBuffer state(int i) {
        return state[i];
    }

    double lr() {
        return lr;
    }

    void setLr(double lr) {
        this.lr = checkLr(lr);
    }

    boolean hasParams() {
        return params.numParams() > 0;
    }

    /** The layers that step: with parameters and not frozen. */
    List<Integer> active() {
        List<Integer> out = new ArrayList<>();
        for (int i = 0; i < params.numLayers(); i++) {
            if (params.count(i) > 0 && !params.isFrozen(i)) out.add(i);
        }
        return out;
    }

    void requireOpen(String what) {
        if (closed) throw new IllegalStateException(what + " is closed");
    }

    void close() {
        if (closed) return;
        closed = true;
        for (NativeBuffer b : state) {
            if (b != null) b.close();
        }
    }

    /** The non-frozen blocks of the flat buffers as sorted, merged (offset, count) pairs. */
    static long[] ranges(Parameters params) {
        int n = params.numLayers();
        long[][] blocks = new long[n][];
        int k = 0;
        for (int i = 0; i < n; i++) {
            if (params.count(i) > 0 && !params.isFrozen(i)) blocks[k++] = new long[] {params.offset(i), params.count(i)};
        }
        java.util.Arrays.sort(blocks, 0, k, (a, b) -> Long.compare(a[0], b[0]));
        long[] out = new long[2 * k];
        int m = 0;
        for (int i = 0; i < k; i++) {
            if (m > 0 && out[2 * m - 2] + out[2 * m - 1] == blocks[i][0]) {
                out[2 * m - 1] += blocks[i][1];
            } else {
                out[2 * m] = blocks[i][0];
                out[2 * m + 1] = blocks[i][1];
                m++;
            }
        }
        return java.util.Arrays.copyOf(out, 2 * m);
    }
}
