package io.jdyn.models;

import io.jdyn.nn.Augmenter;
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
import java.util.SplittableRandom;

/**
 * Internal: a Sequential evaluated in Java on double arrays (forward and VJP), for layer stacks that
 * a NeuralField cannot compile (it needs as many outputs as inputs and its inputs must be the wider
 * side). Parameters are one flat array laid out as a NeuralField's (Linear: W [out, in] row-major,
 * then b), initialised as PyTorch does (uniform in +-1/sqrt(fan_in)) from a seed.
 */
final class JavaNet {
    final Sequential net;
    final int in;
    final int out;
    final int[] widths;
    final int[] offsets;
    final double[] params;
    final double[] grad;

    JavaNet(Sequential net, int in, long seed) {
        this.net = net;
        this.in = in;
        this.out = net.outFeatures(in);
        int n = net.size();
        widths = new int[n + 1];
        offsets = new int[n + 1];
        widths[0] = in;
        int p = 0;
        for (int i = 0; i < n; i++) {
            Layer l = net.get(i);
            if (l instanceof GalLinear) {
                throw new IllegalArgumentException("layer " + i + " (" + l + "): GalLinear is supported only inside a"
                        + " vector field (a NeuralField), not in a layer block run in Java");
            }
            widths[i + 1] = width(l, widths[i]);
            offsets[i] = p;
            if (l instanceof Linear lin) p = Math.addExact(p, lin.outFeatures() * lin.inFeatures() + (lin.bias() ? lin.outFeatures() : 0));
        }
        offsets[n] = p;
        params = new double[p];
        grad = new double[p];
        init(seed);
    }

    private static int width(Layer l, int w) {
        return Sequential.of(l).outFeatures(w);
    }

    void init(long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        for (int i = 0; i < net.size(); i++) {
            if (net.get(i) instanceof Linear lin) {
                double bound = 1 / Math.sqrt(lin.inFeatures());
                for (int k = offsets[i]; k < offsets[i + 1]; k++) params[k] = r.nextDouble(-bound, bound);
            }
        }
    }

    /** The activations of every layer: acts[0] = x, acts[n] = the output, each [batch, widths[i]]. */
    double[][] forward(double t, double[] x, int batch) {
        int n = net.size();
        double[][] a = new double[n + 1][];
        a[0] = x;
        for (int i = 0; i < n; i++) a[i + 1] = layer(i, t, a[i], batch);
        return a;
    }

    private double[] layer(int i, double t, double[] x, int batch) {
        Layer l = net.get(i);
        int wi = widths[i], wo = widths[i + 1];
        double[] y = new double[batch * wo];
        switch (l) {
            case Linear lin -> {
                int o = offsets[i], nb = lin.outFeatures() * wi;
                for (int b = 0; b < batch; b++) {
                    for (int r = 0; r < wo; r++) {
                        double u = lin.bias() ? params[o + nb + r] : 0;
                        for (int c = 0; c < wi; c++) u += params[o + r * wi + c] * x[b * wi + c];
                        y[b * wo + r] = u;
                    }
                }
            }
            case Augmenter aug -> {
                for (int b = 0; b < batch; b++) System.arraycopy(x, b * wi, y, b * wo, wi);
            }
            case DepthCat d -> {
                for (int b = 0; b < batch; b++) {
                    System.arraycopy(x, b * wi, y, b * wo, wi);
                    y[b * wo + wi] = t;
                }
            }
            default -> {
                for (int k = 0; k < y.length; k++) y[k] = act(l, x[k]);
            }
        }
        return y;
    }

    private static double act(Layer l, double x) {
        return switch (l) {
            case Tanh a -> Math.tanh(x);
            case ReLU a -> Math.max(x, 0);
            case Sigmoid a -> 1 / (1 + Math.exp(-x));
            case Sin a -> Math.sin(x);
            case SiLU a -> x / (1 + Math.exp(-x));
            case ELU e -> x >= 0 ? x : e.alpha() * Math.expm1(x);
            case Softplus s -> s.beta() * x > s.threshold() ? x : Math.log1p(Math.exp(s.beta() * x)) / s.beta();
            default -> throw new IllegalStateException("not an activation: " + l);
        };
    }

    private static double dact(Layer l, double x) {
        return switch (l) {
            case Tanh a -> {
                double s = Math.tanh(x);
                yield 1 - s * s;
            }
            case ReLU a -> x > 0 ? 1 : 0;
            case Sigmoid a -> {
                double s = 1 / (1 + Math.exp(-x));
                yield s * (1 - s);
            }
            case Sin a -> Math.cos(x);
            case SiLU a -> {
                double s = 1 / (1 + Math.exp(-x));
                yield s * (1 + x * (1 - s));
            }
            case ELU e -> x >= 0 ? 1 : e.alpha() * Math.exp(x);
            case Softplus s -> s.beta() * x > s.threshold() ? 1 : 1 / (1 + Math.exp(-s.beta() * x));
            default -> throw new IllegalStateException("not an activation: " + l);
        };
    }

    /** dL/dx for dL/d(output) = v, given the activations of {@link #forward}; adds dL/dtheta into grad. */
    double[] vjp(double[][] acts, double[] v, int batch) {
        double[] g = v;
        for (int i = net.size() - 1; i >= 0; i--) {
            Layer l = net.get(i);
            int wi = widths[i], wo = widths[i + 1];
            double[] x = acts[i];
            double[] gx = new double[batch * wi];
            switch (l) {
                case Linear lin -> {
                    int o = offsets[i], nb = lin.outFeatures() * wi;
                    for (int b = 0; b < batch; b++) {
                        for (int r = 0; r < wo; r++) {
                            double gr = g[b * wo + r];
                            if (lin.bias()) grad[o + nb + r] += gr;
                            for (int c = 0; c < wi; c++) {
                                grad[o + r * wi + c] += gr * x[b * wi + c];
                                gx[b * wi + c] += params[o + r * wi + c] * gr;
                            }
                        }
                    }
                }
                case Augmenter aug -> {
                    for (int b = 0; b < batch; b++) System.arraycopy(g, b * wo, gx, b * wi, wi);
                }
                case DepthCat d -> {
                    for (int b = 0; b < batch; b++) System.arraycopy(g, b * wo, gx, b * wi, wi);
                }
                default -> {
                    for (int k = 0; k < gx.length; k++) gx[k] = g[k] * dact(l, x[k]);
                }
            }
            g = gx;
        }
        return g;
    }
}
