package io.jdyn;

import io.jdyn.spi.Backend;
import io.jdyn.spi.Backends;

/** Library-wide settings and facts: the backend in use, worker threads, CUDA availability. */
public final class Jdyn {
    private Jdyn() {}

    /** A few lines on the Java runtime, the native library, BLAS and CUDA. */
    public static String info() {
        StringBuilder sb = new StringBuilder();
        sb.append("Java: ").append(Runtime.version()).append(" (").append(System.getProperty("java.vendor"))
                .append(")\n");
        try {
            Backend b = Backends.get();
            sb.append("native: ").append(b.describe()).append('\n');
            sb.append("BLAS: ").append(b.blasInfo()).append(", 1 thread\n");
            sb.append("threads: ").append(b.threads()).append(" (batch splitting inside a solve; Jdyn.setThreads)\n");
            sb.append("CUDA: ").append(b.cudaStatus()).append('\n');
        } catch (BackendUnavailableException e) {
            sb.append("native: unavailable: ").append(e.getMessage()).append('\n');
        }
        return sb.toString();
    }

    /**
     * Worker threads that split a solve's batch inside one native call, the calling thread included
     * (1 to 1024; default 1, see bench/README.md "threads" for 1 against 2 on a 2-core machine). The
     * engine's per-step arithmetic and a native field's evaluations (a {@code NeuralField}, an
     * {@code Fn} program) run in row blocks whose boundaries depend only on the batch size, and
     * every sum over the batch (the error norm, parameter gradients) is added in block order: results
     * are bitwise the same for any thread count. A field whose rows interact (a reduction over the
     * batch) runs as one block. A Java field is always called on the calling thread with the whole
     * batch, never from the workers; only the arithmetic around it is split. The setting is
     * process-wide; OpenBLAS itself always runs on one thread.
     *
     * @throws IllegalArgumentException for a count outside [1, 1024]
     */
    public static void setThreads(int threads) {
        Backends.get().setThreads(threads);
    }

    /** The worker thread count {@link #setThreads} set (1 by default). */
    public static int threads() {
        return Backends.get().threads();
    }

    /** Whether a CUDA device answered; false on machines without a GPU or driver (never throws). */
    public static boolean cudaAvailable() {
        try {
            return Backends.get().cudaAvailable();
        } catch (BackendUnavailableException e) {
            return false;
        }
    }
}
