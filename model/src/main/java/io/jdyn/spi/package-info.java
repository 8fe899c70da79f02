/**
 * Internal: the service-provider interface between the public API (compiled for Java 21) and the
 * native backend in jdyn-ffm-bindings (compiled for Java 22, where the FFM API is final). Not for
 * applications; it may change in any release.
 *
 * <p>The public API finds the backend with {@link java.util.ServiceLoader} (see {@link
 * io.jdyn.spi.Backends}); the backend implements these interfaces and references nothing else of the
 * API beyond the value types {@link io.jdyn.DType}, {@link io.jdyn.ode.BatchView} and {@link
 * io.jdyn.ode.ParamView}, the immutable options a request carries ({@link io.jdyn.ode.SolveOptions}
 * and {@link io.jdyn.ode.GradOptions} with what they hold: the method, step controller, event and
 * integral loss), read once where the native structs are written, and {@link
 * io.jdyn.TensorClosedException}, thrown on use after close.
 */
package io.jdyn.spi;
