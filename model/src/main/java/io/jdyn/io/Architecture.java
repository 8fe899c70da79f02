package io.jdyn.io;

import io.jdyn.DType;
import io.jdyn.nn.Augmenter;
import io.jdyn.nn.Basis;
import io.jdyn.nn.DepthCat;
import io.jdyn.nn.ELU;
import io.jdyn.nn.GalLinear;
import io.jdyn.nn.Layer;
import io.jdyn.nn.Linear;
import io.jdyn.nn.ReLU;
import io.jdyn.nn.Sequential;
import io.jdyn.nn.SiLU;
import io.jdyn.nn.Sigmoid;
import io.jdyn.nn.Sin;
import io.jdyn.nn.Softplus;
import io.jdyn.nn.Tanh;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Internal: a NeuralField's architecture (state width, dtype, the Sequential's layers with their
 * arguments) as JSON, e.g.
 * {@code {"format":"jdyn.neural_field","version":1,"dim":2,"dtype":"float32","layers":[{"type":"Linear","in_features":2,"out_features":16,"bias":true},{"type":"Tanh"},...]}}.
 */
record Architecture(Sequential net, int dim, DType dtype) {
    static final String FORMAT = "jdyn.neural_field";
    static final long VERSION = 1;

    String toJson() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("format", FORMAT);
        m.put("version", VERSION);
        m.put("dim", (long) dim);
        m.put("dtype", dtype == DType.FLOAT32 ? "float32" : "float64");
        List<Object> layers = new ArrayList<>();
        for (Layer l : net.layers()) layers.add(layer(l));
        m.put("layers", layers);
        return Json.write(m);
    }

    private static Map<String, Object> layer(Layer layer) {
        Map<String, Object> m = new LinkedHashMap<>();
        switch (layer) {
            case Linear l -> {
                m.put("type", "Linear");
                m.put("in_features", (long) l.inFeatures());
                m.put("out_features", (long) l.outFeatures());
                m.put("bias", l.bias());
            }
            case GalLinear g -> {
                m.put("type", "GalLinear");
                m.put("in_features", (long) g.inFeatures());
                m.put("out_features", (long) g.outFeatures());
                m.put("bias", g.bias());
                m.put("basis", g.basis().kind() == Basis.Kind.FOURIER ? "fourier" : "polynomial");
                if (g.basis().kind() == Basis.Kind.FOURIER) m.put("period", g.basis().period());
                m.put("n_basis", (long) g.nBasis());
            }
            case Softplus s -> {
                m.put("type", "Softplus");
                m.put("beta", s.beta());
                m.put("threshold", s.threshold());
            }
            case ELU e -> {
                m.put("type", "ELU");
                m.put("alpha", e.alpha());
            }
            case Augmenter a -> {
                m.put("type", "Augmenter");
                m.put("augment_dims", (long) a.augmentDims());
            }
            case Tanh x -> m.put("type", "Tanh");
            case ReLU x -> m.put("type", "ReLU");
            case Sigmoid x -> m.put("type", "Sigmoid");
            case Sin x -> m.put("type", "Sin");
            case SiLU x -> m.put("type", "SiLU");
            case DepthCat x -> m.put("type", "DepthCat");
        }
        return m;
    }

    static Architecture fromJson(Path file, String json) throws FormatException {
        Object parsed;
        try {
            parsed = Json.parse(json);
        } catch (Json.ParseException e) {
            throw new FormatException(file, "architecture is not valid JSON: " + e.getMessage(), e);
        }
        if (!(parsed instanceof Map<?, ?> m)) throw new FormatException(file, "architecture is not a JSON object");
        if (!FORMAT.equals(m.get("format"))) {
            throw new FormatException(file, "architecture format is " + m.get("format") + ", expected \"" + FORMAT + "\"");
        }
        if (!(m.get("version") instanceof Long v) || v != VERSION) {
            throw new FormatException(file, "architecture version " + m.get("version") + " is not supported (expected " + VERSION + ")");
        }
        int dim = intField(file, m, "dim", "architecture");
        DType dtype = switch (String.valueOf(m.get("dtype"))) {
            case "float32" -> DType.FLOAT32;
            case "float64" -> DType.FLOAT64;
            default -> throw new FormatException(file, "architecture dtype " + m.get("dtype") + " is not float32 or float64");
        };
        if (!(m.get("layers") instanceof List<?> list) || list.isEmpty()) {
            throw new FormatException(file, "architecture has no layers list");
        }
        List<Layer> layers = new ArrayList<>();
        for (int i = 0; i < list.size(); i++) {
            if (!(list.get(i) instanceof Map<?, ?> l)) throw new FormatException(file, "layer " + i + " is not a JSON object");
            String where = "layer " + i;
            try {
                layers.add(switch (String.valueOf(l.get("type"))) {
                    case "Linear" -> new Linear(intField(file, l, "in_features", where), intField(file, l, "out_features", where),
                            boolField(file, l, "bias", where));
                    case "GalLinear" -> {
                        String basis = String.valueOf(l.get("basis"));
                        Basis b = switch (basis) {
                            case "fourier" -> Basis.fourier(doubleField(file, l, "period", where));
                            case "polynomial" -> Basis.polynomial();
                            default -> throw new FormatException(file, where + " has unknown basis " + basis);
                        };
                        yield new GalLinear(intField(file, l, "in_features", where), intField(file, l, "out_features", where), b,
                                intField(file, l, "n_basis", where), boolField(file, l, "bias", where));
                    }
                    case "Softplus" -> new Softplus(doubleField(file, l, "beta", where), doubleField(file, l, "threshold", where));
                    case "ELU" -> new ELU(doubleField(file, l, "alpha", where));
                    case "Augmenter" -> new Augmenter(intField(file, l, "augment_dims", where));
                    case "Tanh" -> new Tanh();
                    case "ReLU" -> new ReLU();
                    case "Sigmoid" -> new Sigmoid();
                    case "Sin" -> new Sin();
                    case "SiLU" -> new SiLU();
                    case "DepthCat" -> new DepthCat();
                    default -> throw new FormatException(file, where + " has unknown type " + l.get("type"));
                });
            } catch (IllegalArgumentException e) {
                throw new FormatException(file, where + " is invalid: " + e.getMessage(), e);
            }
        }
        Sequential net = Sequential.of(layers);
        try {
            int out = net.outFeatures(dim);
            if (out != dim) throw new FormatException(file, "architecture maps width " + dim + " to " + out);
        } catch (IllegalArgumentException e) {
            throw new FormatException(file, "architecture is inconsistent: " + e.getMessage(), e);
        }
        return new Architecture(net, dim, dtype);
    }

    private static int intField(Path file, Map<?, ?> m, String key, String where) throws FormatException {
        if (!(m.get(key) instanceof Long v) || v < 1 || v > Integer.MAX_VALUE) {
            throw new FormatException(file, where + " has invalid " + key + ": " + m.get(key) + " (expected a positive integer)");
        }
        return (int) (long) v;
    }

    private static boolean boolField(Path file, Map<?, ?> m, String key, String where) throws FormatException {
        if (!(m.get(key) instanceof Boolean v)) throw new FormatException(file, where + " has invalid " + key + ": " + m.get(key));
        return v;
    }

    private static double doubleField(Path file, Map<?, ?> m, String key, String where) throws FormatException {
        Object v = m.get(key);
        if (v instanceof Double d) return d;
        if (v instanceof Long l) return l;
        throw new FormatException(file, where + " has invalid " + key + ": " + v + " (expected a number)");
    }
}
