package io.jdyn.spi;

import io.jdyn.ode.GradOptions;

/**
 * Internal: a solve of a differentiable vector field, as {@code jdyn_program_solve} (program != null:
 * a native program with its parameters) or {@code jdyn_diff_field_solve} (program == null:
 * solve.field() is the Java forward and vjp its VJP, over numParams parameters) describe it. grad,
 * the caller's {@link GradOptions} ({@code jdyn_grad_options}), is null for a forward-only solve:
 * no tape (for a program, no upcall at all).
 */
public record GradRequest(
        SolveRequest solve,
        ProgramHandle program,
        NativeBuffer params,
        VjpInvoker vjp,
        long numParams,
        GradOptions grad) {

    /** Whether the solve keeps a tape for one backward pass (it does whenever grad options are given). */
    public boolean keepTape() {
        return grad != null;
    }
}
