/**
 * Differentiable programs: vector fields (and any other functions) written as {@link io.jdyn.fn.Sym}
 * operations in a {@link io.jdyn.fn.Graph}, differentiated symbolically ({@link io.jdyn.fn.Graph#vjp},
 * {@link io.jdyn.fn.Graph#jvp}, {@link io.jdyn.fn.Graph#grad}; to any order) and run natively as a
 * {@link io.jdyn.fn.Program}. An {@link io.jdyn.fn.Fn} (t, x, params) becomes a Neural ODE's vector
 * field through {@link io.jdyn.nn.NeuralField#of(io.jdyn.fn.Fn, int, io.jdyn.DType, long)} or
 * {@link io.jdyn.models.NeuralODE#builder(io.jdyn.fn.Fn, int)}, solved with every solver and
 * sensitivity without an upcall per evaluation. See docs/programs.md.
 */
package io.jdyn.fn;
