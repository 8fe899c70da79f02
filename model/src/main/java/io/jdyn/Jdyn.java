package io.jdyn;

import io.jdyn.spi.Backend;
import io.jdyn.spi.Backends;

/** Library-wide settings and facts: the backend in use, BLAS threads, CUDA availability. */
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
            sb.append("BLAS: ").append(b.blasInfo()).append(", ").append(b.threads()).append(" thread(s)\n");
            sb.append("CUDA: ").append(b.cudaStatus()).append('\n');
        } catch (BackendUnavailableException e) {
            sb.append("native: unavailable: ").append(e.getMessage()).append('\n');
        }
        return sb.toString();
    }

    /** Threads for linear algebra (OpenBLAS). Default 1: on small machines more threads were slower. */
    public static void setThreads(int threads) {
        Backends.get().setThreads(threads);
    }

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
