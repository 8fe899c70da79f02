package io.jdyn.spi;

import io.jdyn.DType;

/**
 * Internal: a native layer program ({@code jdyn_program}). Its parameters live in a buffer owned by
 * the caller. Failures of the native calls throw IllegalArgumentException with the native message.
 * Closing it while tapes still refer to it defers the free until the last of them is closed.
 */
public interface ProgramHandle extends AutoCloseable {
    DType dtype();

    long dimIn();

    long dimOut();

    long numParams();

    /** Where layer {@code layer}'s parameters start in the flat buffer. */
    long layerOffset(int layer);

    /** How many parameters layer {@code layer} has (0 for layers without any). */
    long layerCount(int layer);

    /** PyTorch's default initialisation into params, reproducible from seed. */
    void initParams(long seed, NativeBuffer params);

    /** out [batch, dimOut] = program(t, z [batch, dimIn]). */
    void forward(NativeBuffer params, double t, NativeBuffer z, long batch, NativeBuffer out);

    /**
     * gz [batch, dimIn] = v^T d out/dz (overwritten); gParams += v^T d out/dtheta (null: skipped);
     * returns v^T d out/dt.
     */
    double vjp(NativeBuffer params, double t, NativeBuffer z, NativeBuffer v, long batch, NativeBuffer gz,
            NativeBuffer gParams);

    /** out [batch, dimOut] = (d out/dz) u. */
    void jvp(NativeBuffer params, double t, NativeBuffer z, NativeBuffer u, long batch, NativeBuffer out);

    boolean isClosed();

    @Override
    void close();
}
