package io.jdyn.polyglot;

import org.graalvm.polyglot.Engine;

/**
 * Whether the Truffle languages run with the optimising compiler (the JIT) in this JVM. On a stock JDK
 * that needs JVMCI enabled and the Graal compiler on the upgrade module path, which the {@code jdyn}
 * launchers arrange; without them scripts still run, in the interpreter only (a Python loop about
 * 250 times slower once warm).
 */
public final class Jit {
    /** How to turn it on, for messages. */
    public static final String HOW_TO = "start the JVM with -XX:+UnlockExperimentalVMOptions -XX:+EnableJVMCI and "
            + "--upgrade-module-path=<compiler, collections, word, truffle-compiler jars> (the ./jdyn launcher does)";

    private static volatile String implementation;

    private Jit() {}

    /** True when the polyglot engine compiles guest code. */
    public static boolean enabled() {
        return !implementationName().equalsIgnoreCase("Interpreted");
    }

    /** The polyglot runtime's name ("GraalVM CE" with the compiler, "Interpreted" without). */
    public static String implementationName() {
        String s = implementation;
        if (s == null) {
            try (Engine e = Engine.newBuilder().option("engine.WarnInterpreterOnly", "false").build()) {
                implementation = s = e.getImplementationName();
            }
        }
        return s;
    }

    /** One line for `jdyn info` and the start of `jdyn run`. */
    public static String describe() {
        return enabled() ? "on (" + implementationName() + " runtime, Graal compiler)"
                : "off: interpreter only (JVMCI is not enabled); to turn it on " + HOW_TO;
    }
}
