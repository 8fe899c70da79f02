package io.jdyn.bench;

import io.jdyn.DType;
import io.jdyn.Tensor;
import io.jdyn.data.Dataset;
import io.jdyn.data.ToyDataset;
import io.jdyn.fn.Fn;
import io.jdyn.fn.Init;
import io.jdyn.fn.Sym;
import io.jdyn.models.NeuralODE;
import io.jdyn.nn.Linear;
import io.jdyn.nn.Sequential;
import io.jdyn.nn.Tanh;
import io.jdyn.polyglot.JdynContexts;
import io.jdyn.polyglot.Jit;
import io.jdyn.train.loss.CrossEntropyLoss;
import io.jdyn.train.loss.LossValue;
import io.jdyn.train.optim.Adam;
import java.util.Arrays;
import java.util.Locale;
import java.util.function.Consumer;
import org.graalvm.polyglot.Context;
import org.graalvm.polyglot.Value;

/**
 * traced-field-step: one moons training step of a vector field written the torch way in Python (an
 * nn.Module, traced once by the python-shim into a native program) against the same field built in Java
 * with the {@link Fn} API. Both steps are driven from Java ({@code opt.zeroGrad(); trace = model.trace(x);
 * CrossEntropyLoss.compute; trace.backward; opt.step()}), so the ratio measures the traced program itself:
 * about 1 when tracing leaves no Python in the evaluations.
 *
 * <p>The field: {@code net(x) * sigmoid(gate(x)) - softplus(damping) * x}, net = Linear(2, 64) - Tanh -
 * Linear(64, 2), gate = Linear(2, 2), damping a parameter [2] (-3, -3). Both models: seed 0 (the same
 * declarations in the same order, so the same initial values; checked), dopri5, adjoint, rtol = atol =
 * 1e-3, adjoint 1e-4, no seminorm, float32, Adam lr 0.01, ToyDataset.moons(512, 0.1, 0). Stepped in lockstep
 * (the order within a pair alternates), steps 1..W untimed, W+1..W+M timed; the loss of every step and the
 * NFE are checked equal. Also: the time to trace and build the model in Python (the context warm).
 */
final class TracedFieldStep implements Benchmark {
    static final String NAME = "traced-field-step";
    static final int WARMUP = 30;
    static final int TIMED = 50;

    static final String PY = """
            import jdyn
            from jdyn import NeuralODE, nn

            class Gated(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.net = nn.Sequential(nn.Linear(2, 64), nn.Tanh(), nn.Linear(64, 2))
                    self.gate = nn.Linear(2, 2)
                    self.damping = nn.Parameter(jdyn.tensor([-3.0, -3.0]))

                def forward(self, x):
                    return self.net(x) * jdyn.sigmoid(self.gate(x)) - jdyn.softplus(self.damping) * x

            def make():
                return NeuralODE(Gated(), sensitivity="adjoint", solver="dopri5", seed=0).java
            """;

    /** Gated written with the Java Fn API. */
    static final Fn GATED = (t, x, p) -> {
        Sym h = Sequential.of(new Linear(2, 64), new Tanh(), new Linear(64, 2)).apply(t, x, p.scope("net"));
        Sym g = new Linear(2, 2).apply(t, x, p.scope("gate"));
        Sym d = p.param("damping", Init.constant(-3.0), 2);
        return h.mul(g.sigmoid()).sub(d.softplus().mul(x));
    };

    @Override
    public String unit() {
        return "ms";
    }

    static final class Step implements AutoCloseable {
        final NeuralODE model;
        final Adam opt;
        final Tensor x;
        final int[] y;
        final CrossEntropyLoss ce = new CrossEntropyLoss();

        Step(NeuralODE model, Dataset data) {
            this.model = model;
            this.opt = Adam.of(model.parameters(), 0.01);
            this.x = data.x();
            this.y = data.y();
        }

        double step() {
            opt.zeroGrad();
            NeuralODE.Trace trace = model.trace(x);
            LossValue lv = ce.compute(trace.output(), y);
            trace.backward(lv.grad());
            opt.step();
            double v = lv.value();
            lv.close();
            trace.close();
            return v;
        }

        @Override
        public void close() {
            opt.close();
            model.close();
        }
    }

    static NeuralODE javaModel() {
        return NeuralODE.builder(GATED, 2).solver("dopri5").sensitivity("adjoint").rtol(1e-3).atol(1e-3)
                .rtolAdjoint(1e-4).atolAdjoint(1e-4).seminorm(false).seed(0).dtype(DType.FLOAT32).build();
    }

