package io.jdyn.ode;

import io.jdyn.DType;
import io.jdyn.Tensor;
import io.jdyn.spi.Backend;
import io.jdyn.spi.FieldInvoker;
import io.jdyn.spi.NativeBuffer;
import io.jdyn.spi.SolveRequest;
import io.jdyn.spi.SolveSpec;
import java.util.Arrays;
import java.util.Objects;

/**
 * Internal: the checks every solve makes on y0, the times and the options, and the {@link SolveSpec}
 * they resolve to (the options as given, with the times, dtype, batch and width of this call): the one
 * description every request carries down to the backend. Shared by the plain, the program and the
 * gradient solves.
 */
final class SolveSetup {
    private static final System.Logger LOG = System.getLogger("io.jdyn.ode");
    /** Fixed steps a solve may take without an explicit maxSteps (the engine holds the grid: 800 MB). */
    static final long MAX_UNCAPPED_FIXED_STEPS = 100_000_000L;
    /** The (dtype, rtol) settings already warned about. */
    private static final java.util.Set<String> WARNED = java.util.concurrent.ConcurrentHashMap.newKeySet();

    final Tensor y0;
    final long[] stateShape;
    final SolveSpec spec;

    private SolveSetup(Tensor y0, double[] t, SolveOptions options) {
        this.y0 = y0;
        this.stateShape = y0.shape();
        if (stateShape.length > 2) {
            throw new IllegalArgumentException("y0 must be [dim] or [batch, dim], got shape " + Arrays.toString(stateShape));
        }
        long batch = stateShape.length == 2 ? stateShape[0] : 1;
        long dim = stateShape[stateShape.length - 1];
        this.spec = new SolveSpec(options, t.clone(), y0.dtype(), batch, dim);
    }

    /** Checks the arguments (IllegalArgumentException with the reason) and warns about float32 precision. */
    static SolveSetup check(Object field, Tensor y0, double[] t, SolveOptions options) {
        Objects.requireNonNull(field, "vector field");
        Objects.requireNonNull(y0, "y0");
        Objects.requireNonNull(t, "t");
        Objects.requireNonNull(options, "options");
        y0.nativeBuffer(); // throws when closed
        SolveSetup s = new SolveSetup(y0, t, options);
        long dim = s.spec.dim();
        if (t.length < 2) {
            throw new IllegalArgumentException("t needs at least two times (t0 and one output time), got " + t.length);
        }
        checkLength(options.rtolPerComponent(), dim, "rtol");
        checkLength(options.atolPerComponent(), dim, "atol");
        boolean[] mask = options.normMask();
        if (mask != null && mask.length != dim) {
            throw new IllegalArgumentException("normMask has " + mask.length + " entries but the state has dim " + dim);
        }
        if (!options.adaptive() && Double.isNaN(options.dt()) && options.grid() == null) {
            throw new IllegalArgumentException("method " + options.method() + " is fixed-step: give a step with dt(...)"
                    + " or a grid with grid(...)");
        }
        if (!options.adaptive() && !options.maxStepsSet() && !Double.isNaN(options.dt())) {
            // uncapped fixed steps: refuse a dt so small its grid alone would not fit in memory
            double steps = Math.abs(t[t.length - 1] - t[0]) / options.dt();
            if (steps > MAX_UNCAPPED_FIXED_STEPS) {
                throw new IllegalArgumentException(String.format("dt %g over [%g, %g] is %.3g fixed steps; more than "
                        + "%,d need an explicit maxSteps(n) (maxSteps(0): no cap)", options.dt(), t[0], t[t.length - 1],
                        steps, MAX_UNCAPPED_FIXED_STEPS));
            }
        }
        if (options.adaptive()) warnIfBelowPrecision(s.spec.dtype(), options);
        return s;
    }

    /** ys for every output time, [times, batch, dim] in the solve's dtype. */
    NativeBuffer allocateYs(Backend backend) {
        return backend.allocate(spec.dtype(), Math.multiplyExact(spec.perState(), (long) spec.times().length));
    }

    /** The request for this solve with the given field (null for a program) and buffers. */
    SolveRequest request(FieldInvoker field, NativeBuffer ys, NativeBuffer eventState) {
        return new SolveRequest(spec, field, y0.nativeBuffer(), ys, eventState, null);
    }

    /** The output times the engine reached: the first {@code outputs} of t. */
    double[] ts(long outputs) {
        return Arrays.copyOf(spec.times(), (int) outputs);
    }

    /** [outputs, *y0.shape]. */
    long[] ysShape(long outputs) {
        long[] s = new long[stateShape.length + 1];
        s[0] = outputs;
        System.arraycopy(stateShape, 0, s, 1, stateShape.length);
        return s;
    }

    /** Refuses what a solve of a differentiable field (a layer program, or any solve with gradients) cannot do. */
    void refuseEventsAndDense(String what) {
        SolveOptions options = spec.options();
        if (options.event() != null) {
            throw new IllegalArgumentException("terminal events are not supported in " + what
                    + "; solve a plain Java VectorField for events");
        }
        if (options.dense()) {
            throw new IllegalArgumentException("dense output (dense(true)) is not available in " + what
                    + "; solve a plain Java VectorField for an interpolant");
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
        // once per dtype and rtol per JVM: a training loop solves thousands of times with one setting
        if (rtol < floor && WARNED.add(dtype + " " + rtol)) {
            LOG.log(System.Logger.Level.WARNING, "rtol " + rtol + " is below what " + dtype + " resolves (about "
                    + floor + "); steps may be rejected on round-off until dt underflows. Use float64 or a larger rtol.");
        }
    }
}
