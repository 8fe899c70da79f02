package io.jdyn.spi;

/** Internal: the native interpolant of a solve. */
public interface DenseHandle extends AutoCloseable {
    /** Evaluates at the given times into out ([ts.length, batch, dim]); throws IllegalArgumentException. */
    void eval(double[] ts, NativeBuffer out);

    double tFirst();

    double tLast();

    long steps();

    @Override
    void close();
}
