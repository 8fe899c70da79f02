package io.jdyn.spi;

import io.jdyn.DType;

/**
 * Internal: one solve, as the C ABI's {@code jdyn_solve_config} describes it. Arrays may be null
 * where the ABI allows NULL; validated by the native core.
 */
public record SolveRequest(
        int method,
        DType dtype,
        long batch,
        long dim,
        FieldInvoker field,
        double[] times,
        boolean adaptive,
        double rtol,
        double atol,
        double[] rtolPerComponent,
        double[] atolPerComponent,
        double[] normWeights,
        double dt,
        double[] grid,
        double minStep,
        double maxStep,
        long maxSteps,
        double[] stepTimes,
        double safety,
        double ifactor,
        double dfactor,
        double pcoeff,
        double icoeff,
        double dcoeff,
        EventInvoker event,
        double eventTolerance,
        int eventDirection,
        double eventMaxCheck,
        boolean dense,
        NativeBuffer y0,
        NativeBuffer ys,
        NativeBuffer eventState) {}
