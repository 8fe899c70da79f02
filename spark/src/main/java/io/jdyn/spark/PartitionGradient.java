package io.jdyn.spark;

import io.jdyn.Tensor;
import io.jdyn.models.NeuralODE;
import io.jdyn.train.loss.LossValue;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

/**
 * The task side of a training round: one partition's summed loss, and its share of the mean loss's
 * gradient, at the broadcast parameters, computed natively by the executor's cached copy of the model
 * (one solve and one backward pass per batch of at most {@code maxBatch} samples; 0 means the whole
 * partition in one). The backward pass gets the cotangent of the whole data's mean loss (the summed
 * loss's cotangent times {@code scale} = 1 / units of all the data), as a single process would give
 * it: an adjoint's backward solve controls its error in absolute terms too, so a cotangent N times
 * larger would take other steps and give another gradient.
 */
final class PartitionGradient {
    private PartitionGradient() {}

    static PartialSum compute(int partition, Iterator<Sample> rows, ModelSpec spec, double[] params, SampleLoss loss,
            int maxBatch, double scale) {
        List<Sample> samples = new ArrayList<>();
        int dim = spec.dim();
        while (rows.hasNext()) {
            Sample s = rows.next();
            String where = "sample " + samples.size() + " of partition " + partition;
            if (s == null) throw new IllegalArgumentException(where + " is null");
            if (s.featuresRef().length != dim) {
                throw new IllegalArgumentException(where + " has " + s.featuresRef().length
                        + " features, but the model's state has width " + dim);
            }
            loss.check(s, dim, where);
            samples.add(s);
        }
        if (samples.isEmpty()) return PartialSum.empty();
        if (params.length != spec.numParams()) {
            throw new IllegalStateException("broadcast " + params.length + " parameters to a model with " + spec.numParams());
        }
        ModelSpec.Built built = ExecutorModels.borrow(spec.id(), spec::build);
        try {
            long start = System.nanoTime();
            NeuralODE model = built.model();
            model.parameters().values().nativeBuffer().copyFrom(params, 0, 0, params.length);
            model.zeroGrad();
            int step = maxBatch > 0 ? maxBatch : samples.size();
            double sum = 0;
            for (int from = 0; from < samples.size(); from += step) {
                sum += batch(model, samples.subList(from, Math.min(samples.size(), from + step)), loss, dim, scale);
            }
            double[] grad = model.grad();
            long nanos = System.nanoTime() - start;
            ExecutorModels.release(spec.id(), built);
            return PartialSum.of(sum, grad, samples.size(), nanos);
        } catch (RuntimeException | Error e) {
            ExecutorModels.discard(built);
            throw e;
        }
    }

    /** One solve and backward pass over batch: returns the summed loss, accumulates scale times its gradient in the model. */
    private static double batch(NeuralODE model, List<Sample> batch, SampleLoss loss, int dim, double scale) {
        double[] x = new double[batch.size() * dim];
        for (int i = 0; i < batch.size(); i++) System.arraycopy(batch.get(i).featuresRef(), 0, x, i * dim, dim);
        try (Tensor in = Tensor.of(model.dtype(), x, batch.size(), dim);
             NeuralODE.Trace trace = model.trace(in);
             LossValue l = loss.sum(trace.output(), batch);
             Tensor cotangent = scaled(l.grad(), scale)) {
            trace.backward(cotangent).close(); // dL/dx is not needed; dL/dtheta accumulates in the model
            return l.value();
        }
    }

    private static Tensor scaled(Tensor t, double scale) {
        double[] v = t.toDoubleArray();
        for (int i = 0; i < v.length; i++) v[i] *= scale;
        return Tensor.of(t.dtype(), v, t.shape());
    }
}
