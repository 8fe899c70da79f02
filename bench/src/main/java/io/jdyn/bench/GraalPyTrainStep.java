package io.jdyn.bench;

import io.jdyn.DType;
import io.jdyn.Tensor;
import io.jdyn.data.Dataset;
import io.jdyn.data.ToyDataset;
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
 * graalpy-train-step: one moons training step driven from Python on GraalPy (the python-shim, as
 * examples/scripts/moons.py writes it: {@code opt.zero_grad(); loss = loss_fn(model(X), yn);
 * loss.backward(); opt.step()}) against the same step driven from Java (as examples/scripts/moons.js:
 * {@code opt.zeroGrad(); trace = model.trace(x); lv = ce.compute(trace.output(), y);
 * trace.backward(lv.grad()); opt.step(); lv.close(); trace.close()}).
 *
 * <p>Fairness: both models are built fresh from the same settings (the shim's defaults, which the Java
 * builder is given explicitly: seed 0, dopri5, adjoint, rtol = atol = 1e-3, adjoint tolerances 1e-4, no
 * seminorm, float32), on the same data (ToyDataset.moons(512, 0.1, 0, float32)), and stepped in lockstep
 * (the order within a pair alternates), so the timed steps have the same indices (warm-up steps 1..W, timed
 * steps W+1..W+M) and the same NFE; the loss of every step and the NFE are checked to agree. Before that,
 * both code paths are pre-warmed on throwaway models (so that Truffle has compiled the shim), and a
 * Python step is one {@code step.execute()} timed from Java, polyglot call included.
 *
 * <p>Also: the start-up of a context with an engine of its own (first GraalPy context + {@code import
 * jdyn}), the time from the start of that context's creation to the end of its first optimizer step, a
 * per-phase breakdown of both steps (timed inside each language: perf_counter in Python, nanoTime in
 * Java), the cost of an empty {@code execute()} and of the shim's {@code jcall} wrapper.
 */
final class GraalPyTrainStep implements Benchmark {
    static final String NAME = "graalpy-train-step";
    /**
     * Pre-warm steps of each path on throwaway models. Truffle compiles a guest function after about 400
     * calls (first tier) and re-compiles it after about 10,000 (last tier); the shim's per-step functions
     * run once or twice a step, so 150 pre-warm steps left them in the interpreter. 600 gets them to the
     * first tier; the last tier would take about 10,000 steps.
     */
    static final int PREWARM = 600;
    static final int WARMUP = 30;
    static final int TIMED = 50;
    static final double TARGET = 1.2;
    static final String[] PHASES = {"zero_grad", "forward", "loss", "backward", "opt_step"};

    /** The Python side: make() builds a fresh model and returns (step, step_phases, java model). */
    static final String PY = """
            import time
            import jdyn
            from jdyn import NeuralODE, nn
            from jdyn.datasets import ToyDataset
            from jdyn._java import jcall

            X, yn = ToyDataset().generate(n_samples=512, noise=1e-1, dataset_type="moons")
            loss_fn = nn.CrossEntropyLoss()

            def make():
                f = nn.Sequential(nn.Linear(2, 64), nn.Tanh(), nn.Linear(64, 2))
                model = NeuralODE(f, sensitivity="adjoint", solver="dopri5")
                opt = jdyn.optim.Adam(model.parameters(), lr=0.01)

                def step():
                    opt.zero_grad()
                    loss = loss_fn(model(X), yn)
                    loss.backward()
                    opt.step()
                    return loss.item()

                def step_phases():
                    pc = time.perf_counter
                    t0 = pc()
                    opt.zero_grad()
                    t1 = pc()
                    y_hat = model(X)
                    t2 = pc()
                    loss = loss_fn(y_hat, yn)
                    t3 = pc()
                    loss.backward()
                    t4 = pc()
                    opt.step()
                    t5 = pc()
                    return [t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4, loss.item()]

                return (step, step_phases, model.java)

            def noop():
                return 0.0

            def jcall_cost(n):
                def plain():
                    return 0
                wrapped = jcall(plain)
                pc = time.perf_counter
                best_plain = best_wrapped = 1e9
                for _ in range(5):
                    t0 = pc()
                    for _ in range(n):
                        plain()
                    t1 = pc()
                    for _ in range(n):
                        wrapped()
                    t2 = pc()
                    best_plain = min(best_plain, (t1 - t0) / n)
                    best_wrapped = min(best_wrapped, (t2 - t1) / n)
                return [best_plain, best_wrapped]
            """;

