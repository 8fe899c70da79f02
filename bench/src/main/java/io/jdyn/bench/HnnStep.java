package io.jdyn.bench;

import io.jdyn.DType;
import io.jdyn.Tensor;
import io.jdyn.fn.Fn;
import io.jdyn.models.HNN;
import io.jdyn.models.LNN;
import io.jdyn.models.NeuralODE;
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
 * hnn-step (and its line lnn-step): one training step of an HNN, and of an LNN, against a plain Neural
 * ODE of the same hidden width on the same data. Data: 256 mass-spring states (radius 0.5 to 1.5) and
 * their exact flow over t = 1 (a rotation by one radian). Nets: plain Linear(2, 64) - Tanh - Linear(64, 2);
 * HNN's H Linear(2, 64) - Tanh - Linear(64, 1); LNN's L Linear(2, 64) - Softplus - Linear(64, 1). A step:
 * {@code opt.zeroGrad(); trace = model.trace(x); MSELoss; trace.backward; opt.step()} with rk4 on a
 * fixed grid of 10 steps and the adjoint (also 10 fixed steps back), so every model makes the same
 * number of field evaluations and the ratio is the cost of one evaluation of the structured field and
 * its derivatives (HNN's field is a gradient, so its VJP is a Hessian-vector product; LNN's adds n JVPs
 * and a solve per row). float64, Adam lr 1e-3, seed 0; the three models stepped interleaved.
 */
final class HnnStep implements Benchmark {
    static final String NAME = "hnn-step";
    static final String LNN_LINE = "lnn-step";
    static final int BATCH = 256;
    static final int HIDDEN = 64;

    @Override
    public String unit() {
        return "ms";
    }

    private static final class Step implements AutoCloseable {
        final NeuralODE model;
        final Adam opt;
        final Tensor x;
        final Tensor y;
        final MSELoss mse = new MSELoss();
        double loss;

        Step(Fn field, Tensor x, Tensor y) {
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
                loss = lv.value();
            }
        }

        @Override
        public void close() {
            opt.close();
            model.close();
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
        Fn plain = Sequential.of(new Linear(2, HIDDEN), new Tanh(), new Linear(HIDDEN, 2));
        Fn hnn = new HNN(Sequential.of(new Linear(2, HIDDEN), new Tanh(), new Linear(HIDDEN, 1)));
        Fn lnn = new LNN(Sequential.of(new Linear(2, HIDDEN), new Softplus(), new Linear(HIDDEN, 1)));
        try (Tensor x = Tensor.of(xs, BATCH, 2); Tensor y = Tensor.of(ys, BATCH, 2);
                Step sp = new Step(plain, x, y); Step sh = new Step(hnn, x, y); Step sl = new Step(lnn, x, y)) {
            Timing.Result[] t = Timing.interleaved(new String[] {"plain Neural ODE", "HNN", "LNN"}, 20, 60,
                    sp::step, sh::step, sl::step);
            double plainMs = t[0].medianMs(), hnnMs = t[1].medianMs(), lnnMs = t[2].medianMs();
            long nfePlain = sp.model.nfe(), nfeHnn = sh.model.nfe(), nfeLnn = sl.model.nfe();
            BenchMain.log(String.format(Locale.ROOT, "  per step: plain %.3f ms, HNN %.3f ms (x%.2f), LNN %.3f ms"
                    + " (x%.2f); evaluations so far %d / %d / %d; last losses %.3g / %.3g / %.3g", plainMs, hnnMs,
                    hnnMs / plainMs, lnnMs, lnnMs / plainMs, nfePlain, nfeHnn, nfeLnn, sp.loss, sh.loss, sl.loss));
            String settings = "batch 256 mass-spring states, hidden 64, rk4 dt 0.1 over [0, 1], adjoint, float64, Adam"
                    + " lr 1e-3, seed 0, interleaved";
            out.accept(t[1].describe(Json.bench(NAME).num("value", hnnMs).str("unit", "ms")
                    .str("measure", "median time of one training step (trace, MSE, adjoint backward, Adam) of an"
                            + " HNN: H = Linear(2, 64) - Tanh - Linear(64, 1), field J grad H")
                    .str("baseline", "a plain Neural ODE Linear(2, 64) - Tanh - Linear(64, 2), same data and"
                            + " solver, stepped interleaved")
                    .num("baseline_value", plainMs).num("ratio", hnnMs / plainMs)
                    .bool("nfe_equal", nfePlain == nfeHnn).str("settings", settings)));
            out.accept(t[2].describe(Json.bench(LNN_LINE).num("value", lnnMs).str("unit", "ms")
                    .str("measure", "median time of one training step of an LNN: L = Linear(2, 64) - Softplus -"
                            + " Linear(64, 1), field [qdot, (d2L/dqdot2)^-1 (dL/dq - d2L/dqdot dq qdot)] with"
                            + " the graph's SOLVE")
                    .str("baseline", "the plain Neural ODE of hnn-step").num("baseline_value", plainMs)
                    .num("ratio", lnnMs / plainMs).bool("nfe_equal", nfePlain == nfeLnn).str("settings", settings)));
        }
    }
}
