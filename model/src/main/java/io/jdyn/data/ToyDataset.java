package io.jdyn.data;

import io.jdyn.DType;
import java.util.Locale;
import java.util.Objects;
import java.util.SplittableRandom;

/**
 * The toy classification data sets of torchdyn's {@code ToyDataset.generate}
 * (torchdyn/datasets/static_datasets.py), with the same geometry, parameters and defaults, drawn from
 * a seeded {@link SplittableRandom} (so reproducible from the seed, but not the same numbers as NumPy
 * or PyTorch). Samples come in class order (not shuffled); use {@link Dataset#batches} to shuffle.
 */
public final class ToyDataset {
    private ToyDataset() {}

    /**
     * {@code ToyDataset().generate(n_samples, dataset_type)} with torchdyn's defaults for the other
     * arguments: "moons" (noise 1e-4), "spirals" (noise 1e-4), "gaussians" (7 gaussians, dim 2,
     * radius 0.5, std 0.1, noise 1e-3), "gaussians_spiral" (7 gaussians, 4 per loop, dim 2, radius 1
     * to 0.2, std 0.3 to 0.1, noise 1e-3), "spheres" (noise 1e-4, dim 3, radii 0.5 and 1); and
     * FFJORD's density "8gaussians" ({@link #eightGaussians}).
     */
    public static Dataset generate(String datasetType, int nSamples, long seed, DType dtype) {
        Objects.requireNonNull(datasetType, "datasetType");
        return switch (datasetType.toLowerCase(Locale.ROOT)) {
            case "moons" -> moons(nSamples, 1e-4, seed, dtype);
            case "spirals" -> spirals(nSamples, 1e-4, seed, dtype);
            case "gaussians" -> gaussians(nSamples, 7, 2, 0.5, 0.1, 1e-3, seed, dtype);
            case "gaussians_spiral" -> gaussiansSpiral(nSamples, 7, 4, 2, 1.0, 0.2, 0.3, 0.1, 1e-3, seed, dtype);
            case "spheres" -> spheres(nSamples, 1e-4, 3, 0.5, 1.0, seed, dtype);
            case "8gaussians" -> eightGaussians(nSamples, seed, dtype);
            case "pinwheel" -> pinwheel(nSamples, seed, dtype);
            default -> throw new IllegalArgumentException("unknown dataset type \"" + datasetType
                    + "\" (moons, spirals, gaussians, gaussians_spiral, spheres, 8gaussians, pinwheel)");
        };
    }

    /**
     * FFJORD's "8gaussians" density (lib/toy_data.py): a point is N(0, 0.5^2 I) plus one of the centres
     * 4 (+-1, 0), 4 (0, +-1), 4 (+-1/sqrt 2, +-1/sqrt 2), chosen uniformly, the whole divided by 1.414, so
     * each component has standard deviation 0.5 / 1.414 around a centre at radius 4 / 1.414. D = 2; the
     * label is the centre's index (in FFJORD's order). nSamples points, in draw order.
     */
    public static Dataset eightGaussians(int nSamples, long seed, DType dtype) {
        positive(nSamples, "nSamples");
        double h = 1 / Math.sqrt(2);
        double[][] centres = {{1, 0}, {-1, 0}, {0, 1}, {0, -1}, {h, h}, {h, -h}, {-h, h}, {-h, -h}};
        double[] x = new double[2 * nSamples];
        int[] y = new int[nSamples];
        SplittableRandom r = new SplittableRandom(seed);
        for (int i = 0; i < nSamples; i++) {
            double px = 0.5 * r.nextGaussian(), py = 0.5 * r.nextGaussian();
            int c = r.nextInt(8);
            x[2 * i] = (px + 4 * centres[c][0]) / 1.414;
            x[2 * i + 1] = (py + 4 * centres[c][1]) / 1.414;
            y[i] = c;
        }
        return new Dataset(x, nSamples, 2, y, dtype);
    }

    /**
     * FFJORD's "pinwheel" density (lib/toy_data.py, after Johnson et al.'s SVAE): 5 arms; a point of arm k
     * is f = (1 + 0.3 a, 0.1 b) with a, b ~ N(0, 1), rotated by 2 pi k / 5 + 0.25 e^(f_0), times 2. D = 2;
     * the label is the arm. nSamples points (rounded down to a multiple of 5, as FFJORD's), in draw order.
     */
    public static Dataset pinwheel(int nSamples, long seed, DType dtype) {
        positive(nSamples, "nSamples");
        int perArm = nSamples / 5;
        if (perArm < 1) throw new IllegalArgumentException("pinwheel needs nSamples >= 5 (5 arms), got " + nSamples);
        int n = 5 * perArm;
        double[] x = new double[2 * n];
        int[] y = new int[n];
        SplittableRandom r = new SplittableRandom(seed);
        for (int i = 0; i < n; i++) {
            int arm = i % 5;
            double f0 = 1 + 0.3 * r.nextGaussian(), f1 = 0.1 * r.nextGaussian();
            double angle = 2 * Math.PI * arm / 5 + 0.25 * Math.exp(f0);
            double c = Math.cos(angle), sn = Math.sin(angle);
            // FFJORD's einsum("ti,tij->tj") with rotation [[c, -s], [s, c]]: row vector times the matrix.
            x[2 * i] = 2 * (f0 * c + f1 * sn);
            x[2 * i + 1] = 2 * (-f0 * sn + f1 * c);
            y[i] = arm;
        }
        return new Dataset(x, n, 2, y, dtype);
    }

