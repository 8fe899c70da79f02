package io.jdyn.models;

import io.jdyn.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Blocks applied in order: PyTorch's {@code nn.Sequential(encoder, NeuralODE, decoder)} of
 * {@link LayerBlock}s, {@link AugmenterBlock}s and {@link NeuralODE}s. {@link #forward(Tensor)} runs
 * each block natively where it can; {@link #trace(Tensor)} keeps every block's tape, and its
 * backward chains the VJPs from the last block to the first (decoder VJP, ODE backward, encoder VJP),
 * accumulating each block's dL/dtheta into its gradient. Closing the model closes its blocks.
 */
public final class SequentialModel implements AutoCloseable {
    private final List<Block> blocks;

    private SequentialModel(List<Block> blocks) {
        if (blocks.isEmpty()) throw new IllegalArgumentException("a SequentialModel needs at least one block");
        for (int i = 1; i < blocks.size(); i++) {
            Block a = blocks.get(i - 1), b = blocks.get(i);
            if (a.outFeatures() != b.inFeatures()) {
                throw new IllegalArgumentException("block " + i + " takes width " + b.inFeatures() + " but block "
                        + (i - 1) + " gives " + a.outFeatures());
            }
            if (a.dtype() != b.dtype()) {
                throw new IllegalArgumentException("block " + i + " is " + b.dtype() + " but block " + (i - 1) + " is "
                        + a.dtype());
            }
        }
        this.blocks = blocks;
    }

    public static SequentialModel of(Block... blocks) {
        Objects.requireNonNull(blocks, "blocks");
        for (int i = 0; i < blocks.length; i++) Objects.requireNonNull(blocks[i], "block " + i);
        return new SequentialModel(List.of(blocks));
    }

    public List<Block> blocks() {
        return blocks;
    }

    public Block get(int i) {
        return blocks.get(i);
    }

    public int inFeatures() {
        return blocks.get(0).inFeatures();
    }

    public int outFeatures() {
        return blocks.get(blocks.size() - 1).outFeatures();
    }

    public long numParams() {
        long n = 0;
        for (Block b : blocks) n += b.numParams();
        return n;
    }

    public void zeroGrad() {
        for (Block b : blocks) b.zeroGrad();
    }

    /** The output for x (owned by the caller); intermediate outputs are freed on the way. */
    public Tensor forward(Tensor x) {
        Tensor cur = x;
        for (Block b : blocks) {
            Tensor next;
            try {
                next = b.forward(cur);
            } finally {
                if (cur != x) cur.close();
            }
            cur = next;
        }
        return cur == x ? x.copy() : cur;
    }

    /** The forward pass with every block's tape. */
    public Trace trace(Tensor x) {
        List<Block.Trace> traces = new ArrayList<>(blocks.size());
        try {
            Tensor cur = x;
            for (Block b : blocks) {
                Block.Trace t = b.trace(cur);
                traces.add(t);
                cur = t.output();
            }
        } catch (RuntimeException | Error e) {
            for (Block.Trace t : traces) t.close();
            throw e;
        }
        return new Trace(traces);
    }

    /** A forward pass with its tapes: one backward pass; owns the output and dL/dx. Close it. */
    public static final class Trace implements AutoCloseable {
        private final List<Block.Trace> traces;
        private boolean done;

        private Trace(List<Block.Trace> traces) {
            this.traces = traces;
        }

        public Tensor output() {
            return traces.get(traces.size() - 1).output();
        }

        /** Block i's trace (its output, and for a NeuralODE its solve and gradients). */
        public Block.Trace block(int i) {
            return traces.get(i);
        }

        /** dL/dx for dL/d(output) = cotangent; accumulates every block's dL/dtheta. Owned by the trace. */
        public Tensor backward(Tensor cotangent) {
            if (done) throw new IllegalStateException("backward was already called on this trace");
            done = true;
            Tensor g = cotangent;
            for (int i = traces.size() - 1; i >= 0; i--) g = traces.get(i).backward(g);
            return g;
        }

        @Override
        public void close() {
            for (Block.Trace t : traces) t.close();
        }
    }

    @Override
    public void close() {
        for (Block b : blocks) b.close();
    }

    /** PyTorch style: one indexed entry per block. */
    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("SequentialModel(\n");
        for (int i = 0; i < blocks.size(); i++) {
            String s = blocks.get(i).toString().stripTrailing().replace("\n", "\n  ");
            sb.append("  (").append(i).append("): ").append(s).append('\n');
        }
        return sb.append(')').toString();
    }
}
