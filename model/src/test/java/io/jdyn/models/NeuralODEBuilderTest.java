package io.jdyn.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.jdyn.DType;
import io.jdyn.nn.Linear;
import io.jdyn.nn.Sequential;
import org.junit.jupiter.api.Test;

/** The builder's argument checks and the summary's number format (no native backend needed). */
class NeuralODEBuilderTest {
    private static final Sequential NET = Sequential.of(new Linear(2, 2));

    @Test
    void builderRefusesBadArguments() {
        assertThrows(IllegalArgumentException.class, () -> NeuralODE.builder(NET, 2).order(3));
        assertThrows(IllegalArgumentException.class, () -> NeuralODE.builder(NET, 2).solver("nope"));
        assertThrows(IllegalArgumentException.class, () -> NeuralODE.builder(NET, 2).sensitivity("nope"));
        assertThrows(IllegalArgumentException.class, () -> NeuralODE.builder(NET, 2).rtol(0));
        assertThrows(IllegalArgumentException.class, () -> NeuralODE.builder(NET, 2).atolAdjoint(Double.NaN));
        assertThrows(IllegalArgumentException.class, () -> NeuralODE.builder(NET, 2).sSpan(0));
        assertThrows(IllegalArgumentException.class, () -> NeuralODE.builder(NET, 3).order(2).build(),
                "order 2 needs an even state width");
        assertThrows(IllegalArgumentException.class, () -> NeuralODE.builder(NET, 2).order(2).build(),
                "order 2 needs a net from [x, v] to the acceleration");
        assertThrows(IllegalArgumentException.class, () -> AugmenterBlock.of(2, 0, DType.FLOAT32));
        assertThrows(IllegalArgumentException.class, () -> AugmenterBlock.of(2, 1, "middle", DType.FLOAT32));
    }

    @Test
    void numbersPrintAsPythonDoes() {
        assertEquals("0.0001", NeuralODE.num(1e-4));
        assertEquals("1e-10", NeuralODE.num(1e-10));
        assertEquals("1.5e-05", NeuralODE.num(1.5e-5));
        assertEquals("1.0", NeuralODE.num(1));
        assertEquals("0.5", NeuralODE.num(0.5));
        assertEquals("2.0", NeuralODE.num(2));
        assertEquals("0.0", NeuralODE.num(0));
    }
}
