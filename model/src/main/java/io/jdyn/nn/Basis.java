package io.jdyn.nn;

/** The basis functions phi_k(t) of a {@link GalLinear} layer. */
public final class Basis {
    /** The family of functions. */
    public enum Kind {
        /** 1, cos(w t), sin(w t), cos(2 w t), sin(2 w t), ... with w = 2 pi / period. */
        FOURIER,
        /** 1, t, t^2, ... */
        POLYNOMIAL
    }

    private final Kind kind;
    private final double period;

    private Basis(Kind kind, double period) {
        this.kind = kind;
        this.period = period;
    }

    /** The Fourier basis of the given period. */
    public static Basis fourier(double period) {
        if (!(period > 0) || !Double.isFinite(period)) {
            throw new IllegalArgumentException("Fourier period must be finite and > 0, got " + period);
        }
        return new Basis(Kind.FOURIER, period);
    }

    /** The monomials 1, t, t^2, ... */
    public static Basis polynomial() {
        return new Basis(Kind.POLYNOMIAL, 0);
    }

    public Kind kind() {
        return kind;
    }

    /** The period of a Fourier basis (0 for the polynomial one). */
    public double period() {
        return period;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Basis b && b.kind == kind && Double.compare(b.period, period) == 0;
    }

    @Override
    public int hashCode() {
        return kind.hashCode() * 31 + Double.hashCode(period);
    }

    @Override
    public String toString() {
        return kind == Kind.FOURIER ? "Fourier(period=" + period + ")" : "Polynomial()";
    }
}
