package io.jdyn.fn;

import io.jdyn.DType;
import io.jdyn.Tensor;
import io.jdyn.TensorClosedException;
import io.jdyn.spi.NativeBuffer;
import io.jdyn.spi.ProgramHandle;
import io.jdyn.spi.ProgramSignature;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * A finished differentiable program (jdyn.h's {@code jdyn_program}, from {@link Graph#finish}): its
 * signature (arguments, outputs, named parameters) and {@link #run}. Its parameters live in one flat
 * tensor owned by the caller ({@link #initParams(long)} makes one). Owns native memory: close it.
 */
public final class Program implements AutoCloseable {
    private final ProgramHandle handle;
    private final ProgramSignature signature;
    private final List<ParamInfo> params;
    private final List<ParamInfo> noiseSeeds;

    Program(ProgramHandle handle, java.util.Set<String> noiseSeedNames) {
        this.handle = handle;
        this.signature = handle.signature();
        List<ParamInfo> p = new ArrayList<>();
        List<ParamInfo> seeds = new ArrayList<>();
        for (ProgramSignature.Param q : signature.params()) {
            ParamInfo info = new ParamInfo(q.name(), q.shape(), q.offset(), q.count());
            p.add(info);
            if (noiseSeedNames.contains(q.name())) seeds.add(info);
        }
        this.params = List.copyOf(p);
        this.noiseSeeds = List.copyOf(seeds);
    }

    public DType dtype() {
        return handle.dtype();
    }

    public int numArgs() {
        return signature.argShapes().size();
    }

    /** Argument i's shape (-1 first when batched). */
    public long[] argShape(int i) {
        return signature.argShapes().get(i).clone();
    }

    public int numOutputs() {
        return signature.outputShapes().size();
    }

    /** Output i's shape (-1 first when batched). */
    public long[] outputShape(int i) {
        return signature.outputShapes().get(i).clone();
    }

    /** The parameter tensors in layout order. */
    public List<ParamInfo> params() {
        return params;
    }

    /** The size of the flat parameter buffer. */
    /** The parameters declared as {@link Graph#noiseSeed noise seeds}: redrawn before every solve. */
    public List<ParamInfo> noiseSeeds() {
        return noiseSeeds;
    }

    public long numParams() {
        return handle.numParams();
    }

    /** Nodes of the program (after dead-code removal). */
    public long numNodes() {
        return signature.nodes();
    }

    /** Whether it is a vector field: one argument [-1, D] and one output of the same shape. */
    public boolean isVectorField() {
        return numArgs() == 1 && numOutputs() == 1 && signature.argShapes().get(0).length == 2
                && signature.argShapes().get(0)[0] == -1
                && Arrays.equals(signature.argShapes().get(0), signature.outputShapes().get(0));
    }

    /**
     * A new flat parameter tensor [numParams] (one element when there are none) initialised by each
     * parameter's {@link Init}, reproducibly from seed. The caller closes it.
     */
    public Tensor initParams(long seed) {
        live();
        Tensor p = Tensor.zeros(dtype(), Math.max(1, numParams()));
        try {
            if (numParams() > 0) handle.initParams(seed, p.nativeBuffer());
            return p;
        } catch (RuntimeException | Error e) {
            p.close();
            throw e;
        }
    }

    /**
     * Runs the program at time t on args (one per {@link #argShape}, in order, of the program's dtype).
     * The batch size (every -1 of the signature) is the first dimension of the first batched argument
     * (1 when none is batched); a scalar argument or output is a tensor of shape [1]. params is the flat
     * parameter tensor ({@link #numParams()} values; null when there are none). Returns one new tensor
     * per output, owned by the caller.
     */
    public Tensor[] run(Tensor params, double t, Tensor... args) {
        live();
        Objects.requireNonNull(args, "args");
        DType dtype = dtype();
        if (args.length != numArgs()) {
            throw new IllegalArgumentException("the program takes " + numArgs() + " argument" + (numArgs() == 1 ? "" : "s")
                    + " " + shapes(signature.argShapes()) + ", " + args.length + " given");
        }
        NativeBuffer pb = null;
        if (params != null) {
            if (params.dtype() != dtype) {
                throw new IllegalArgumentException("params is " + params.dtype() + " but the program is " + dtype);
            }
            if (params.numel() != Math.max(1, numParams())) {
                throw new IllegalArgumentException("params holds " + params.numel() + " values but the program has "
                        + numParams() + " parameters");
            }
            pb = params.nativeBuffer();
        } else if (numParams() > 0) {
            throw new IllegalArgumentException("the program has " + numParams() + " parameters: pass them (initParams"
                    + " makes a tensor of them)");
        }
        long batch = -1;
        for (int i = 0; i < args.length; i++) {
            long[] want = signature.argShapes().get(i);
            Tensor a = Objects.requireNonNull(args[i], "argument " + i);
            if (a.dtype() != dtype) {
                throw new IllegalArgumentException("argument " + i + " is " + a.dtype() + " but the program is " + dtype);
            }
            long[] got = a.shape();
            if (want.length == 0) {
                if (a.numel() != 1) {
                    throw new IllegalArgumentException("argument " + i + " has shape " + Arrays.toString(got)
                            + " but the program takes a scalar (shape [1])");
                }
                continue;
            }
            boolean fits = got.length == want.length;
            for (int k = 0; fits && k < want.length; k++) {
                if (want[k] == -1) {
                    if (batch == -1) batch = got[k];
                    fits = got[k] == batch;
                } else {
                    fits = got[k] == want[k];
                }
            }
            if (!fits) {
                throw new IllegalArgumentException("argument " + i + " has shape " + Arrays.toString(got)
                        + " but the program takes " + Arrays.toString(want)
                        + (batch != -1 && want[0] == -1 ? " (batch " + batch + " from the first batched argument)" : ""));
            }
        }
        if (batch == -1) batch = 1;
        NativeBuffer[] in = new NativeBuffer[args.length];
        for (int i = 0; i < args.length; i++) in[i] = args[i].nativeBuffer();
        Tensor[] out = new Tensor[numOutputs()];
        try {
            NativeBuffer[] ob = new NativeBuffer[out.length];
            for (int i = 0; i < out.length; i++) {
                out[i] = Tensor.zeros(dtype, concrete(signature.outputShapes().get(i), batch));
                ob[i] = out[i].nativeBuffer();
            }
            handle.run(pb, t, in, batch, ob);
            return out;
        } catch (RuntimeException | Error e) {
            for (Tensor o : out) {
                if (o != null) o.close();
            }
            throw e;
        }
    }

    /** The shape with -1 replaced by batch; [] becomes [1]. */
    private static long[] concrete(long[] shape, long batch) {
        if (shape.length == 0) return new long[] {1};
        long[] s = shape.clone();
        for (int i = 0; i < s.length; i++) {
            if (s[i] == -1) s[i] = batch;
        }
        return s;
    }

    private static String shapes(List<long[]> shapes) {
        StringBuilder sb = new StringBuilder("(");
        for (int i = 0; i < shapes.size(); i++) sb.append(i > 0 ? ", " : "").append(Arrays.toString(shapes.get(i)));
        return sb.append(')').toString();
    }

    /** Internal: the native program (for NeuralField and the solvers). */
    public ProgramHandle handle() {
        live();
        return handle;
    }

    public boolean isClosed() {
        return handle.isClosed();
    }

    /** Frees the program (deferred while a solve's tape still holds it). */
    @Override
    public void close() {
        handle.close();
    }

    private void live() {
        if (handle.isClosed()) throw new TensorClosedException("the program is closed");
    }

    @Override
    public String toString() {
        return "Program(dtype=" + handle.dtype() + ", args=" + shapes(signature.argShapes()) + ", outputs="
                + shapes(signature.outputShapes()) + ", params=" + params + ", nodes=" + signature.nodes() + ")";
    }
}
