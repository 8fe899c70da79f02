package io.jdyn.bench;

import io.jdyn.polyglot.JdynContexts;
import io.jdyn.polyglot.Jit;
import java.util.Locale;
import java.util.function.Consumer;
import org.graalvm.polyglot.Context;
import org.graalvm.polyglot.Value;

/**
 * eager-op: one element-wise operation on concrete (eager) python-shim tensors from Python, {@code z = x * y}
 * with x, y [512, 64] float32 (the main line), and {@code z = x.tanh()} beside it; microseconds per op once
 * warm. A timed run is one {@code execute()} from Java of a Python loop of {@link #LOOP} ops (the result of
 * each op dropped, as a script drops its temporaries: their native memory is freed by the collector's
 * cleaner, which the figure includes); the value is the median over the runs of (run time / LOOP). The ops
 * of both kinds alternate run by run. Before timing, both loops run until {@link #WARMUP_OPS} ops and at
 * least {@code bench.warmup.seconds} (default 3) have passed, so that Truffle has compiled the shim's op
 * path (report "jit" says whether the JIT was on). Also: the autograd step of the same product, {@code
 * (x * w).sum().backward()} with w requiring a gradient, per run (forward, sum and backward).
 */
final class EagerOp implements Benchmark {
    static final String NAME = "eager-op";
    static final int LOOP = 200;
    static final int WARMUP_OPS = 20_000;
    static final int RUNS = 60;

    static final String PY = """
            import random
            import jdyn

            rng = random.Random(0)
            X = jdyn.tensor([[rng.uniform(-1, 1) for _ in range(64)] for _ in range(512)], dtype="float32")
            Y = jdyn.tensor([[rng.uniform(-1, 1) for _ in range(64)] for _ in range(512)], dtype="float32")

            def mul(n):
                x, y, z = X, Y, None
                for _ in range(n):
                    z = x * y
                return z

            def tanh(n):
                x, z = X, None
                for _ in range(n):
                    z = x.tanh()
                return z

            def check():
                z = (X * Y).tolist()
                x, y = X.tolist(), Y.tolist()
                err = max(abs(z[i][j] - x[i][j] * y[i][j]) for i in range(512) for j in range(64))
                t = X.tanh().tolist()
                import math
                err_t = max(abs(t[i][j] - math.tanh(x[i][j])) for i in range(512) for j in range(64))
                return max(err, err_t)

            def has_autograd():
                return hasattr(jdyn.Tensor, "requires_grad_")

            def grad_step(n):
                W = Y.detach().requires_grad_()
                for _ in range(n):
                    (X * W).sum().backward()
                return W.grad
            """;

    @Override
    public String unit() {
        return "us";
    }

    @Override
    public void run(Consumer<Json> out) throws Exception {
        double sc = Double.parseDouble(System.getProperty("bench.scale", "1"));
        int runs = Math.max(5, (int) Math.round(RUNS * sc));
        int warmOps = Math.max(LOOP, (int) Math.round(WARMUP_OPS * sc));
        double warmSeconds = Double.parseDouble(System.getProperty("bench.warmup.seconds", "3"));
        try (Context ctx = JdynContexts.python().build()) {
            ctx.eval("python", PY);
            Value b = ctx.getBindings("python");
            Value mul = b.getMember("mul");
            Value tanh = b.getMember("tanh");
            double err = b.getMember("check").execute().asDouble();
            boolean autograd = b.getMember("has_autograd").execute().asBoolean();
            Value grad = b.getMember("grad_step");
            long w0 = System.nanoTime();
            int done = 0;
            while (done < warmOps || (System.nanoTime() - w0) / 1e9 < warmSeconds) {
                mul.execute(LOOP);
                tanh.execute(LOOP);
                if (autograd) grad.execute(LOOP / 10);
                done += LOOP;
            }
            double[] mulUs = new double[runs];
            double[] tanhUs = new double[runs];
            double[] gradUs = new double[runs];
            for (int r = 0; r < runs; r++) {
                boolean mulFirst = r % 2 == 0;
                for (int k = 0; k < 2; k++) {
                    boolean m = (k == 0) == mulFirst;
                    long a = System.nanoTime();
                    (m ? mul : tanh).execute(LOOP);
                    double us = (System.nanoTime() - a) / 1e3 / LOOP;
                    (m ? mulUs : tanhUs)[r] = us;
                }
                if (autograd) {
                    long a = System.nanoTime();
                    grad.execute(LOOP / 10);
                    gradUs[r] = (System.nanoTime() - a) / 1e3 / (LOOP / 10);
                }
            }
            double mMed = GraalPyTrainStep.median(mulUs);
            double tMed = GraalPyTrainStep.median(tanhUs);
            double gMed = autograd ? GraalPyTrainStep.median(gradUs) : Double.NaN;
            BenchMain.log(String.format(Locale.ROOT, "  x * y %.1f us, x.tanh() %.1f us%s per op ([512, 64] float32,"
                    + " %d runs of %d ops after %d warm-up ops); max |error| %.2g; JIT %s", mMed, tMed,
                    autograd ? String.format(Locale.ROOT, ", (x * w).sum().backward() %.1f us", gMed) : "", runs, LOOP,
                    done, err, Jit.enabled()));
            Json j = Json.bench(NAME).num("value", mMed).str("unit", "us")
                    .str("measure", "median time of one eager z = x * y on [512, 64] float32 python-shim tensors"
                            + " from Python (a loop of " + LOOP + " ops per timed run), once warm")
                    .num("tanh_us", tMed).num("max_error", err);
            if (autograd) j = j.num("mul_sum_backward_us", gMed);
            out.accept(j.num("iterations", runs).num("loop", LOOP).num("warmup_ops", done).bool("jit", Jit.enabled())
                    .num("threads", 1).str("statistic", "median"));
        }
    }
}
