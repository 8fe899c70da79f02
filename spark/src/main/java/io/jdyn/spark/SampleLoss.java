package io.jdyn.spark;

import io.jdyn.Tensor;
import io.jdyn.train.loss.CrossEntropyLoss;
import io.jdyn.train.loss.LossValue;
import io.jdyn.train.loss.MSELoss;
import io.jdyn.train.loss.Reduction;
import java.util.List;

/**
 * A loss on the NeuralODE's final state that splits over samples, so that partitions can sum it and the
 * driver can divide: each partition computes the loss with {@link Reduction#SUM} (and its gradient), and
 * the driver divides the summed loss and gradient by {@link #units(long, int)}, which gives what the
 * single-process loss with {@link Reduction#MEAN} gives on the whole data.
 */
public enum SampleLoss {
    /** torch.nn.MSELoss: the mean over every element of (final state - target)^2; targets as wide as the state. */
    MSE {
        @Override
        LossValue sum(Tensor output, List<Sample> batch) {
            int d = (int) output.size(1);
            double[] t = new double[batch.size() * d];
            for (int i = 0; i < batch.size(); i++) System.arraycopy(batch.get(i).targetRef(), 0, t, i * d, d);
            try (Tensor target = Tensor.of(output.dtype(), t, output.shape())) {
                return new MSELoss(Reduction.SUM).compute(output, target);
            }
        }

        @Override
        void check(Sample s, int dim, String where) {
            if (s.targetRef().length != dim) {
                throw new IllegalArgumentException(where + " has a target of width " + s.targetRef().length
                        + ", but MSE needs one as wide as the model's state (" + dim + ")");
            }
        }

        @Override
        public long units(long samples, int dim) {
            return samples * dim;
        }
    },
    /** torch.nn.CrossEntropyLoss on the final state as logits: the mean over samples; a target is one class index. */
    CROSS_ENTROPY {
        @Override
        LossValue sum(Tensor output, List<Sample> batch) {
            int[] labels = new int[batch.size()];
            for (int i = 0; i < labels.length; i++) labels[i] = (int) batch.get(i).targetRef()[0];
            return new CrossEntropyLoss(Reduction.SUM).compute(output, labels);
        }

        @Override
        void check(Sample s, int dim, String where) {
            double[] t = s.targetRef();
            if (t.length != 1 || t[0] != Math.rint(t[0]) || t[0] < 0 || t[0] >= dim) {
                throw new IllegalArgumentException(where + " has target " + java.util.Arrays.toString(t)
                        + ", but CROSS_ENTROPY needs one class index in [0, " + dim + ")");
            }
        }

        @Override
        public long units(long samples, int dim) {
            return samples;
        }
    };

    /** The summed loss of a batch's final states [n, dim] and its gradient with respect to them. */
    abstract LossValue sum(Tensor output, List<Sample> batch);

    /** Refuses a sample whose target does not fit this loss, naming where it is. */
    abstract void check(Sample s, int dim, String where);

    /** What the summed loss is divided by to give the mean loss: samples, or samples times the state width. */
    public abstract long units(long samples, int dim);
}
