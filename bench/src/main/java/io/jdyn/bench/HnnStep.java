package io.jdyn.bench;

import io.jdyn.DType;
import io.jdyn.Tensor;
import io.jdyn.fn.Fn;
import io.jdyn.models.HNN;
import io.jdyn.models.LNN;
import io.jdyn.models.NeuralODE;
import io.jdyn.nn.NeuralField;
import io.jdyn.nn.Linear;
import io.jdyn.nn.Sequential;
import io.jdyn.nn.Softplus;
import io.jdyn.nn.Tanh;
import io.jdyn.train.loss.LossValue;
import io.jdyn.train.loss.MSELoss;
import io.jdyn.train.optim.Adam;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.function.Consumer;

/**
 * hnn-step (and its lines lnn-step, hnn-step-solve): one training step of an HNN, and of an LNN, against a
 * plain Neural ODE of the same hidden width on the same data: 256 mass-spring states (radius 0.5 to 1.5).
 * Nets: plain Linear(2, 64) - Tanh - Linear(64, 2); HNN's H Linear(2, 64) - Tanh - Linear(64, 1); LNN's L
 * Linear(2, 64) - Softplus - Linear(64, 1). float64, Adam lr 1e-3, seed 0, the models stepped interleaved.
 *
 * <ul>
 *   <li>hnn-step, lnn-step: the step of the energy-drift example and torchdyn's HNN tutorial, fitting the
 *       field to the exact derivatives (p, -q): {@code forward; MSELoss; vjp (dL/dtheta); Adam}. The ratio
 *       is the cost of the structured field and its parameter gradient (for HNN a gradient and then a
 *       Hessian-vector product; for LNN n + 1 JVPs of the gradient and a solve per row, and their VJPs).
 *   <li>hnn-step-solve: a trajectory step, {@code trace = model.trace(x); MSELoss to the exact flow over
 *       t = 1; trace.backward; Adam} with rk4 on a fixed grid of 10 steps and the adjoint, so both models
 *       make the same number of evaluations. An LNN is left out here: with an untrained L the mass matrix
 *       d2L/dqdot2 comes near singular at some states and the integrated state leaves every bound (the
 *       SOLVE op then stops the step, naming the row), so there is no step to time.
 * </ul>
 */
final class HnnStep implements Benchmark {
    static final String NAME = "hnn-step";
    static final String LNN_LINE = "lnn-step";
    static final String SOLVE_LINE = "hnn-step-solve";
    static final int BATCH = 256;
    static final int HIDDEN = 64;

    @Override
    public String unit() {
        return "ms";
    }

    /** A trajectory step: solve, MSE at t = 1, adjoint backward, Adam. */
    private static final class SolveStep implements AutoCloseable {
        final NeuralODE model;
        final Adam opt;
        final Tensor x;
        final Tensor y;
        final MSELoss mse = new MSELoss();

        SolveStep(Fn field, Tensor x, Tensor y) {
            this.model = NeuralODE.builder(field, 2).solver("rk4").dt(0.1).sensitivity("adjoint")
                    .dtype(DType.FLOAT64).seed(0).build();
            this.opt = Adam.of(model.parameters(), 1e-3);
            this.x = x;
            this.y = y;
        }

        void step() {
            opt.zeroGrad();
            try (NeuralODE.Trace trace = model.trace(x); LossValue lv = mse.compute(trace.output(), y)) {
                trace.backward(lv.grad());
                opt.step();
            }
        }

        @Override
        public void close() {
            opt.close();
            model.close();
        }
    }

    /** A field-fitting step: the field on the batch, MSE to the derivatives, its VJP to theta, Adam. */
    private static final class FieldStep implements AutoCloseable {
        final NeuralField field;
        final Adam opt;
        final Tensor x;
        final Tensor dx;
        final MSELoss mse = new MSELoss();
        double loss;

        FieldStep(Fn fn, Tensor x, Tensor dx) {
            this.field = NeuralField.of(fn, 2, DType.FLOAT64, 0);
            this.opt = Adam.of(field.parameters(), 1e-3);
            this.x = x;
            this.dx = dx;
        }

        void step() {
            try (Tensor out = field.forward(0, x); LossValue lv = mse.compute(out, dx)) {
                opt.zeroGrad();
                try (NeuralField.Vjp v = field.vjp(0, x, lv.grad())) {
                    opt.step();
                }
                loss = lv.value();
            }
        }

        @Override
        public void close() {
            opt.close();
            field.close();
        }
    }

