/**
 * Hypersolvers (Poli et al., "Hypersolvers: Toward Fast Continuous-Depth Models", NeurIPS 2020;
 * torchdyn.numerics' HyperEuler, HyperMidpoint, HyperRungeKutta4): a fixed-step base method whose
 * step is corrected by a small network, z_{k+1} = z_k + eps psi(t_k, z_k) + eps^(p+1) g(eps, z_k,
 * f(t_k, z_k)), trained by fitting the base method's local residuals along reference trajectories
 * ({@link io.jdyn.numerics.ResidualFit}). A hypersolver step of a fixed eps is one explicit Euler
 * step of the increment Phi = psi + eps^p g, which {@link io.jdyn.numerics.HyperField} compiles into
 * one native program, so a whole hypersolver solve runs in the native engine.
 */
package io.jdyn.numerics;
