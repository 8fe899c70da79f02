package io.jdyn.bench;

import io.jdyn.Tensor;
import io.jdyn.nn.NeuralField;
import io.jdyn.ode.GradOptions;
import io.jdyn.ode.GradSolution;
import io.jdyn.ode.Gradients;
import io.jdyn.ode.Odeint;
import io.jdyn.ode.SolveOptions;

/**
 * One gradient step of the moons loss for a field: zero the gradients, solve with gradients over
 * [0, 1], the cross-entropy of the final state and its gradient (in Java), one backward pass
 * (dL/dtheta lands in the field's parameters().grad()). With an {@link Adam} it is a training step.
 */
final class GradStep implements AutoCloseable {
    /** What one step gave: the loss before the update, the accuracy, the counts, the tape's bytes. */
    record Result(double loss, double accuracy, long forwardNfe, long forwardSteps, long backwardNfe,
            long backwardSteps, long tapeBytes) {}

    private final NeuralField field;
    private final MoonsWorkload data;
    private final Tensor y0;
    private final double[] t;
    private final SolveOptions solve;
    private final GradOptions grad;

    GradStep(NeuralField field, MoonsWorkload data, double[] t, SolveOptions solve, GradOptions grad) {
        this.field = field;
        this.data = data;
        this.y0 = data.y0(field.dtype());
        this.t = t.clone();
        this.solve = solve;
        this.grad = grad;
    }

    GradStep(NeuralField field, MoonsWorkload data, SolveOptions solve, GradOptions grad) {
        this(field, data, MoonsWorkload.T, solve, grad);
    }

    /** Forward and backward: dL/dtheta in field.parameters().grad() (zeroed first). */
    Result run() {
        field.parameters().zeroGrad();
        try (GradSolution s = Odeint.odeint(field, y0, t, solve, grad)) {
            int perState = Math.toIntExact(y0.numel());
            double[] y1 = MoonsWorkload.finalState(s.ys().toDoubleArray(), perState);
            MoonsWorkload.Loss loss = data.crossEntropy(y1);
            double[] cot = new double[Math.toIntExact(s.ys().numel())];
            System.arraycopy(loss.grad(), 0, cot, cot.length - perState, perState);
            try (Tensor cotangent = Tensor.of(field.dtype(), cot, s.ys().shape())) {
                Gradients g = s.backward(cotangent);
                return new Result(loss.value(), loss.accuracy(), s.stats().nfe(),
                        s.stats().accepted() + s.stats().rejected(), g.backwardStats().nfe(),
                        g.backwardStats().accepted() + g.backwardStats().rejected(), s.tapeBytes());
            }
        }
    }

    /** A training step: run() then one Adam update. */
    Result train(Adam adam) {
        Result r = run();
        adam.step();
        return r;
    }

    @Override
    public void close() {
        y0.close();
    }
}