    @Override
    public String unit() {
        return "ms";
    }

    private static double scale() {
        return Double.parseDouble(System.getProperty("bench.scale", "1"));
    }

    /** The Java step, built with the same settings as the shim's NeuralODE(f, sensitivity="adjoint", solver="dopri5"). */
    static final class JavaStep implements AutoCloseable {
        final NeuralODE model;
        final Adam opt;
        final Tensor x;
        final int[] y;
        final CrossEntropyLoss ce = new CrossEntropyLoss();

        JavaStep(Dataset data) {
            Sequential f = Sequential.of(new Linear(2, 64), new Tanh(), new Linear(64, 2));
            model = NeuralODE.builder(f, 2).solver("dopri5").sensitivity("adjoint").rtol(1e-3).atol(1e-3)
                    .rtolAdjoint(1e-4).atolAdjoint(1e-4).seminorm(false).seed(0).dtype(DType.FLOAT32).build();
            opt = Adam.of(model.parameters(), 0.01);
            x = data.x();
            y = data.y();
        }

        double step() {
            opt.zeroGrad();
            NeuralODE.Trace trace = model.trace(x);
            LossValue lv = new CrossEntropyLoss().compute(trace.output(), y);
            trace.backward(lv.grad());
            opt.step();
            double v = lv.value();
            lv.close();
            trace.close();
            return v;
        }

        /** The same step, phase by phase (ns); the closes are in the backward phase, as the shim's backward frees its tape. */
        double phases(long[] ns) {
            long t0 = System.nanoTime();
            opt.zeroGrad();
            long t1 = System.nanoTime();
            NeuralODE.Trace trace = model.trace(x);
            long t2 = System.nanoTime();
            LossValue lv = new CrossEntropyLoss().compute(trace.output(), y);
            long t3 = System.nanoTime();
            trace.backward(lv.grad());
            double v = lv.value();
            lv.close();
            trace.close();
            long t4 = System.nanoTime();
            opt.step();
            long t5 = System.nanoTime();
            ns[0] = t1 - t0;
            ns[1] = t2 - t1;
            ns[2] = t3 - t2;
            ns[3] = t4 - t3;
            ns[4] = t5 - t4;
            return v;
        }

        @Override
        public void close() {
            opt.close();
            model.close();
        }
    }

    static double median(double[] a) {
        double[] s = a.clone();
        Arrays.sort(s);
        int n = s.length;
        return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    }

