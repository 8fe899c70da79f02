package io.jdyn.io;

import io.jdyn.DType;
import io.jdyn.nn.GalLinear;
import io.jdyn.nn.Layer;
import io.jdyn.nn.Linear;
import io.jdyn.nn.NeuralField;
import io.jdyn.nn.Parameters;
import io.jdyn.nn.Sequential;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * Checkpoints of a {@link NeuralField}: one safetensors file that PyTorch's {@code safetensors} can
 * read. Each layer with parameters contributes tensors named as PyTorch's {@code state_dict} of the
 * same {@code nn.Sequential} names them, by the layer's index: a {@link Linear} {@code "{i}.weight"}
 * [out, in] and {@code "{i}.bias"} [out]; a {@link GalLinear} {@code "{i}.coeffs_weight"}
 * [n_basis, out, in] and {@code "{i}.coeffs_bias"} [n_basis, out]. Tensors are F32 or F64 as the
 * field's dtype. The architecture (state width, dtype, layers and their arguments) is JSON in the
 * header's {@code __metadata__} under {@link #ARCHITECTURE_KEY}, so {@link #load(Path)} rebuilds the
 * field without code; the caller's metadata sits beside it.
 *
 * <p>{@link #save} is atomic: a temporary file in the same directory, forced to disk, then moved
 * over the target, so a crash mid-write leaves the previous checkpoint intact.
 */
public final class Checkpoint {
    /** The metadata key holding the architecture JSON (reserved). */
    public static final String ARCHITECTURE_KEY = "jdyn.architecture";
    /** The file name used when {@link #save} or {@link #load} is given a directory. */
    public static final String FILE_NAME = "model.safetensors";

    private Checkpoint() {}

    /** The file a path names: itself, or {@link #FILE_NAME} inside it when it is a directory. */
    public static Path resolve(Path path) {
        Objects.requireNonNull(path, "path");
        return Files.isDirectory(path) ? path.resolve(FILE_NAME) : path;
    }

    /** Saves field (architecture and parameter values) to path (a file, or a directory), atomically. */
    public static void save(Path path, NeuralField field, Map<String, String> metadata) throws IOException {
        Objects.requireNonNull(field, "field");
        Map<String, String> md = new LinkedHashMap<>();
        if (metadata != null) {
            for (Map.Entry<String, String> e : metadata.entrySet()) {
                Objects.requireNonNull(e.getKey(), "metadata key");
                Objects.requireNonNull(e.getValue(), "metadata value of " + e.getKey());
                if (e.getKey().equals(ARCHITECTURE_KEY)) {
                    throw new IllegalArgumentException("metadata key " + ARCHITECTURE_KEY + " is reserved for the architecture");
                }
                md.put(e.getKey(), e.getValue());
            }
        }
        md.put(ARCHITECTURE_KEY, new Architecture(field.net(), field.dim(), field.dtype()).toJson());
        SafeTensors.write(resolve(path), stateDict(field), md);
    }

    /** Saves without metadata of the caller's. */
    public static void save(Path path, NeuralField field) throws IOException {
        save(path, field, Map.of());
    }

    /**
     * The field's parameters as PyTorch's state_dict would name and shape them, in layer order
     * (values copied out of native memory).
     */
    public static Map<String, SafeTensors.Entry> stateDict(NeuralField field) {
        Parameters p = field.parameters();
        String dt = field.dtype() == DType.FLOAT32 ? "F32" : "F64";
        Map<String, SafeTensors.Entry> out = new LinkedHashMap<>();
        Sequential net = field.net();
        for (int i = 0; i < net.size(); i++) {
            Layer layer = net.get(i);
            if (p.count(i) == 0) continue;
            double[] v = p.layerValues(i);
            switch (layer) {
                case Linear l -> {
                    int w = l.outFeatures() * l.inFeatures();
                    out.put(i + ".weight", new SafeTensors.Entry(dt, new long[] {l.outFeatures(), l.inFeatures()},
                            Arrays.copyOfRange(v, 0, w)));
                    if (l.bias()) out.put(i + ".bias", new SafeTensors.Entry(dt, new long[] {l.outFeatures()},
                            Arrays.copyOfRange(v, w, v.length)));
                }
                case GalLinear g -> {
                    int w = g.nBasis() * g.outFeatures() * g.inFeatures();
                    out.put(i + ".coeffs_weight", new SafeTensors.Entry(dt,
                            new long[] {g.nBasis(), g.outFeatures(), g.inFeatures()}, Arrays.copyOfRange(v, 0, w)));
                    if (g.bias()) out.put(i + ".coeffs_bias", new SafeTensors.Entry(dt,
                            new long[] {g.nBasis(), g.outFeatures()}, Arrays.copyOfRange(v, w, v.length)));
                }
                default -> throw new IllegalStateException("layer " + i + " (" + layer + ") has parameters jdyn cannot name");
            }
        }
        return out;
    }

    /** The metadata stored in a checkpoint (the caller's and the architecture). */
    public static Map<String, String> metadata(Path path) throws IOException {
        return SafeTensors.read(resolve(path)).metadata();
    }

    /**
     * Rebuilds the field a checkpoint holds, with its saved parameter values (bit-identical). The
     * caller owns (closes) it. A malformed checkpoint gives a {@link FormatException} naming the problem.
     */
    public static NeuralField load(Path path) throws IOException {
        Path file = resolve(path);
        SafeTensors.Contents c = SafeTensors.read(file);
        String json = c.metadata().get(ARCHITECTURE_KEY);
        if (json == null) throw new FormatException(file, "has no " + ARCHITECTURE_KEY + " metadata: not a jdyn checkpoint");
        Architecture a = Architecture.fromJson(file, json);
        String dt = a.dtype() == DType.FLOAT32 ? "F32" : "F64";
        NeuralField field = NeuralField.of(a.net(), a.dim(), a.dtype(), 0L);
        try {
            Parameters p = field.parameters();
            int used = 0;
            for (int i = 0; i < a.net().size(); i++) {
                Layer layer = a.net().get(i);
                if (p.count(i) == 0) continue;
                double[] v;
                switch (layer) {
                    case Linear l -> {
                        double[] w = take(file, c, i + ".weight", dt, l.outFeatures(), l.inFeatures());
                        double[] b = l.bias() ? take(file, c, i + ".bias", dt, l.outFeatures()) : new double[0];
                        v = concat(w, b);
                        used += l.bias() ? 2 : 1;
                    }
                    case GalLinear g -> {
                        double[] w = take(file, c, i + ".coeffs_weight", dt, g.nBasis(), g.outFeatures(), g.inFeatures());
                        double[] b = g.bias() ? take(file, c, i + ".coeffs_bias", dt, g.nBasis(), g.outFeatures()) : new double[0];
                        v = concat(w, b);
                        used += g.bias() ? 2 : 1;
                    }
                    default -> throw new FormatException(file, "layer " + i + " (" + layer + ") has parameters jdyn cannot name");
                }
                if (v.length != p.count(i)) {
                    throw new FormatException(file, "layer " + i + " needs " + p.count(i) + " parameters, the file gives " + v.length);
                }
                p.setLayerValues(i, v);
            }
            if (used != c.tensors().size()) {
                for (String name : c.tensors().keySet()) {
                    if (!expected(a.net(), name)) {
                        throw new FormatException(file, "holds tensor \"" + name + "\" that the architecture has no place for");
                    }
                }
            }
            return field;
        } catch (IOException | RuntimeException | Error e) {
            field.close();
            throw e;
        }
    }

    private static boolean expected(Sequential net, String name) {
        int dot = name.indexOf('.');
        if (dot < 0) return false;
        int i;
        try {
            i = Integer.parseInt(name.substring(0, dot));
        } catch (NumberFormatException e) {
            return false;
        }
        if (i < 0 || i >= net.size()) return false;
        String rest = name.substring(dot + 1);
        return switch (net.get(i)) {
            case Linear l -> rest.equals("weight") || (l.bias() && rest.equals("bias"));
            case GalLinear g -> rest.equals("coeffs_weight") || (g.bias() && rest.equals("coeffs_bias"));
            default -> false;
        };
    }

    private static double[] take(Path file, SafeTensors.Contents c, String name, String dtype, long... shape)
            throws FormatException {
        SafeTensors.Entry e = c.tensors().get(name);
        if (e == null) throw new FormatException(file, "is missing tensor \"" + name + "\"");
        if (!e.dtype().equals(dtype)) {
            throw new FormatException(file, "tensor \"" + name + "\" is " + e.dtype() + " but the architecture's dtype needs " + dtype);
        }
        if (!Arrays.equals(e.shape(), shape)) {
            throw new FormatException(file, "tensor \"" + name + "\" has shape " + Arrays.toString(e.shape())
                    + " but the architecture needs " + Arrays.toString(shape));
        }
        return e.values();
    }

    private static double[] concat(double[] a, double[] b) {
        double[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
