package io.jdyn.nn;

import io.jdyn.spi.LayerSpec;

/** Internal: layer widths, argument checks, and the translation of a layer into its native spec. */
final class Widths {
    private Widths() {}

    static void positive(int v, String name) {
        if (v < 1) throw new IllegalArgumentException(name + " must be >= 1, got " + v);
    }

    static String py(boolean b) {
        return b ? "True" : "False";
    }

    /** The width after layer number index, given the width before it; throws naming the layer. */
    static int outWidth(Layer layer, int in, int index) {
        return switch (layer) {
            case Linear l -> {
                expect(l.inFeatures(), in, index, l);
                yield l.outFeatures();
            }
            case GalLinear g -> {
                expect(g.inFeatures(), in, index, g);
                yield g.outFeatures();
            }
            case DepthCat d -> Math.addExact(in, 1);
            case Augmenter a -> Math.addExact(in, a.augmentDims());
            case Tanh x -> in;
            case ReLU x -> in;
            case Softplus x -> in;
            case Sigmoid x -> in;
            case Sin x -> in;
            case ELU x -> in;
            case SiLU x -> in;
        };
    }

    private static void expect(int declared, int actual, int index, Layer layer) {
        if (declared != actual) {
            throw new IllegalArgumentException("layer " + index + " (" + layer + ") expects " + declared
                    + " input features, but " + (index == 0 ? "the state has width " : "the layers before it give ")
                    + actual);
        }
    }

    /** The native description of a layer. */
    static LayerSpec spec(Layer layer) {
        return switch (layer) {
            case Linear l -> new LayerSpec(LayerSpec.LINEAR, l.outFeatures(), l.bias(), 0, 0, 0, 0);
            case GalLinear g -> new LayerSpec(LayerSpec.GALLINEAR, g.outFeatures(), g.bias(),
                    g.basis().kind() == Basis.Kind.FOURIER ? LayerSpec.BASIS_FOURIER : LayerSpec.BASIS_POLYNOMIAL,
                    g.nBasis(), g.basis().kind() == Basis.Kind.FOURIER ? g.basis().period() : 0, 0);
            case Tanh x -> LayerSpec.of(LayerSpec.TANH);
            case ReLU x -> LayerSpec.of(LayerSpec.RELU);
            case Softplus s -> new LayerSpec(LayerSpec.SOFTPLUS, 0, false, 0, 0, s.beta(), s.threshold());
            case Sigmoid x -> LayerSpec.of(LayerSpec.SIGMOID);
            case Sin x -> LayerSpec.of(LayerSpec.SIN);
            case ELU e -> new LayerSpec(LayerSpec.ELU, 0, false, 0, 0, e.alpha(), 0);
            case SiLU x -> LayerSpec.of(LayerSpec.SILU);
            case DepthCat x -> LayerSpec.of(LayerSpec.DEPTHCAT);
            case Augmenter a -> new LayerSpec(LayerSpec.AUGMENTER, a.augmentDims(), false, 0, 0, 0, 0);
        };
    }
}
