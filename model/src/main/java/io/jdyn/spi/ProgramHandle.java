package io.jdyn.spi;

import io.jdyn.DType;

/**
 * Internal: a native program ({@code jdyn_program}): a layer program from {@link Backend#createProgram}
 * or a differentiable program from {@link GraphHandle#finish}; every solve path takes either. For a
 * graph program that is no vector field ([-1, D] to [-1, D]) dimIn and dimOut are 0 and only
 * {@link #signature()} and {@link #run} apply. Its parameters live in a buffer owned by the caller. Failures of the native calls throw IllegalArgumentException with the native message.
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

    /** The arguments', outputs' and parameter tensors' shapes (computed once). */
    ProgramSignature signature();

    /**
     * Runs the program on a batch (the size of every -1): args[i] and outs[i] hold the i-th argument
     * and output of the signature, row-major, in the program's dtype.
     */
    void run(NativeBuffer params, double t, NativeBuffer[] args, long batch, NativeBuffer[] outs);

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

    /**
     * SNOpt's preconditioned layers (jdyn_program_linear_layers): 6 values per Linear layer: in, out,
     * weight parameter index, bias parameter index (-1: none), weight offset, bias offset (-1).
     */
    default long[] linearLayers() {
        throw new UnsupportedOperationException("this backend does not list a program's Linear layers");
    }

    boolean isClosed();

    @Override
    void close();
}
