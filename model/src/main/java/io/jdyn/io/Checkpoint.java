package io.jdyn.io;

import io.jdyn.DType;
import io.jdyn.fn.ParamInfo;
import io.jdyn.nn.GalLinear;
import io.jdyn.nn.Linear;
import io.jdyn.nn.NeuralField;
import io.jdyn.nn.Parameters;
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
 * <p>A field built from an {@link io.jdyn.fn.Fn} saves its parameter tensors by the names the Fn
 * declared (the same state_dict convention), and a description (format {@code "jdyn.fn_field"}: width,
 * dtype, parameter names and shapes) as its architecture; code cannot be rebuilt from a file, so it
 * loads with {@link #load(Path, NeuralField)} into a field built from the same Fn.
 *
 * <p>{@link #save} is atomic: a temporary file in the same directory, forced to disk, then moved
 * over the target, so a crash mid-write leaves the previous checkpoint intact.
 */
public final class Checkpoint {
    /** The metadata key holding the architecture JSON (reserved). */
    public static final String ARCHITECTURE_KEY = "jdyn.architecture";
    /** The architecture format of a field built from an {@link io.jdyn.fn.Fn} (not rebuildable from the file). */
    static final String FN_FORMAT = "jdyn.fn_field";
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
        md.put(ARCHITECTURE_KEY, field.isFn() ? fnArchitecture(field)
                : new Architecture(field.net(), field.dim(), field.dtype()).toJson());
        SafeTensors.write(resolve(path), stateDict(field), md);
    }

    /** Saves without metadata of the caller's. */
    public static void save(Path path, NeuralField field) throws IOException {
        save(path, field, Map.of());
    }

    /**
     * The field's parameters as PyTorch's state_dict would name and shape them, in layout order
     * (values copied out of native memory): a Sequential's by layer index, an Fn's by the names it
     * declared.
     */
    public static Map<String, SafeTensors.Entry> stateDict(NeuralField field) {
        Parameters p = field.parameters();
        String dt = field.dtype() == DType.FLOAT32 ? "F32" : "F64";
        Map<String, SafeTensors.Entry> out = new LinkedHashMap<>();
        for (ParamInfo info : p.infos()) out.put(info.name(), new SafeTensors.Entry(dt, info.shape(), p.get(info.name())));
        return out;
    }

    /** The metadata stored in a checkpoint (the caller's and the architecture). */
    public static Map<String, String> metadata(Path path) throws IOException {
        return SafeTensors.read(resolve(path)).metadata();
    }

    /**
     * Rebuilds the field a checkpoint holds, with its saved parameter values (bit-identical). The
     * caller owns (closes) it. A malformed checkpoint gives a {@link FormatException} naming the problem;
     * so does the checkpoint of a field built from an {@link io.jdyn.fn.Fn} (code cannot be rebuilt from
     * a file: build the field from the same Fn and use {@link #load(Path, NeuralField)}).
     */
    public static NeuralField load(Path path) throws IOException {
        Path file = resolve(path);
        SafeTensors.Contents c = SafeTensors.read(file);
        String json = c.metadata().get(ARCHITECTURE_KEY);
        if (json == null) throw new FormatException(file, "has no " + ARCHITECTURE_KEY + " metadata: not a jdyn checkpoint");
        if (isFnArchitecture(json)) {
            throw new FormatException(file, "holds a field built from an Fn (code, not a list of layers): build the"
                    + " field from the same Fn and load the values into it with Checkpoint.load(path, field)");
        }
        Architecture a = Architecture.fromJson(file, json);
        NeuralField field = NeuralField.of(a.net(), a.dim(), a.dtype(), 0L);
        try {
            fill(file, c, field, "the architecture");
            return field;
        } catch (IOException | RuntimeException | Error e) {
            field.close();
            throw e;
        }
    }

    /**
     * Loads a checkpoint's parameter values into an existing field (bit-identical), by name: every
     * parameter tensor of the field must be in the file with its shape and dtype, and the file must
     * hold nothing else. The way to load the checkpoint of a field built from an
     * {@link io.jdyn.fn.Fn}; works for a Sequential's field too.
     */
    public static void load(Path path, NeuralField field) throws IOException {
        Objects.requireNonNull(field, "field");
        Path file = resolve(path);
        fill(file, SafeTensors.read(file), field, "the field");
    }

    /** Sets every parameter tensor of field from c, checking names, shapes, dtype, and leftovers. */
    private static void fill(Path file, SafeTensors.Contents c, NeuralField field, String who) throws FormatException {
        Parameters p = field.parameters();
        String dt = field.dtype() == DType.FLOAT32 ? "F32" : "F64";
        java.util.Set<String> names = new java.util.HashSet<>();
        java.util.List<double[]> values = new java.util.ArrayList<>();
        for (ParamInfo info : p.infos()) {
            values.add(take(file, c, info.name(), dt, who, info.shape()));
            names.add(info.name());
        }
        for (String name : c.tensors().keySet()) {
            if (!names.contains(name)) throw new FormatException(file, "holds tensor \"" + name + "\" that " + who + " has no place for");
        }
        int i = 0;
        for (ParamInfo info : p.infos()) p.set(info.name(), values.get(i++));
    }

    /** An Fn field's description: enough to check a load against, not to rebuild it. */
    private static String fnArchitecture(NeuralField field) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("format", FN_FORMAT);
        m.put("version", 1L);
        m.put("dim", (long) field.dim());
        m.put("dtype", field.dtype() == DType.FLOAT32 ? "float32" : "float64");
        m.put("fn", String.valueOf(field.fn()));
        java.util.List<Object> params = new java.util.ArrayList<>();
        for (ParamInfo info : field.parameters().infos()) {
            Map<String, Object> q = new LinkedHashMap<>();
            q.put("name", info.name());
            java.util.List<Object> shape = new java.util.ArrayList<>();
            for (long d : info.shape()) shape.add(d);
            q.put("shape", shape);
            params.add(q);
        }
        m.put("params", params);
        return Json.write(m);
    }

    private static boolean isFnArchitecture(String json) {
        try {
            return Json.parse(json) instanceof Map<?, ?> m && FN_FORMAT.equals(m.get("format"));
        } catch (Json.ParseException e) {
            return false;
        }
    }

    private static double[] take(Path file, SafeTensors.Contents c, String name, String dtype, String who, long... shape)
            throws FormatException {
        SafeTensors.Entry e = c.tensors().get(name);
        if (e == null) throw new FormatException(file, "is missing tensor \"" + name + "\"");
        if (!e.dtype().equals(dtype)) {
            throw new FormatException(file, "tensor \"" + name + "\" is " + e.dtype() + " but " + who + "'s dtype needs " + dtype);
        }
        if (!Arrays.equals(e.shape(), shape)) {
            throw new FormatException(file, "tensor \"" + name + "\" has shape " + Arrays.toString(e.shape())
                    + " but " + who + " needs " + Arrays.toString(shape));
        }
        return e.values();
    }
}
