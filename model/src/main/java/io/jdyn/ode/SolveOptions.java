package io.jdyn.ode;

import java.util.Objects;

/**
 * How to solve: torchdiffeq's vocabulary as a typed builder. Adaptive stepping is used when the
 * method has an error estimate and neither {@link Builder#dt} nor {@link Builder#grid} is given.
 *
 * <p>Defaults: dopri5, rtol 1e-7 and atol 1e-9 (torchdiffeq's), Hairer's initial step, no step
 * bounds, at most 10,000 adaptive steps (fixed steps are not capped unless maxSteps is set), the I controller, no event, no stored interpolant.
 */
public final class SolveOptions {
    private final Method method;
    private final double rtol;
    private final double atol;
    private final double[] rtolPerComponent;
    private final double[] atolPerComponent;
    private final double dt;
    private final double[] grid;
    private final double firstStep;
    private final double minStep;
    private final double maxStep;
    private final long maxSteps;
    private final boolean maxStepsSet;
    private final double[] stepTimes;
    private final boolean[] normMask;
    private final StepController controller;
    private final Event event;
    private final boolean dense;
    private final boolean perSample;

    private SolveOptions(Builder b) {
        method = b.method;
        rtol = b.rtol;
        atol = b.atol;
        rtolPerComponent = b.rtolPerComponent;
        atolPerComponent = b.atolPerComponent;
        dt = b.dt;
        grid = b.grid;
        firstStep = b.firstStep;
        minStep = b.minStep;
        maxStep = b.maxStep;
        maxSteps = b.maxSteps;
        maxStepsSet = b.maxStepsSet;
        stepTimes = b.stepTimes;
        normMask = b.normMask;
        controller = b.controller;
        event = b.event;
        dense = b.dense;
        perSample = b.perSample;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The defaults. */
    public static SolveOptions defaults() {
        return builder().build();
    }

    public Builder toBuilder() {
        Builder b = new Builder();
        b.method = method;
        b.rtol = rtol;
        b.atol = atol;
        b.rtolPerComponent = rtolPerComponent;
        b.atolPerComponent = atolPerComponent;
        b.dt = dt;
        b.grid = grid;
        b.firstStep = firstStep;
        b.minStep = minStep;
        b.maxStep = maxStep;
        b.maxSteps = maxSteps;
        b.maxStepsSet = maxStepsSet;
        b.stepTimes = stepTimes;
        b.normMask = normMask;
        b.controller = controller;
        b.event = event;
        b.dense = dense;
        b.perSample = perSample;
        return b;
    }

    public Method method() { return method; }
    public double rtol() { return rtol; }
    public double atol() { return atol; }
    public double[] rtolPerComponent() { return rtolPerComponent == null ? null : rtolPerComponent.clone(); }
    public double[] atolPerComponent() { return atolPerComponent == null ? null : atolPerComponent.clone(); }
    /** The fixed step, or NaN when none was set. */
    public double dt() { return dt; }
    public double[] grid() { return grid == null ? null : grid.clone(); }
    public double firstStep() { return firstStep; }
    public double minStep() { return minStep; }
    public double maxStep() { return maxStep; }
    /**
     * The step cap the solver applies: the one set with {@link Builder#maxSteps}, else 10,000 for an
     * adaptive solve and none (0) for fixed steps, whose count dt or the grid already fixes.
     */
    public long maxSteps() { return maxStepsSet || adaptive() ? maxSteps : 0; }

    /** Whether {@link Builder#maxSteps} was called (a fixed-step solve is capped only then). */
    public boolean maxStepsSet() { return maxStepsSet; }
    public double[] stepTimes() { return stepTimes == null ? null : stepTimes.clone(); }
    public boolean[] normMask() { return normMask == null ? null : normMask.clone(); }
    public StepController controller() { return controller; }
    public Event event() { return event; }
    public boolean dense() { return dense; }
    /** Whether every batch row steps on its own (torchode's per-sample stepping). */
    public boolean perSample() { return perSample; }

    /** Whether this solve steps adaptively. */
    public boolean adaptive() {
        return method.isAdaptive() && Double.isNaN(dt) && grid == null;
    }

    public static final class Builder {
        private Method method = Method.DOPRI5;
        private double rtol = 1e-7;
        private double atol = 1e-9;
        private double[] rtolPerComponent;
        private double[] atolPerComponent;
        private double dt = Double.NaN;
        private double[] grid;
        private double firstStep;
        private double minStep;
        private double maxStep;
        private long maxSteps = 10_000;
        private boolean maxStepsSet;
        private double[] stepTimes;
        private boolean[] normMask;
        private StepController controller = StepController.integral();
        private Event event;
        private boolean dense;
        private boolean perSample;

        private Builder() {}

        public Builder method(Method m) {
            method = Objects.requireNonNull(m, "method");
            return this;
        }

        /** By torchdyn's name: "euler", "midpoint", "heun", "rk4", "rk4_38", "bosh3", "dopri5", "tsit5", "dopri8". */
        public Builder method(String name) {
            method = Method.of(name);
            return this;
        }

        public Builder rtol(double v) {
            rtol = positive(v, "rtol");
            rtolPerComponent = null;
            return this;
        }

        public Builder atol(double v) {
            atol = positive(v, "atol");
            atolPerComponent = null;
            return this;
        }

        /** A relative tolerance per state component (length = dim). */
        public Builder rtol(double[] perComponent) {
            rtolPerComponent = positive(perComponent, "rtol");
            return this;
        }

        /** An absolute tolerance per state component (length = dim). */
        public Builder atol(double[] perComponent) {
            atolPerComponent = positive(perComponent, "atol");
            return this;
        }

        /** Fixed steps of this size (the last one shortened to land on the final time). */
        public Builder dt(double step) {
            dt = positive(step, "dt");
            return this;
        }

        /** Fixed steps on this grid, which must run from the first to the last output time. */
        public Builder grid(double... times) {
            grid = Objects.requireNonNull(times, "grid").clone();
            if (grid.length < 2) throw new IllegalArgumentException("a grid needs at least two times");
            return this;
        }

        /** The first adaptive step (default: Hairer's choice). */
        public Builder firstStep(double step) {
            firstStep = positive(step, "firstStep");
            return this;
        }

        public Builder minStep(double step) {
            if (!(step >= 0) || !Double.isFinite(step)) throw new IllegalArgumentException("minStep must be >= 0, got " + step);
            minStep = step;
            return this;
        }

        public Builder maxStep(double step) {
            maxStep = positive(step, "maxStep");
            return this;
        }

        /**
         * The most steps, accepted plus rejected, before MaxStepsExceededException; 0 = unlimited. Unset,
         * adaptive solves stop at 10,000 and fixed-step solves take every step dt or the grid asks for.
         */
        public Builder maxSteps(long n) {
            if (n < 0) throw new IllegalArgumentException("maxSteps must be >= 0 (0 = unlimited), got " + n);
            maxSteps = n;
            maxStepsSet = true;
            return this;
        }

        /** Times that an adaptive step must land on (discontinuities of the vector field). */
        public Builder stepTimes(double... times) {
            stepTimes = Objects.requireNonNull(times, "stepTimes").clone();
            return this;
        }

        /**
         * A seminorm: only components whose mask entry is true count in step-size control (length =
         * dim). The seminorm of the adjoint method uses this.
         */
        public Builder normMask(boolean... mask) {
            normMask = Objects.requireNonNull(mask, "normMask").clone();
            return this;
        }

        public Builder controller(StepController c) {
            controller = Objects.requireNonNull(c, "controller");
            return this;
        }

        public Builder event(Event e) {
            event = e;
            return this;
        }

        /** Keep the interpolant of every step, so the solution can be evaluated anywhere in the span. */
        public Builder dense(boolean keep) {
            dense = keep;
            return this;
        }

        /**
         * Give every batch row its own adaptive step: accepted or rejected alone, controlled by the error of
         * that row only (torchode's per-sample stepping), in the same native call. Rows must not depend on
         * each other through the field. A row's result then does not depend on the rest of the batch.
         */
        public Builder perSample(boolean own) {
            perSample = own;
            return this;
        }

        public SolveOptions build() {
            if (!Double.isNaN(dt) && grid != null) throw new IllegalArgumentException("give dt or grid, not both");
            return new SolveOptions(this);
        }

        private static double positive(double v, String name) {
            if (!(v > 0) || !Double.isFinite(v)) throw new IllegalArgumentException(name + " must be finite and > 0, got " + v);
            return v;
        }

        private static double[] positive(double[] v, String name) {
            Objects.requireNonNull(v, name);
            for (int i = 0; i < v.length; i++) {
                if (!(v[i] > 0) || !Double.isFinite(v[i])) {
                    throw new IllegalArgumentException(name + "[" + i + "] must be finite and > 0, got " + v[i]);
                }
            }
            return v.clone();
        }
    }
}
