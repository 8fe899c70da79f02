package io.jdyn.ode;

/**
 * Adaptive step-size control: a PID controller in diffrax's formulation. With the error ratio r_n of
 * step n (scaled RMS error, accepted when <= 1) and k = embedded order + 1, an accepted step scales
 * the next one by
 *
 * <pre>safety * r_n^-(beta1/k) * r_{n-1}^-(beta2/k) * r_{n-2}^-(beta3/k)</pre>
 *
 * with beta1 = p + i + d, beta2 = -(p + 2d), beta3 = d, clipped to [dfactor, ifactor]; a rejected
 * step shrinks by safety * r^(-1/k), clipped to [dfactor, 1].
 *
 * <p>Defaults: the I controller (p = 0, i = 1, d = 0) with safety 0.9, dfactor 0.2, ifactor 10: the
 * classic controller of Hairer's codes, Hipparchus and torchdiffeq, so step counts are comparable.
 */
public record StepController(double pcoeff, double icoeff, double dcoeff, double safety, double dfactor,
        double ifactor) {

    public StepController {
        if (!Double.isFinite(pcoeff) || !Double.isFinite(icoeff) || !Double.isFinite(dcoeff)) {
            throw new IllegalArgumentException("controller coefficients must be finite");
        }
        if (pcoeff + icoeff + dcoeff <= 0) {
            throw new IllegalArgumentException("controller needs pcoeff + icoeff + dcoeff > 0, got "
                    + pcoeff + " + " + icoeff + " + " + dcoeff);
        }
        if (!(safety > 0 && safety <= 1)) throw new IllegalArgumentException("safety must be in (0, 1], got " + safety);
        if (!(dfactor > 0 && dfactor <= 1)) throw new IllegalArgumentException("dfactor must be in (0, 1], got " + dfactor);
        if (!(ifactor >= 1) || !Double.isFinite(ifactor)) {
            throw new IllegalArgumentException("ifactor must be finite and >= 1, got " + ifactor);
        }
    }

    /** The I controller: the default. */
    public static StepController integral() {
        return new StepController(0, 1, 0, 0.9, 0.2, 10);
    }

    /** A PI controller. */
    public static StepController pi(double pcoeff, double icoeff) {
        return new StepController(pcoeff, icoeff, 0, 0.9, 0.2, 10);
    }

    /** A PID controller. */
    public static StepController pid(double pcoeff, double icoeff, double dcoeff) {
        return new StepController(pcoeff, icoeff, dcoeff, 0.9, 0.2, 10);
    }

    public StepController withSafety(double s) {
        return new StepController(pcoeff, icoeff, dcoeff, s, dfactor, ifactor);
    }

    /** The smallest and largest factor by which one step may change the next. */
    public StepController withFactors(double dfactor, double ifactor) {
        return new StepController(pcoeff, icoeff, dcoeff, safety, dfactor, ifactor);
    }
}
