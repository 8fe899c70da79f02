package io.jdyn.nn;

/** Elementwise sin(x) (a periodic activation; PyTorch has no module of its own for it). */
public record Sin() implements Layer {
    @Override
    public String toString() {
        return "Sin()";
    }
}