    @Override
    public void run(Consumer<Json> out) throws Exception {
        double sc = Double.parseDouble(System.getProperty("bench.scale", "1"));
        int warm = Math.max(1, (int) Math.round(WARMUP * sc));
        int timed = Math.max(3, (int) Math.round(TIMED * sc));
        Dataset data = ToyDataset.moons(512, 0.1, 0, DType.FLOAT32);
        try (Context ctx = JdynContexts.python().build()) {
            ctx.eval("python", PY);
            Value make = ctx.getBindings("python").getMember("make");
            make.execute().as(NeuralODE.class).close();              // the first trace warms the shim up
            double[] traceMs = new double[5];
            for (int i = 0; i < traceMs.length; i++) {
                long a = System.nanoTime();
                NeuralODE m = make.execute().as(NeuralODE.class);
                traceMs[i] = (System.nanoTime() - a) / 1e6;
                m.close();
            }
            double[] buildMs = new double[5];
            for (int i = 0; i < buildMs.length; i++) {
                long a = System.nanoTime();
                NeuralODE m = javaModel();
                buildMs[i] = (System.nanoTime() - a) / 1e6;
                m.close();
            }
            double[] javaMs = new double[timed];
            double[] pyMs = new double[timed];
            double maxLossDiff = 0;
            boolean nfeEqual = true;
            boolean sameInit;
            long nfe0 = 0;
            long nfe1;
            try (Step py = new Step(make.execute().as(NeuralODE.class), data); Step jv = new Step(javaModel(), data)) {
                sameInit = Arrays.equals(py.model.parameters().values().toDoubleArray(),
                        jv.model.parameters().values().toDoubleArray())
                        && py.model.parameters().infos().equals(jv.model.parameters().infos());
                for (int i = 0; i < warm + timed; i++) {
                    if (i == warm) nfe0 = jv.model.nfe();
                    Step first = i % 2 == 0 ? jv : py;
                    Step second = i % 2 == 0 ? py : jv;
                    long a = System.nanoTime();
                    double l1 = first.step();
                    long b = System.nanoTime();
                    double l2 = second.step();
                    long c = System.nanoTime();
                    if (i >= warm) {
                        (first == jv ? javaMs : pyMs)[i - warm] = (b - a) / 1e6;
                        (second == jv ? javaMs : pyMs)[i - warm] = (c - b) / 1e6;
                    }
                    maxLossDiff = Math.max(maxLossDiff, Math.abs(l1 - l2));
                    nfeEqual &= jv.model.forwardNfe() == py.model.forwardNfe()
                            && jv.model.backwardNfe() == py.model.backwardNfe();
                }
                nfe1 = jv.model.nfe();
            }
            double jMed = GraalPyTrainStep.median(javaMs);
            double pMed = GraalPyTrainStep.median(pyMs);
            double ratio = pMed / jMed;
            BenchMain.log(String.format(Locale.ROOT, "  steps %d..%d: Java Fn %.3f ms, traced Python %.3f ms, ratio "
                    + "%.3f; trace+build %.1f ms (Java build %.1f ms); same init %s, nfe equal %s, max |loss diff| "
                    + "%.2g", warm + 1, warm + timed, jMed, pMed, ratio, GraalPyTrainStep.median(traceMs),
                    GraalPyTrainStep.median(buildMs), sameInit, nfeEqual, maxLossDiff));
            out.accept(Json.bench(NAME).num("value", pMed).str("unit", "ms")
                    .str("measure", "median time of one moons training step (from Java: trace, cross-entropy,"
                            + " backward, Adam) of the field net(x) * sigmoid(gate(x)) - softplus(damping) * x"
                            + " written as a Python nn.Module and traced by the python-shim")
                    .str("baseline", "the same field written with the Java Fn API, stepped in lockstep")
                    .num("baseline_value", jMed).num("ratio", ratio)
                    .num("trace_build_ms", GraalPyTrainStep.median(traceMs))
                    .num("java_build_ms", GraalPyTrainStep.median(buildMs))
                    .bool("same_init", sameInit).bool("nfe_equal", nfeEqual).num("max_loss_diff", maxLossDiff)
                    .num("nfe_per_step", (double) (nfe1 - nfe0) / timed)
                    .num("warmup_steps", warm).num("timed_steps", timed).bool("jit", Jit.enabled())
                    .str("settings", "dopri5, adjoint, rtol = atol = 1e-3, adjoint 1e-4, no seminorm, float32, batch 512,"
                            + " Adam lr 0.01, seed 0")
                    .num("threads", 1).str("statistic", "median"));
        }
    }
}
