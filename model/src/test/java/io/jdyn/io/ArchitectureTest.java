package io.jdyn.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jdyn.DType;
import io.jdyn.nn.Augmenter;
import io.jdyn.nn.Basis;
import io.jdyn.nn.DepthCat;
import io.jdyn.nn.ELU;
import io.jdyn.nn.GalLinear;
import io.jdyn.nn.Linear;
import io.jdyn.nn.ReLU;
import io.jdyn.nn.Sequential;
import io.jdyn.nn.SiLU;
import io.jdyn.nn.Sigmoid;
import io.jdyn.nn.Sin;
import io.jdyn.nn.Softplus;
import io.jdyn.nn.Tanh;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class ArchitectureTest {
    private static final Path F = Path.of("ckpt.safetensors");

    @Test
    void everyLayerRoundTrips() throws Exception {
        Sequential net = Sequential.of(new Augmenter(2), new DepthCat(), new Linear(5, 7), new Tanh(), new ReLU(),
                new Softplus(0.3, 11.5), new Sigmoid(), new Sin(), new ELU(0.1), new SiLU(),
                new GalLinear(7, 4, Basis.fourier(0.7), 3, false), new GalLinear(4, 3, Basis.polynomial(), 2),
                new Linear(3, 2, false));
        Architecture a = new Architecture(net, 2, DType.FLOAT32);
        String json = a.toJson();
        assertEquals(a, Architecture.fromJson(F, json));
        assertTrue(json.startsWith("{\"format\":\"jdyn.neural_field\",\"version\":1,\"dim\":2,\"dtype\":\"float32\",\"layers\":["
                + "{\"type\":\"Augmenter\",\"augment_dims\":2},{\"type\":\"DepthCat\"},"
                + "{\"type\":\"Linear\",\"in_features\":5,\"out_features\":7,\"bias\":true}"), json);
    }

    @Test
    void badArchitecturesAreNamed() {
        String ok = new Architecture(Sequential.of(new Linear(2, 2)), 2, DType.FLOAT64).toJson();
        assertTrue(assertThrows(FormatException.class, () -> Architecture.fromJson(F, ok.replace("Linear", "Conv2d")))
                .getMessage().contains("layer 0 has unknown type Conv2d"));
        assertTrue(assertThrows(FormatException.class, () -> Architecture.fromJson(F, ok.replace("\"dim\":2", "\"dim\":3")))
                .getMessage().contains("inconsistent"));
        assertTrue(assertThrows(FormatException.class, () -> Architecture.fromJson(F, ok.replace("float64", "int8")))
                .getMessage().contains("dtype"));
        assertTrue(assertThrows(FormatException.class, () -> Architecture.fromJson(F, "{oops")).getMessage()
                .contains("not valid JSON"));
    }
}
