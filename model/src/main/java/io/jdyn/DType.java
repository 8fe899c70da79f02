package io.jdyn;

/** Element type of a tensor; a model or a solve uses one dtype throughout. */
public enum DType {
    FLOAT32(4, 0, 1.1920928955078125e-7),
    FLOAT64(8, 1, 2.220446049250313e-16);

    private final int byteSize;
    private final int code;
    private final double epsilon;

    DType(int byteSize, int code, double epsilon) {
        this.byteSize = byteSize;
        this.code = code;
        this.epsilon = epsilon;
    }

    /** Bytes per element. */
    public int byteSize() {
        return byteSize;
    }

    /** The value of {@code enum jdyn_dtype} in the C ABI. */
    public int code() {
        return code;
    }

    /** Machine epsilon: the spacing of numbers near 1. */
    public double epsilon() {
        return epsilon;
    }
}
