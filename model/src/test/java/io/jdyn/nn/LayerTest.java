package io.jdyn.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class LayerTest {
    @Test
    void printsAsPyTorchAndTorchdyn() {
        assertEquals("Linear(in_features=2, out_features=64, bias=True)", new Linear(2, 64).toString());
        assertEquals("Linear(in_features=3, out_features=1, bias=False)", new Linear(3, 1, false).toString());
        assertEquals("Tanh()", new Tanh().toString());
        assertEquals("ReLU()", new ReLU().toString());
        assertEquals("Sigmoid()", new Sigmoid().toString());
        assertEquals("SiLU()", new SiLU().toString());
        assertEquals("Sin()", new Sin().toString());
        assertEquals("Softplus(beta=1.0, threshold=20.0)", new Softplus().toString());
        assertEquals("Softplus(beta=2.0, threshold=10.0)", new Softplus(2, 10).toString());
        assertEquals("ELU(alpha=1.0)", new ELU().toString());
        assertEquals("ELU(alpha=0.5)", new ELU(0.5).toString());
        assertEquals("DepthCat(idx_cat=1)", new DepthCat().toString());
        assertEquals("Augmenter(augment_idx=1, augment_dims=3, order='last')", new Augmenter(3).toString());
        assertEquals("GalLinear(in_features=2, out_features=8, bias=True, basis=Fourier(period=2.0), n_basis=5)",
                new GalLinear(2, 8, Basis.fourier(2), 5).toString());
        assertEquals("GalLinear(in_features=2, out_features=8, bias=False, basis=Polynomial(), n_basis=3)",
                new GalLinear(2, 8, Basis.polynomial(), 3, false).toString());
        assertEquals("Sequential(\n  (0): Linear(in_features=2, out_features=4, bias=True)\n  (1): Tanh()\n"
                + "  (2): Linear(in_features=4, out_features=2, bias=True)\n)",
                Sequential.of(new Linear(2, 4), new Tanh(), new Linear(4, 2)).toString());
    }

    @Test
    void widthsAreTrackedAndMismatchesNameTheLayer() {
        assertEquals(2, Sequential.of(new DepthCat(), new Linear(3, 8), new Tanh(), new Linear(8, 2)).outFeatures(2));
        assertEquals(5, Sequential.of(new Augmenter(3), new Sin()).outFeatures(2));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Sequential.of(new Linear(2, 8), new Tanh(), new Linear(7, 2)).outFeatures(2));
        assertTrue(e.getMessage().contains("layer 2") && e.getMessage().contains("Linear(in_features=7"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Sequential.of(new Linear(3, 2)).outFeatures(2));
        assertTrue(e.getMessage().contains("layer 0") && e.getMessage().contains("state has width 2"), e.getMessage());
    }

    @Test
    void badSettingsAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> new Linear(0, 2));
        assertThrows(IllegalArgumentException.class, () -> new Augmenter(0));
        assertThrows(IllegalArgumentException.class, () -> new Softplus(0, 20));
        assertThrows(IllegalArgumentException.class, () -> new ELU(Double.NaN));
        assertThrows(IllegalArgumentException.class, () -> Basis.fourier(-1));
        assertThrows(IllegalArgumentException.class, () -> new GalLinear(2, 2, Basis.polynomial(), 0));
        assertThrows(IllegalArgumentException.class, Sequential::of);
    }
}
