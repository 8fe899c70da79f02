package io.jdyn.fn;

import java.util.Objects;

/**
 * How a parameter is initialised: every parameter of a program is drawn in declaration order from one
 * stream seeded at {@link Program#initParams(long)} (or by a {@link io.jdyn.nn.NeuralField}'s seed), so
 * the same declarations and the same seed give the same values.
 *
 * @param kind the distribution
 * @param value the bound of {@link Kind#UNIFORM}, the standard deviation of {@link Kind#NORMAL}, the
 *     value of {@link Kind#CONSTANT}
 */
public record Init(Kind kind, double value) {
    /** The distributions of jdyn.h's {@code enum jdyn_init}. */
    public enum Kind {
        /** Uniform in [-value, value). */
        UNIFORM,
        /** Normal with mean 0 and standard deviation value. */
        NORMAL,
        /** Every element equals value. */
        CONSTANT
    }

    public Init {
        Objects.requireNonNull(kind, "kind");
        if (!Double.isFinite(value)) throw new IllegalArgumentException("init value must be finite, got " + value);
        if (kind != Kind.CONSTANT && value < 0) {
            throw new IllegalArgumentException(kind.name().toLowerCase(java.util.Locale.ROOT) + " needs a value >= 0, got "
                    + value);
        }
    }

    /** Uniform in [-bound, bound). */
    public static Init uniform(double bound) {
        return new Init(Kind.UNIFORM, bound);
    }

    /** Normal with mean 0 and standard deviation std. */
    public static Init normal(double std) {
        return new Init(Kind.NORMAL, std);
    }

    public static Init constant(double v) {
        return new Init(Kind.CONSTANT, v);
    }

    public static Init zeros() {
        return constant(0);
    }

    /**
     * PyTorch's default for both the weight and the bias of {@code nn.Linear(fanIn, out)}: uniform in
     * +-1/sqrt(fanIn) (kaiming_uniform with a = sqrt(5) gives that bound for the weight).
     */
    public static Init torchLinear(long fanIn) {
        if (fanIn < 1) throw new IllegalArgumentException("fanIn must be >= 1, got " + fanIn);
        return uniform(1.0 / Math.sqrt((double) fanIn));
    }

    @Override
    public String toString() {
        return kind.name().toLowerCase(java.util.Locale.ROOT) + "(" + value + ")";
    }
}
