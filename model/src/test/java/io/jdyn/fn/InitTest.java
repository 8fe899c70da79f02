package io.jdyn.fn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

/** Init and the Java-side helpers of io.jdyn.fn that need no backend. */
class InitTest {
    @Test
    void torchLinearIsUniformInOneOverRootFanIn() {
        assertEquals(Init.uniform(0.5), Init.torchLinear(4));
        assertEquals(new Init(Init.Kind.CONSTANT, 0), Init.zeros());
        assertEquals(Init.Kind.NORMAL, Init.normal(0.1).kind());
        assertEquals("uniform(0.5)", Init.torchLinear(4).toString());
        assertThrows(IllegalArgumentException.class, () -> Init.torchLinear(0));
        assertThrows(IllegalArgumentException.class, () -> Init.uniform(-1));
        assertThrows(IllegalArgumentException.class, () -> Init.normal(Double.NaN));
        assertThrows(IllegalArgumentException.class, () -> Init.constant(Double.POSITIVE_INFINITY));
        assertEquals(-2.0, Init.constant(-2).value());
    }

    @Test
    void pythonStyleDimsAndShapeAttributes() {
        assertEquals(1, Sym.axis("sum", -1, 2));
        assertEquals(0, Sym.axis("sum", -2, 2));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Sym.axis("sum", 2, 2));
        assertEquals("sum: dim 2 is out of range for a tensor of rank 2 (expected [-2, 1])", e.getMessage());
        assertArrayEquals(new long[] {2, -1, 3}, Sym.dims(new long[] {-1, 3}));
        assertArrayEquals(new long[] {0}, Sym.dims(new long[0]));
    }

    @Test
    void paramInfoCopiesItsShape() {
        long[] s = {2, 3};
        ParamInfo p = new ParamInfo("0.weight", s, 0, 6);
        s[0] = 9;
        assertArrayEquals(new long[] {2, 3}, p.shape());
        assertEquals(new ParamInfo("0.weight", new long[] {2, 3}, 0, 6), p);
    }
}
