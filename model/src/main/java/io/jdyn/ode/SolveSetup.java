package io.jdyn.ode;

import io.jdyn.DType;
import io.jdyn.Tensor;
import io.jdyn.spi.FieldInvoker;
import io.jdyn.spi.NativeBuffer;
import io.jdyn.spi.SolveRequest;
import java.util.Arrays;
import java.util.Objects;

/**
 * Internal: the checks every solve makes on y0, the times and the options, and the
 * {@link SolveRequest} they describe. Shared by the plain, the layer-program and the gradient solves.
 */
final class SolveSetup {
    private static final System.Logger LOG = System.getLogger("io.jdyn.ode");

    final Tensor y0;
    final long[] stateShape;
    final long batch;
    final long dim;
    final DType dtype;
    final double[] t;
    final SolveOptions options;

    private SolveSetup(Tensor y0, double[] t, SolveOptions options) {
        this.y0 = y0;
        this.stateShape = y0.shape();
        if (stateShape.length > 2) {
            throw new IllegalArgumentException("y0 must be [dim] or [batch, dim], got shape " + Arrays.toString(stateShape));
        }
        this.batch = stateShape.length == 2 ? stateShape[0] : 1;
        this.dim = stateShape[stateShape.length - 1];
        this.dtype = y0.dtype();
        this.t = t.clone();
        this.options = options;
    }

    /** Checks the arguments (IllegalArgumentException with the reason) and warns about float32 precision. */
    static SolveSetup check(Object field, Tensor y0, double[] t, SolveOptions options) {
        Objects.requireNonNull(field, "vector field");
        Objects.requireNonNull(y0, "y0");
        Objects.requireNonNull(t, "t");
        Objects.requireNonNull(options, "options");
        y0.nativeBuffer(); // throws when closed
        SolveSetup s = new SolveSetup(y0, t, options);
        if (t.length < 2) {
            throw new IllegalArgumentException("t needs at least two times (t0 and one output time), got " + t.length);
        }
        checkLength(options.rtolPerComponent(), s.dim, "rtol");
        checkLength(options.atolPerComponent(), s.dim, "atol");
        boolean[] mask = options.normMask();
        if (mask != null && mask.length != s.dim) {
            throw new IllegalArgumentException("normMask has " + mask.length + " entries but the state has dim " + s.dim);
        }
        if (!options.adaptive() && Double.isNaN(options.dt()) && options.grid() == null) {
            throw new IllegalArgumentException("method " + options.method() + " is fixed-step: give a step with dt(...)"
                    + " or a grid with grid(...)");
        }
        if (options.adaptive()) warnIfBelowPrecision(s.dtype, options);
        return s;
    }

    long perState() {
        return batch * dim;
    }

    /** The request for this solve with the given field (null for a layer program) and buffers. */
    SolveRequest request(FieldInvoker field, NativeBuffer ys, NativeBuffer eventState) {
        boolean[] mask = options.normMask();
        double[] weights = null;
        if (mask != null) {
            weights = new double[mask.length];
            for (int i = 0; i < mask.length; i++) weights[i] = mask[i] ? 1 : 0;
        }
        boolean adaptive = options.adaptive();
        StepController c = options.controller();
        Event event = options.event();
        return new SolveRequest(options.method().code(), dtype, batch, dim, field, t.clone(), adaptive,
                options.rtol(), options.atol(), options.rtolPerComponent(), options.atolPerComponent(), weights,
                adaptive ? options.firstStep() : (Double.isNaN(options.dt()) ? 0 : options.dt()), options.grid(),
                options.minStep(), options.maxStep(), options.maxSteps(), options.stepTimes(), c.safety(),
                c.ifactor(), c.dfactor(), c.pcoeff(), c.icoeff(), c.dcoeff(),
                event == null ? null : event.function()::value, event == null ? 0 : event.tolerance(),
                event == null ? 0 : event.direction().code(), event == null ? 0 : event.maxCheckInterval(),
                options.dense(), y0.nativeBuffer(), ys, eventState);
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
        if (rtol < floor) {
            LOG.log(System.Logger.Level.WARNING, "rtol " + rtol + " is below what " + dtype + " resolves (about "
                    + floor + "); steps may be rejected on round-off until dt underflows. Use float64 or a larger rtol.");
        }
    }
}
