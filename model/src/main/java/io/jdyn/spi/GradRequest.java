package io.jdyn.spi;

/**
 * Internal: a solve of a differentiable vector field, as {@code jdyn_program_solve} (program != null:
 * a native layer program with its parameters) or {@code jdyn_diff_field_solve} (program == null:
 * solve.field() is the Java forward and vjp its VJP, over numParams parameters) describe it, with
 * the fields of {@code jdyn_grad_options}. With {@code keepTape} false the solve is forward-only
 * (no tape; for a program, no upcall at all).
 */
public record GradRequest(
        SolveRequest solve,
        ProgramHandle program,
        NativeBuffer params,
        VjpInvoker vjp,
        long numParams,
        boolean keepTape,
        int sensitivity,
        boolean seminorm,
        double rtol,
        double atol,
        long maxSteps,
        IntegralInvoker integral) {

    public static final int AUTOGRAD = 0;
    public static final int ADJOINT = 1;
    public static final int INTERPOLATED_ADJOINT = 2;
}
