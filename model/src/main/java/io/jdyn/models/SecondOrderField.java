package io.jdyn.models;

import io.jdyn.DType;
import io.jdyn.Tensor;
import io.jdyn.nn.NeuralField;
import io.jdyn.ode.BatchView;
import io.jdyn.ode.DifferentiableVectorField;
import io.jdyn.ode.ParamView;

/**
 * Internal: torchdyn's second-order dynamics over the state z = [x, v] (2d wide): x' = v,
 * v' = a(t, z). The acceleration net maps 2d (+1 with DepthCat) to d; it runs as a native
 * {@link NeuralField} of width 2d whose Sequential ends with {@code Augmenter(d)}, so its output is
 * [a, 0] (a NeuralField must return as many values as it takes). Forward and VJP are upcalls around
 * the program's forward/VJP.
 */
final class SecondOrderField implements DifferentiableVectorField {
    private final NeuralField field;
    private final int d;
    private final DType dtype;

    SecondOrderField(NeuralField field) {
        this.field = field;
        this.d = field.dim() / 2;
        this.dtype = field.dtype();
    }

    @Override
    public int numParams() {
        return Math.toIntExact(field.numParams());
    }

    private Tensor state(BatchView z) {
        double[] in = new double[z.batch() * z.dim()];
        z.copyTo(in);
        return Tensor.of(dtype, in, z.batch(), z.dim());
    }

    @Override
    public void evaluate(double t, BatchView z, BatchView dz) {
        int w = 2 * d;
        try (Tensor zt = state(z); Tensor a = field.forward(t, zt)) {
            double[] zv = zt.toDoubleArray(), av = a.toDoubleArray();
            double[] out = new double[zv.length];
            for (int b = 0; b < z.batch(); b++) {
                System.arraycopy(zv, b * w + d, out, b * w, d);
                System.arraycopy(av, b * w, out, b * w + d, d);
            }
            dz.copyFrom(out);
        }
    }

    @Override
    public double vjp(double t, BatchView z, BatchView v, BatchView gz, ParamView gparams) {
        int w = 2 * d, batch = z.batch();
        double[] vv = new double[batch * w];
        v.copyTo(vv);
        double[] cot = new double[vv.length];
        for (int b = 0; b < batch; b++) System.arraycopy(vv, b * w + d, cot, b * w, d);
        boolean wantParams = gparams.enabled() && field.numParams() > 0;
        try (Tensor zt = state(z); Tensor ct = Tensor.of(dtype, cot, batch, w);
                Tensor g = Tensor.zeros(dtype, batch, w);
                Tensor gp = wantParams ? Tensor.zeros(dtype, field.numParams()) : null) {
            double gt = field.program().vjp(field.paramsBuffer(), t, zt.nativeBuffer(), ct.nativeBuffer(), batch,
                    g.nativeBuffer(), gp == null ? null : gp.nativeBuffer());
            double[] gv = g.toDoubleArray();
            // x' = v: the cotangent of x' flows to v.
            for (int b = 0; b < batch; b++) {
                for (int j = 0; j < d; j++) gv[b * w + d + j] += vv[b * w + j];
            }
            gz.copyFrom(gv);
            if (gp != null) {
                double[] p = gp.toDoubleArray();
                for (int i = 0; i < p.length; i++) if (p[i] != 0) gparams.add(i, p[i]);
            }
            return gt;
        }
    }
}
