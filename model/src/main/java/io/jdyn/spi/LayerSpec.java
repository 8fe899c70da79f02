package io.jdyn.spi;

/**
 * Internal: one layer of a native program, field for field the C ABI's {@code jdyn_layer_spec}.
 * {@code kind} is a {@code enum jdyn_layer_kind} value (see the constants); the other fields mean
 * what jdyn.h says for that kind and are 0 where unused.
 */
public record LayerSpec(int kind, long outFeatures, boolean bias, int basis, long nBasis, double alpha,
        double threshold) {
    public static final int LINEAR = 0;
    public static final int TANH = 1;
    public static final int RELU = 2;
    public static final int SOFTPLUS = 3;
    public static final int SIGMOID = 4;
    public static final int SIN = 5;
    public static final int ELU = 6;
    public static final int SILU = 7;
    public static final int DEPTHCAT = 8;
    public static final int AUGMENTER = 9;
    public static final int GALLINEAR = 10;

    public static final int BASIS_FOURIER = 0;
    public static final int BASIS_POLYNOMIAL = 1;

    /** A layer without settings (an activation, DepthCat). */
    public static LayerSpec of(int kind) {
        return new LayerSpec(kind, 0, false, 0, 0, 0, 0);
    }
}
