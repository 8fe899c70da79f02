package io.jdyn.ode;

import io.jdyn.DType;
import io.jdyn.JdynException;
import io.jdyn.Tensor;
import io.jdyn.spi.Backend;
import io.jdyn.spi.Backends;
import io.jdyn.spi.NativeBuffer;
import io.jdyn.spi.SolveOutcome;
import io.jdyn.spi.SolveRequest;
import java.util.Arrays;
import java.util.Objects;

/**
 * torchdiffeq's {@code odeint} for the JVM: solves dz/dt = f(t, z) from {@code y0} at {@code t[0]}
 * and returns the states at every time in {@code t}. The whole solve is one native call.
 *
 * <pre>{@code
 * try (Tensor y0 = Tensor.of(new double[] {1, 0}, 1, 2);
 *      Solution s = Odeint.odeint((t, z, dz) -> { ... }, y0, new double[] {0, 1, 2},
 *              SolveOptions.builder().method("dopri5").rtol(1e-8).atol(1e-8).build())) {
 *     double[] ys = s.ys().toDoubleArray();
 * }
 * }</pre>
 */
public final class Odeint {
    private static final System.Logger LOG = System.getLogger("io.jdyn.ode");

    private Odeint() {}

    /** Solves with the default options (dopri5, rtol 1e-7, atol 1e-9). */
    public static Solution odeint(VectorField f, Tensor y0, double[] t) {
        return odeint(f, y0, t, SolveOptions.defaults());
    }

    /**
     * Solves with the given options. y0 is [dim] or [batch, dim]; every row of a batch shares one
     * step. Throws IllegalArgumentException for bad arguments and a {@link SolveException} subclass
     * when the step loop fails.
     */
    public static Solution odeint(VectorField f, Tensor y0, double[] t, SolveOptions options) {
        Objects.requireNonNull(f, "vector field");
        Objects.requireNonNull(y0, "y0");
        Objects.requireNonNull(t, "t");
        Objects.requireNonNull(options, "options");
        NativeBuffer y0Buffer = y0.nativeBuffer();
        long[] shape = y0.shape();
        if (shape.length > 2) {
            throw new IllegalArgumentException("y0 must be [dim] or [batch, dim], got shape " + Arrays.toString(shape));
        }
        long batch = shape.length == 2 ? shape[0] : 1;
        long dim = shape[shape.length - 1];
        if (t.length < 2) {
            throw new IllegalArgumentException("t needs at least two times (t0 and one output time), got " + t.length);
        }
        checkLength(options.rtolPerComponent(), dim, "rtol");
        checkLength(options.atolPerComponent(), dim, "atol");
        boolean[] mask = options.normMask();
        if (mask != null && mask.length != dim) {
            throw new IllegalArgumentException("normMask has " + mask.length + " entries but the state has dim " + dim);
        }
        Method method = options.method();
        boolean adaptive = options.adaptive();
        if (!adaptive && Double.isNaN(options.dt()) && options.grid() == null) {
            throw new IllegalArgumentException("method " + method + " is fixed-step: give a step with dt(...) or a grid"
                    + " with grid(...)");
        }
        DType dtype = y0.dtype();
        if (adaptive) warnIfBelowPrecision(dtype, options);

        Backend backend = Backends.get();
        long perState = batch * dim;
        NativeBuffer ys = backend.allocate(dtype, Math.multiplyExact(perState, (long) t.length));
        Event event = options.event();
        NativeBuffer eventState = event == null ? null : backend.allocate(dtype, perState);
        double[] weights = null;
        if (mask != null) {
            weights = new double[mask.length];
            for (int i = 0; i < mask.length; i++) weights[i] = mask[i] ? 1 : 0;
        }
        StepController c = options.controller();
        SolveRequest request = new SolveRequest(method.code(), dtype, batch, dim, f::evaluate, t.clone(), adaptive,
                options.rtol(), options.atol(), options.rtolPerComponent(), options.atolPerComponent(), weights,
                adaptive ? options.firstStep() : (Double.isNaN(options.dt()) ? 0 : options.dt()), options.grid(),
                options.minStep(), options.maxStep(), options.maxSteps(), options.stepTimes(), c.safety(),
                c.ifactor(), c.dfactor(), c.pcoeff(), c.icoeff(), c.dcoeff(),
                event == null ? null : event.function()::value, event == null ? 0 : event.tolerance(),
                event == null ? 0 : event.direction().code(), event == null ? 0 : event.maxCheckInterval(),
                options.dense(), y0Buffer, ys, eventState);
        SolveOutcome out;
        try {
            out = backend.solve(request);
        } catch (RuntimeException | Error e) {
            ys.close();
            if (eventState != null) eventState.close();
            throw e;
        }
        SolveStats stats = new SolveStats(out.nfe(), out.accepted(), out.rejected(), out.lastDt(), out.tReached(),
                out.errorHistory());
        if (out.status() != SolveOutcome.OK) {
            ys.close();
            if (eventState != null) eventState.close();
            if (out.dense() != null) out.dense().close();
            throw failure(out, stats);
        }
        long[] stateShape = shape.clone();
        long[] ysShape = new long[stateShape.length + 1];
        ysShape[0] = out.outputs();
        System.arraycopy(stateShape, 0, ysShape, 1, stateShape.length);
        Tensor ysTensor = Tensor.wrap(ys, ysShape);
        Tensor eventTensor = null;
        if (eventState != null) {
            if (out.eventFound()) {
                eventTensor = Tensor.wrap(eventState, stateShape);
            } else {
                eventState.close();
            }
        }
        DenseInterpolant dense = out.dense() == null ? null : new DenseInterpolant(out.dense(), dtype, stateShape);
        return new Solution(ysTensor, Arrays.copyOf(t, (int) out.outputs()), stats, dense, out.eventTime(),
                eventTensor);
    }

    private static RuntimeException failure(SolveOutcome out, SolveStats stats) {
        String msg = out.message();
        switch (out.status()) {
            case SolveOutcome.ARGUMENT:
                return new IllegalArgumentException(msg);
            case SolveOutcome.STEP_UNDERFLOW:
                return new StepSizeUnderflowException(msg, stats);
            case SolveOutcome.MAX_STEPS:
                return new MaxStepsExceededException(msg, stats);
            case SolveOutcome.NON_FINITE:
                return new NonFiniteValueException(msg, stats, out.badIndex());
            case SolveOutcome.CALLBACK: {
                Throwable cause = out.callbackError();
                String what = cause == null ? msg
                        : "the vector field threw " + cause + " (" + msg + ")";
                return new VectorFieldException(what, stats, cause);
            }
            case SolveOutcome.OUT_OF_MEMORY:
                return new JdynException("native memory exhausted: " + msg);
            default:
                return new JdynException("internal error in the native core: " + msg);
        }
    }

    private static void checkLength(double[] v, long dim, String name) {
        if (v != null && v.length != dim) {
            throw new IllegalArgumentException(name + " has " + v.length + " components but the state has dim " + dim);
        }
    }

    /** float32 resolves relative differences of about 1e-7: tighter rtol makes steps reject on noise. */
    private static void warnIfBelowPrecision(DType dtype, SolveOptions o) {
        double floor = 10 * dtype.epsilon();
        double rtol = o.rtol();
        double[] per = o.rtolPerComponent();
        if (per != null) rtol = Arrays.stream(per).min().orElse(rtol);
        if (rtol < floor) {
            LOG.log(System.Logger.Level.WARNING, "rtol " + rtol + " is below what " + dtype + " resolves (about "
                    + floor + "); steps may be rejected on round-off until dt underflows. Use float64 or a larger rtol.");
        }
    }
}