    @Override
    public void run(Consumer<Json> out) throws Exception {
        SplittableRandom r = new SplittableRandom(0);
        double[] xs = new double[2 * BATCH], ys = new double[2 * BATCH];
        double c = Math.cos(1), s = Math.sin(1);
        for (int i = 0; i < BATCH; i++) {
            double rad = r.nextDouble(0.5, 1.5), phi = r.nextDouble(0, 2 * Math.PI);
            double q = rad * Math.cos(phi), p = rad * Math.sin(phi);
            xs[2 * i] = q;
            xs[2 * i + 1] = p;
            ys[2 * i] = q * c + p * s; // q' = p, p' = -q: a clockwise rotation of (q, p)
            ys[2 * i + 1] = -q * s + p * c;
        }
        double[] dxs = new double[2 * BATCH];
        for (int i = 0; i < BATCH; i++) {
            dxs[2 * i] = xs[2 * i + 1];
            dxs[2 * i + 1] = -xs[2 * i];
        }
        Fn plain = Sequential.of(new Linear(2, HIDDEN), new Tanh(), new Linear(HIDDEN, 2));
        Fn hnn = new HNN(Sequential.of(new Linear(2, HIDDEN), new Tanh(), new Linear(HIDDEN, 1)));
        Fn lnn = new LNN(Sequential.of(new Linear(2, HIDDEN), new Softplus(), new Linear(HIDDEN, 1)));
        String settings = "batch 256 mass-spring states, hidden 64, float64, Adam lr 1e-3, seed 0, interleaved";
        try (Tensor x = Tensor.of(xs, BATCH, 2); Tensor y = Tensor.of(ys, BATCH, 2); Tensor dx = Tensor.of(dxs, BATCH, 2);
                FieldStep fp = new FieldStep(plain, x, dx); FieldStep fh = new FieldStep(hnn, x, dx);
                FieldStep fl = new FieldStep(lnn, x, dx)) {
            Timing.Result[] t = Timing.interleaved(new String[] {"field fit: plain", "field fit: HNN", "field fit: LNN"},
                    50, 200, fp::step, fh::step, fl::step);
            double plainMs = t[0].medianMs(), hnnMs = t[1].medianMs(), lnnMs = t[2].medianMs();
            BenchMain.log(String.format(Locale.ROOT, "  field-fitting step: plain %.3f ms, HNN %.3f ms (x%.2f), LNN %.3f"
                    + " ms (x%.2f); last losses %.3g / %.3g / %.3g", plainMs, hnnMs, hnnMs / plainMs, lnnMs,
                    lnnMs / plainMs, fp.loss, fh.loss, fl.loss));
            out.accept(t[1].describe(Json.bench(NAME).num("value", hnnMs).str("unit", "ms")
                    .str("measure", "median time of one field-fitting training step (field on the batch, MSE to"
                            + " dx/dt, VJP to the parameters, Adam) of an HNN: H = Linear(2, 64) - Tanh -"
                            + " Linear(64, 1), field J grad H")
                    .str("baseline", "a plain Neural ODE field Linear(2, 64) - Tanh - Linear(64, 2), same data,"
                            + " stepped interleaved")
                    .num("baseline_value", plainMs).num("ratio", hnnMs / plainMs).str("settings", settings)));
            out.accept(t[2].describe(Json.bench(LNN_LINE).num("value", lnnMs).str("unit", "ms")
                    .str("measure", "median time of one field-fitting training step of an LNN: L = Linear(2, 64)"
                            + " - Softplus - Linear(64, 1), field [qdot, (d2L/dqdot2)^-1 (dL/dq - d2L/dqdot dq"
                            + " qdot)] with the graph's SOLVE")
                    .str("baseline", "the plain field of hnn-step").num("baseline_value", plainMs)
                    .num("ratio", lnnMs / plainMs).str("settings", settings)));
        }
        try (Tensor x = Tensor.of(xs, BATCH, 2); Tensor y = Tensor.of(ys, BATCH, 2);
                SolveStep sp = new SolveStep(plain, x, y); SolveStep sh = new SolveStep(hnn, x, y)) {
            Timing.Result[] t = Timing.interleaved(new String[] {"solve: plain", "solve: HNN"}, 10, 40, sp::step,
                    sh::step);
            double plainMs = t[0].medianMs(), hnnMs = t[1].medianMs();
            boolean nfeEqual = sp.model.nfe() == sh.model.nfe();
            BenchMain.log(String.format(Locale.ROOT, "  trajectory step: plain %.3f ms, HNN %.3f ms (x%.2f), nfe equal %s",
                    plainMs, hnnMs, hnnMs / plainMs, nfeEqual));
            out.accept(t[1].describe(Json.bench(SOLVE_LINE).num("value", hnnMs).str("unit", "ms")
                    .str("measure", "median time of one trajectory training step (solve, MSE at t = 1, adjoint"
                            + " backward, Adam) of the HNN of hnn-step")
                    .str("baseline", "the plain Neural ODE of hnn-step, same solves").num("baseline_value", plainMs)
                    .num("ratio", hnnMs / plainMs).bool("nfe_equal", nfeEqual)
                    .str("settings", settings + ", rk4 dt 0.1 over [0, 1], adjoint")));
        }
    }
}
