package io.jdyn.fn;

import java.util.Objects;

/**
 * Where an {@link Fn} declares its parameters: each declaration adds a named parameter to the graph
 * (laid out in the flat parameter buffer in declaration order) and returns it. Names are PyTorch's
 * state_dict names: {@link #scope(String)} prefixes "prefix." ({@code p.scope("0").param("weight", ...)}
 * is "0.weight"). A name declared twice is an error ("duplicate parameter"), so an Fn applied twice
 * to the same Params shares nothing: give each use its own scope, or declare through {@link #tied()}
 * to apply it several times with the same parameters (the stages of a Runge-Kutta step over one
 * field).
 */
public final class Params {
    private final Graph graph;
    private final String prefix;
    private final boolean tied;

    Params(Graph graph, String prefix) {
        this(graph, prefix, false);
    }

    private Params(Graph graph, String prefix, boolean tied) {
        this.graph = graph;
        this.prefix = prefix;
        this.tied = tied;
    }

    /**
     * These Params where declaring a name the graph already has returns that parameter (its shape must
     * match) instead of failing: weight tying, so an Fn applied several times computes with one set of
     * parameters. Scopes taken from it are tied too.
     */
    public Params tied() {
        return tied ? this : new Params(graph, prefix, true);
    }

    /** Whether re-declaring a name returns the existing parameter ({@link #tied()}). */
    public boolean isTied() {
        return tied;
    }

    /** The graph the parameters are declared in (for constants and inputs). */
    public Graph graph() {
        return graph;
    }

    /** What is put before every name declared here ("" at the root, else ending with "."). */
    public String prefix() {
        return prefix;
    }

    /** Parameters named "prefix.name" (PyTorch's nesting of modules). */
    public Params scope(String name) {
        Objects.requireNonNull(name, "name");
        if (name.isEmpty()) throw new IllegalArgumentException("a scope needs a non-empty name");
        return new Params(graph, prefix + name + ".", tied);
    }

    /** A parameter of the given (unbatched) shape. */
    public Sym param(String name, Init init, long... shape) {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(shape, "shape");
        if (tied) {
            Sym old = graph.declaredParams().get(prefix + name);
            if (old != null) {
                if (!java.util.Arrays.equals(old.shape(), shape)) {
                    throw new IllegalArgumentException("tied parameter " + prefix + name + " was declared with shape "
                            + java.util.Arrays.toString(old.shape()) + ", now with " + java.util.Arrays.toString(shape));
                }
                return old;
            }
        }
        return graph.param(prefix + name, init, shape);
    }

    /** A noise seed named "prefix.name": see {@link Graph#noiseSeed(String)}. Tied: the existing one, if declared. */
    public Sym noiseSeed(String name) {
        Objects.requireNonNull(name, "name");
        if (tied) {
            Sym old = graph.declaredParams().get(prefix + name);
            if (old != null) return old;
        }
        return graph.noiseSeed(prefix + name);
    }

    /** A weight [out, in] initialised as PyTorch's Linear does: {@link Init#torchLinear}(in). */
    public Sym weight(String name, int out, int in) {
        return param(name, Init.torchLinear(in), out, in);
    }

    /** A bias [out] initialised as PyTorch's Linear does: {@link Init#torchLinear}(fanIn). */
    public Sym bias(String name, int out, int fanIn) {
        return param(name, Init.torchLinear(fanIn), out);
    }

    /**
     * {@code nn.Linear(in, out)} applied to x [..., in]: declares "name.weight" [out, in] then
     * "name.bias" [out] (both {@link Init#torchLinear}(in)) and returns x W^T + b.
     */
    public Sym linear(String name, Sym x, int out) {
        return linear(name, x, out, true);
    }

    /** As {@link #linear(String, Sym, int)}, without the bias when bias is false. */
    public Sym linear(String name, Sym x, int out, boolean bias) {
        Objects.requireNonNull(x, "x");
        if (x.rank() == 0) throw new IllegalArgumentException("linear " + name + ": x is a scalar; it needs a last dimension");
        long inL = x.size(-1);
        if (inL < 1) throw new IllegalArgumentException("linear " + name + ": x has shape " + java.util.Arrays.toString(x.shape())
                + ", whose last dimension is the batch");
        int in = Math.toIntExact(inL);
        Params s = scope(name);
        Sym w = s.weight("weight", out, in);
        Sym b = bias ? s.bias("bias", out, in) : null;
        return x.linear(w, b);
    }

    @Override
    public String toString() {
        return "Params(prefix=\"" + prefix + "\"" + (tied ? ", tied" : "") + ")";
    }
}
