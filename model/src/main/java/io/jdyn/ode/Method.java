package io.jdyn.ode;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * The explicit Runge-Kutta methods, by torchdyn's and torchdiffeq's names. {@link #RK4} is the
 * classic rule (torchdyn's "rk4"); {@link #RK4_38} is Kutta's 3/8 rule, which torchdiffeq calls
 * "rk4". {@link #DOPRI8} is Hairer's DOP853.
 */
public enum Method {
    EULER("euler", 0, 1, false),
    MIDPOINT("midpoint", 1, 2, false),
    /** Heun's second-order method with Euler embedded: adaptive (torchdiffeq's "adaptive_heun"). */
    HEUN("heun", 2, 2, true),
    RK4("rk4", 3, 4, false),
    RK4_38("rk4_38", 4, 4, false),
    BOSH3("bosh3", 5, 3, true),
    DOPRI5("dopri5", 6, 5, true),
    TSIT5("tsit5", 7, 5, true),
    DOPRI8("dopri8", 8, 8, true);

    private final String torchName;
    private final int code;
    private final int order;
    private final boolean adaptive;

    Method(String torchName, int code, int order, boolean adaptive) {
        this.torchName = torchName;
        this.code = code;
        this.order = order;
        this.adaptive = adaptive;
    }

    /** The name torchdyn uses ("dopri5"). */
    public String torchName() {
        return torchName;
    }

    /** The value of {@code enum jdyn_method} in the C ABI. */
    public int code() {
        return code;
    }

    public int order() {
        return order;
    }

    /** Whether the method has an embedded error estimate, so it can step adaptively. */
    public boolean isAdaptive() {
        return adaptive;
    }

    /** By name, case-insensitively; also accepts "adaptive_heun" and "dop853". */
    public static Method of(String name) {
        if (name == null) throw new IllegalArgumentException("method name is null");
        String n = name.trim().toLowerCase(Locale.ROOT);
        switch (n) {
            case "adaptive_heun":
                return HEUN;
            case "dop853":
                return DOPRI8;
            default:
                for (Method m : values()) {
                    if (m.torchName.equals(n)) return m;
                }
        }
        throw new IllegalArgumentException("unknown method '" + name + "'; known: "
                + Arrays.stream(values()).map(Method::torchName).collect(Collectors.joining(", ")));
    }

    @Override
    public String toString() {
        return torchName;
    }
}