    /**
     * Two interleaving half circles, as scikit-learn's {@code make_moons}: nSamples / 2 (rounded down)
     * points of class 0 evenly spaced on the upper arc (cos s, sin s), s in [0, pi], and the rest of
     * class 1 on the lower arc (1 - cos s, 0.5 - sin s), plus Gaussian noise of standard deviation
     * noise on every coordinate. D = 2.
     */
    public static Dataset moons(int nSamples, double noise, long seed, DType dtype) {
        positive(nSamples, "nSamples");
        nonNegative(noise, "noise");
        int nOut = nSamples / 2, nIn = nSamples - nOut;
        double[] x = new double[2 * nSamples];
        int[] y = new int[nSamples];
        for (int i = 0; i < nOut; i++) {
            double s = linspace(0, Math.PI, nOut, i);
            x[2 * i] = Math.cos(s);
            x[2 * i + 1] = Math.sin(s);
        }
        for (int i = 0; i < nIn; i++) {
            double s = linspace(0, Math.PI, nIn, i);
            x[2 * (nOut + i)] = 1 - Math.cos(s);
            x[2 * (nOut + i) + 1] = 1 - Math.sin(s) - 0.5;
            y[nOut + i] = 1;
        }
        if (noise > 0) {
            SplittableRandom r = new SplittableRandom(seed);
            for (int i = 0; i < x.length; i++) x[i] += noise * r.nextGaussian();
        }
        return new Dataset(x, nSamples, 2, y, dtype);
    }

    /**
     * Two interleaved spirals, torchdyn's {@code generate_spirals}: nSamples points of class 0 at angle
     * n = sqrt(u) * 780 degrees (u uniform in [0, 1)), (-n cos n, n sin n) plus uniform noise in
     * [0, noise) per coordinate, and their mirror images (x to -x) as class 1: 2 * nSamples in all. D = 2.
     */
    public static Dataset spirals(int nSamples, double noise, long seed, DType dtype) {
        positive(nSamples, "nSamples");
        nonNegative(noise, "noise");
        int total = Math.multiplyExact(nSamples, 2);
        double[] x = new double[2 * total];
        int[] y = new int[total];
        SplittableRandom r = new SplittableRandom(seed);
        double[] n = new double[nSamples];
        for (int i = 0; i < nSamples; i++) n[i] = Math.sqrt(r.nextDouble()) * 780 * (2 * Math.PI) / 360;
        double[] ux = new double[nSamples], uy = new double[nSamples];
        for (int i = 0; i < nSamples; i++) ux[i] = r.nextDouble() * noise;
        for (int i = 0; i < nSamples; i++) uy[i] = r.nextDouble() * noise;
        for (int i = 0; i < nSamples; i++) {
            double dx = -Math.cos(n[i]) * n[i] + ux[i];
            double dy = Math.sin(n[i]) * n[i] + uy[i];
            x[2 * i] = dx;
            x[2 * i + 1] = dy;
            x[2 * (nSamples + i)] = -dx;
            x[2 * (nSamples + i) + 1] = -dy;
            y[nSamples + i] = 1;
        }
        return new Dataset(x, total, 2, y, dtype);
    }

    /**
     * nGaussians Gaussian blobs on a ring, torchdyn's {@code generate_gaussians}: blob i (label i,
     * nSamples points) is centred at radius (cos a_i, sin a_i, 0, ...) with a_i = 2 pi (i + 1) / nGaussians,
     * standard deviation stdGaussians per coordinate, plus one offset of standard deviation noise drawn
     * per blob. nSamples * nGaussians points of dimension dim (>= 2). (torchdyn drops the radius of the
     * second coordinate when dim > 2; here the centres lie on the ring for every dim.)
     */
    public static Dataset gaussians(int nSamples, int nGaussians, int dim, double radius, double stdGaussians,
            double noise, long seed, DType dtype) {
        positive(nGaussians, "nGaussians");
        double[] radii = new double[nGaussians], stds = new double[nGaussians];
        java.util.Arrays.fill(radii, radius);
        java.util.Arrays.fill(stds, stdGaussians);
        return blobs(nSamples, nGaussians, nGaussians, dim, radii, stds, noise, seed, dtype);
    }

