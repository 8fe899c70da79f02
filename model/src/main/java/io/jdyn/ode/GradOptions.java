package io.jdyn.ode;

import java.util.Objects;

/**
 * How to differentiate a solve: the {@link Sensitivity} (default autograd, as torchdyn's
 * NeuralODE), the seminorm of the adjoint modes (default on: the parameter adjoint and the integral
 * loss do not steer the backward step), the backward tolerances and step budget (default: the
 * forward solve's), and an optional {@link IntegralLoss}.
 */
public final class GradOptions {
    private final Sensitivity sensitivity;
    private final boolean seminorm;
    private final double rtol;
    private final double atol;
    private final long maxSteps;
    private final IntegralLoss integralLoss;

    private GradOptions(Builder b) {
        sensitivity = b.sensitivity;
        seminorm = b.seminorm;
        rtol = b.rtol;
        atol = b.atol;
        maxSteps = b.maxSteps;
        integralLoss = b.integralLoss;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Autograd, no integral loss. */
    public static GradOptions defaults() {
        return builder().build();
    }

    public Builder toBuilder() {
        Builder b = new Builder();
        b.sensitivity = sensitivity;
        b.seminorm = seminorm;
        b.rtol = rtol;
        b.atol = atol;
        b.maxSteps = maxSteps;
        b.integralLoss = integralLoss;
        return b;
    }

    public Sensitivity sensitivity() { return sensitivity; }
    public boolean seminorm() { return seminorm; }
    /** The backward relative tolerance; 0 = the forward solve's. */
    public double rtol() { return rtol; }
    /** The backward absolute tolerance; 0 = the forward solve's. */
    public double atol() { return atol; }
    /** The backward step budget; 0 = the forward solve's. */
    public long maxSteps() { return maxSteps; }
    /** The integral loss, or null. */
    public IntegralLoss integralLoss() { return integralLoss; }

    @Override
    public String toString() {
        return "GradOptions(sensitivity=" + sensitivity + ", seminorm=" + seminorm + ", rtol=" + rtol + ", atol="
                + atol + ", maxSteps=" + maxSteps + ", integralLoss=" + (integralLoss != null) + ")";
    }

    public static final class Builder {
        private Sensitivity sensitivity = Sensitivity.AUTOGRAD;
        private boolean seminorm = true;
        private double rtol;
        private double atol;
        private long maxSteps;
        private IntegralLoss integralLoss;

        private Builder() {}

        public Builder sensitivity(Sensitivity s) {
            sensitivity = Objects.requireNonNull(s, "sensitivity");
            return this;
        }

        /** By torchdyn's name: "autograd", "adjoint", "interpolated_adjoint". */
        public Builder sensitivity(String name) {
            sensitivity = Sensitivity.of(name);
            return this;
        }

        /**
         * Adjoint modes: true (default) for the seminorm (parameter adjoints out of step control), false
         * for the full norm: the largest RMS over z, a_z and each parameter tensor's adjoint.
         */
        public Builder seminorm(boolean on) {
            seminorm = on;
            return this;
        }

        /** Backward relative tolerance (adjoint modes); default: the forward solve's. */
        public Builder rtol(double v) {
            rtol = positive(v, "rtol");
            return this;
        }

        /** Backward absolute tolerance (adjoint modes); default: the forward solve's. */
        public Builder atol(double v) {
            atol = positive(v, "atol");
            return this;
        }

        /** Backward steps allowed, accepted plus rejected; default: the forward solve's budget. */
        public Builder maxSteps(long n) {
            if (n < 1) throw new IllegalArgumentException("maxSteps must be >= 1, got " + n);
            maxSteps = n;
            return this;
        }

        public Builder integralLoss(IntegralLoss l) {
            integralLoss = l;
            return this;
        }

        public GradOptions build() {
            return new GradOptions(this);
        }

        private static double positive(double v, String name) {
            if (!(v > 0) || !Double.isFinite(v)) throw new IllegalArgumentException(name + " must be finite and > 0, got " + v);
            return v;
        }
    }
}