    @Override
    public void run(Consumer<Json> out) throws Exception {
        double sc = scale();
        int prewarm = Math.max(5, (int) Math.round(PREWARM * sc));
        int warm = Math.max(1, (int) Math.round(WARMUP * sc));
        int timed = Math.max(3, (int) Math.round(TIMED * sc));

        // 1. Start-up in an engine of its own, before anything else touches GraalPy in this JVM.
        long c0 = System.nanoTime();
        double startupMs;
        double firstStepMs;
        double firstStepAloneMs;
        double buildMs;
        double coreInitMs;
        try (Context c = JdynContexts.python().ownEngine(true).build()) {
            long cb = System.nanoTime();
            c.eval("python", "1"); // GraalPy initialises its core (builtins, site) on the first eval
            long ce = System.nanoTime();
            c.eval("python", "import jdyn");
            long c1 = System.nanoTime();
            buildMs = (cb - c0) / 1e6;
            coreInitMs = (ce - cb) / 1e6;
            startupMs = (c1 - c0) / 1e6;
            c.eval("python", PY);
            Value made = c.getBindings("python").getMember("make").execute();
            long c2 = System.nanoTime();
            made.getArrayElement(0).execute();
            long c3 = System.nanoTime();
            firstStepMs = (c3 - c0) / 1e6;
            firstStepAloneMs = (c3 - c2) / 1e6;
        }
        boolean jit = Jit.enabled();
        String runtime = Jit.implementationName();
        BenchMain.log(String.format(Locale.ROOT, "  start-up %.0f ms, first trained step at %.0f ms (the step itself"
                + " %.0f ms); JIT %s (%s)", startupMs, firstStepMs, firstStepAloneMs, jit, runtime));

        Dataset data = ToyDataset.moons(512, 0.1, 0, DType.FLOAT32);
        try (Context ctx = JdynContexts.python().build()) {
            ctx.eval("python", PY);
            Value bindings = ctx.getBindings("python");
            Value make = bindings.getMember("make");

            // 2. Pre-warm both paths on throwaway models (a fresh one every 50 steps, so that the
            // pre-warm steps cost about what the measured ones do).
            long p0 = System.nanoTime();
            int done = 0;
            while (done < prewarm) {
                Value py = make.execute();
                try (JavaStep js = new JavaStep(data)) {
                    for (int i = 0; i < 50 && done < prewarm; i++, done++) {
                        js.step();
                        py.getArrayElement(0).execute();
                        py.getArrayElement(1).execute();
                    }
                }
            }
            BenchMain.log(String.format(Locale.ROOT, "  pre-warm: %d steps of each in %.1f s", prewarm,
                    (System.nanoTime() - p0) / 1e9));

            // 3. Lockstep: fresh models, steps 1..warm untimed-in-the-median, warm+1..warm+timed timed.
            Value py = make.execute();
            Value pyStep = py.getArrayElement(0);
            NeuralODE pyModel = py.getArrayElement(2).asHostObject();
            double[] javaMs = new double[timed];
            double[] pyMs = new double[timed];
            long nfeF0 = 0;
            long nfeB0 = 0;
            long nfeF1;
            long nfeB1;
            double maxLossDiff = 0;
            boolean nfeEqual = true;
            double lastLoss = Double.NaN;
            try (JavaStep js = new JavaStep(data)) {
                for (int i = 0; i < warm + timed; i++) {
                    if (i == warm) {
                        nfeF0 = js.model.forwardNfe();
                        nfeB0 = js.model.backwardNfe();
                    }
                    double jl;
                    double pl;
                    long a;
                    long b;
                    long d;
                    if (i % 2 == 0) {
                        a = System.nanoTime();
                        jl = js.step();
                        b = System.nanoTime();
                        pl = pyStep.execute().asDouble();
                        d = System.nanoTime();
                        if (i >= warm) {
                            javaMs[i - warm] = (b - a) / 1e6;
                            pyMs[i - warm] = (d - b) / 1e6;
                        }
                    } else {
                        a = System.nanoTime();
                        pl = pyStep.execute().asDouble();
                        b = System.nanoTime();
                        jl = js.step();
                        d = System.nanoTime();
                        if (i >= warm) {
                            pyMs[i - warm] = (b - a) / 1e6;
                            javaMs[i - warm] = (d - b) / 1e6;
                        }
                    }
                    maxLossDiff = Math.max(maxLossDiff, Math.abs(jl - pl));
                    nfeEqual &= js.model.forwardNfe() == pyModel.forwardNfe()
                            && js.model.backwardNfe() == pyModel.backwardNfe();
                    lastLoss = jl;
                }
                nfeF1 = js.model.forwardNfe();
                nfeB1 = js.model.backwardNfe();
            }
            double[] pairRatio = new double[timed];
            for (int i = 0; i < timed; i++) pairRatio[i] = pyMs[i] / javaMs[i];
            double jMed = median(javaMs);
            double pMed = median(pyMs);
            double ratio = pMed / jMed;
            double fwdPerStep = (double) (nfeF1 - nfeF0) / timed;
            double bwdPerStep = (double) (nfeB1 - nfeB0) / timed;
            BenchMain.log(String.format(Locale.ROOT, "  steps %d..%d: Java %.3f ms, Python %.3f ms, ratio %.3f;"
                    + " nfe per step %.1f + %.1f; max |loss diff| %.2g; nfe equal %s", warm + 1, warm + timed, jMed,
                    pMed, ratio, fwdPerStep, bwdPerStep, maxLossDiff, nfeEqual));

            // 4. Per-phase breakdown on fresh models, same step indices, timed inside each language.
            Value pyPhases = make.execute().getArrayElement(1);
            double[][] jp = new double[PHASES.length][timed];
            double[][] pp = new double[PHASES.length][timed];
            long[] ns = new long[PHASES.length];
            try (JavaStep js = new JavaStep(data)) {
                for (int i = 0; i < warm + timed; i++) {
                    js.phases(ns);
                    Value r = pyPhases.execute();
                    if (i >= warm) {
                        for (int k = 0; k < PHASES.length; k++) {
                            jp[k][i - warm] = ns[k] / 1e6;
                            pp[k][i - warm] = r.getArrayElement(k).asDouble() * 1e3;
                        }
                    }
                }
            }

            // 5. Polyglot call and jcall wrapper costs.
            Value noop = bindings.getMember("noop");
            int calls = Math.max(1000, (int) Math.round(20_000 * sc));
            double bestNoopNs = Double.MAX_VALUE;
            for (int rep = 0; rep < 5; rep++) {
                long t0 = System.nanoTime();
                for (int i = 0; i < calls; i++) noop.execute();
                bestNoopNs = Math.min(bestNoopNs, (System.nanoTime() - t0) / (double) calls);
            }
            Value jc = bindings.getMember("jcall_cost").execute(calls);
            double plainNs = jc.getArrayElement(0).asDouble() * 1e9;
            double wrappedNs = jc.getArrayElement(1).asDouble() * 1e9;

            Json j = Json.bench(NAME).num("value", pMed).str("unit", "ms")
                    .str("measure", "median time of one moons training step driven from Python (python-shim:"
                            + " opt.zero_grad(); loss = loss_fn(model(X), yn); loss.backward(); opt.step();"
                            + " loss.item()), one step.execute() timed from Java, polyglot call included")
                    .str("baseline", "the same step driven from Java (opt.zeroGrad(); model.trace(x);"
                            + " CrossEntropyLoss.compute; trace.backward; opt.step(); closes)")
                    .num("baseline_value", jMed).num("ratio", ratio).num("target_ratio", TARGET)
                    .bool("target_met", ratio <= TARGET).bool("jit", jit).str("runtime", runtime)
                    .num("python_min_ms", Arrays.stream(pyMs).min().orElse(Double.NaN))
                    .num("java_min_ms", Arrays.stream(javaMs).min().orElse(Double.NaN))
                    .num("python_overhead_ms", pMed - jMed).num("pair_ratio_median", median(pairRatio))
                    .num("prewarm_steps", prewarm).num("warmup_steps", warm).num("timed_steps", timed)
                    .str("steps", "steps " + (warm + 1) + ".." + (warm + timed) + " of fresh models, seed 0, in lockstep")
                    .num("forward_nfe_per_step", fwdPerStep).num("backward_nfe_per_step", bwdPerStep)
                    .bool("nfe_equal", nfeEqual).num("max_loss_diff", maxLossDiff).num("loss_at_last_step", lastLoss)
                    .str("settings", "dopri5, adjoint, rtol = atol = 1e-3, adjoint 1e-4, no seminorm, float32, batch 512,"
                            + " Adam lr 0.01")
                    .num("threads", 1).str("statistic", "median");
            for (int k = 0; k < PHASES.length; k++) {
                j.num("python_" + PHASES[k] + "_ms", median(pp[k]));
            }
            for (int k = 0; k < PHASES.length; k++) {
                j.num("java_" + PHASES[k] + "_ms", median(jp[k]));
            }
            j.num("empty_execute_ns", bestNoopNs).num("python_call_ns", plainNs).num("jcall_call_ns", wrappedNs);
            out.accept(j);

            out.accept(Json.bench(NAME + "-startup").num("value", startupMs).str("unit", "ms")
                    .str("measure", "first GraalPy context (an engine of its own) + import jdyn, in this JVM")
                    .num("context_build_ms", buildMs).num("python_core_init_ms", coreInitMs)
                    .num("import_jdyn_ms", startupMs - buildMs - coreInitMs).bool("jit", jit));
            out.accept(Json.bench(NAME + "-first-step").num("value", firstStepMs).str("unit", "ms")
                    .str("measure", "from the start of that context's creation to the end of its first optimizer"
                            + " step (data, model and optimizer built in Python)")
                    .num("first_step_alone_ms", firstStepAloneMs).bool("jit", jit));
        }
    }
}