    /**
     * nGaussians Gaussian blobs on a spiral, torchdyn's {@code generate_gaussians_spiral}: blob i (label
     * i, nSamples points) at angle 2 pi (i + 1) / nGaussiansPerLoop, its radius and standard deviation
     * linearly interpolated from radiusStart to radiusEnd and stdStart to stdEnd over the blobs, plus a
     * per-blob offset of standard deviation noise. nSamples * nGaussians points of dimension dim (>= 2).
     */
    public static Dataset gaussiansSpiral(int nSamples, int nGaussians, int nGaussiansPerLoop, int dim, double radiusStart,
            double radiusEnd, double stdStart, double stdEnd, double noise, long seed, DType dtype) {
        positive(nGaussians, "nGaussians");
        positive(nGaussiansPerLoop, "nGaussiansPerLoop");
        double[] radii = new double[nGaussians], stds = new double[nGaussians];
        for (int i = 0; i < nGaussians; i++) {
            radii[i] = linspace(radiusStart, radiusEnd, nGaussians, i);
            stds[i] = linspace(stdStart, stdEnd, nGaussians, i);
        }
        return blobs(nSamples, nGaussians, nGaussiansPerLoop, dim, radii, stds, noise, seed, dtype);
    }

    private static Dataset blobs(int nSamples, int nGaussians, int perLoop, int dim, double[] radii, double[] stds,
            double noise, long seed, DType dtype) {
        positive(nSamples, "nSamples");
        if (dim < 2) throw new IllegalArgumentException("dim must be >= 2, got " + dim);
        nonNegative(noise, "noise");
        for (double s : stds) nonNegative(s, "standard deviation");
        int total = Math.multiplyExact(nSamples, nGaussians);
        double[] x = new double[Math.multiplyExact(total, dim)];
        int[] y = new int[total];
        SplittableRandom r = new SplittableRandom(seed);
        for (int g = 0; g < nGaussians; g++) {
            double a = 2 * Math.PI * (g + 1) / perLoop;
            double[] centre = new double[dim];
            centre[0] = radii[g] * Math.cos(a);
            centre[1] = radii[g] * Math.sin(a);
            for (int i = 0; i < nSamples; i++) {
                int row = g * nSamples + i;
                for (int d = 0; d < dim; d++) x[row * dim + d] = centre[d] + stds[g] * r.nextGaussian();
                y[row] = g;
            }
            for (int d = 0; d < dim; d++) {
                double off = r.nextGaussian() * noise;
                for (int i = 0; i < nSamples; i++) x[(g * nSamples + i) * dim + d] += off;
            }
        }
        return new Dataset(x, total, dim, y, dtype);
    }

    /**
     * Two concentric spheres, torchdyn's {@code generate_concentric_spheres}: nSamples / 2 (rounded
     * down) points uniform on the sphere of innerRadius in dim dimensions (label 1), the rest on the
     * sphere of outerRadius (label 0), plus Gaussian noise of standard deviation noise per coordinate.
     */
    public static Dataset spheres(int nSamples, double noise, int dim, double innerRadius, double outerRadius, long seed,
            DType dtype) {
        positive(nSamples, "nSamples");
        positive(dim, "dim");
        nonNegative(noise, "noise");
        if (!(innerRadius > 0) || !(outerRadius > 0)) {
            throw new IllegalArgumentException("radii must be > 0, got " + innerRadius + " and " + outerRadius);
        }
        int nIn = nSamples / 2;
        double[] x = new double[Math.multiplyExact(nSamples, dim)];
        int[] y = new int[nSamples];
        SplittableRandom r = new SplittableRandom(seed);
        for (int i = 0; i < nSamples; i++) {
            double radius = i < nIn ? innerRadius : outerRadius;
            y[i] = i < nIn ? 1 : 0;
            double norm;
            do {
                norm = 0;
                for (int d = 0; d < dim; d++) {
                    double v = r.nextGaussian();
                    x[i * dim + d] = v;
                    norm += v * v;
                }
            } while (norm == 0);
            double scale = radius / Math.sqrt(norm);
            for (int d = 0; d < dim; d++) x[i * dim + d] *= scale;
        }
        if (noise > 0) for (int i = 0; i < x.length; i++) x[i] += noise * r.nextGaussian();
        return new Dataset(x, nSamples, dim, y, dtype);
    }

    /** NumPy's linspace(a, b, n)[i]. */
    private static double linspace(double a, double b, int n, int i) {
        if (n == 1) return a;
        return i == n - 1 ? b : a + (b - a) * i / (n - 1);
    }

    private static void positive(int v, String name) {
        if (v < 1) throw new IllegalArgumentException(name + " must be >= 1, got " + v);
    }

    private static void nonNegative(double v, String name) {
        if (!(v >= 0) || !Double.isFinite(v)) throw new IllegalArgumentException(name + " must be finite and >= 0, got " + v);
    }
}
