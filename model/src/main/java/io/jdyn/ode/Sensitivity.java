package io.jdyn.ode;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * How gradients of a solve are computed, by torchdyn's names.
 * <ul>
 *   <li>{@link #AUTOGRAD}: backpropagation through the accepted steps, the exact gradient of the
 *       discrete solve; the tape grows with the steps, and the solve lands a step on every output time.
 *   <li>{@link #ADJOINT}: backsolves [z, a_z, a_theta] from the last time; memory independent of the steps.
 *   <li>{@link #INTERPOLATED_ADJOINT}: backsolves [a_z, a_theta] with z read from the forward interpolant.
 * </ul>
 */
public enum Sensitivity {
    AUTOGRAD("autograd", 0),
    ADJOINT("adjoint", 1),
    INTERPOLATED_ADJOINT("interpolated_adjoint", 2);

    private final String torchName;
    private final int code;

    Sensitivity(String torchName, int code) {
        this.torchName = torchName;
        this.code = code;
    }

    /** The name torchdyn uses ("interpolated_adjoint"). */
    public String torchName() {
        return torchName;
    }

    /** The value of {@code enum jdyn_sensitivity} in the C ABI. */
    public int code() {
        return code;
    }

    /** By torchdyn's name, case-insensitively. */
    public static Sensitivity of(String name) {
        if (name == null) throw new IllegalArgumentException("sensitivity name is null");
        String n = name.trim().toLowerCase(Locale.ROOT);
        for (Sensitivity s : values()) {
            if (s.torchName.equals(n)) return s;
        }
        throw new IllegalArgumentException("unknown sensitivity '" + name + "'; known: "
                + Arrays.stream(values()).map(Sensitivity::torchName).collect(Collectors.joining(", ")));
    }

    @Override
    public String toString() {
        return torchName;
    }
}
