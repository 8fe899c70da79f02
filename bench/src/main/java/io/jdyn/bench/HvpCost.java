package io.jdyn.bench;

import io.jdyn.DType;
import io.jdyn.Tensor;
import io.jdyn.fn.Graph;
import io.jdyn.fn.Program;
import io.jdyn.fn.Sym;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Consumer;

/**
 * hvp-cost: a Hessian-vector product of a scalar energy, E(x) = Linear(64, 1)(tanh(Linear(64, 64)(
 * tanh(Linear(2, 64)(x))))) per sample (PyTorch's default init, seed 0), at batch 512 in float32,
 * against one forward evaluation of E. The HVP is forward-over-reverse, built as programs: g = grad of
 * sum(E) with respect to x (reverse mode), then the JVP of g along u (forward mode), one native program
 * whose nodes are counted beside the forward's. Both are timed in alternation through
 * {@code Program.run} (the same call overhead and output allocation on both sides); ratio = HVP /
 * forward. The literature puts forward-over-reverse at about 3 to 5 forward evaluations.
 */
final class HvpCost implements Benchmark {
    static final int BATCH = 512;

    @Override
    public String unit() {
        return "ratio";
    }

    @Override
    public void run(Consumer<Json> out) throws Exception {
        try (Graph g = new Graph()) {
            Sym x = g.arg(-1, 2);
            Sym u = g.arg(-1, 2);
            var p = g.params();
            Sym h = p.linear("0", x, 64).tanh();
            h = p.linear("2", h, 64).tanh();
            Sym e = p.linear("4", h, 1);
            Sym grad = Graph.grad(e.sum(), x);
            Sym hvp = g.jvp(List.of(x), List.of(u), List.of(grad)).get(0);
            try (Program forward = g.finish(DType.FLOAT32, e);
                    Program hessian = g.finish(DType.FLOAT32, hvp);
                    Tensor params = forward.initParams(0)) {
                double[] pts = new double[2 * BATCH];
                double[] dir = new double[2 * BATCH];
                SplittableRandom rng = new SplittableRandom(0);
                for (int i = 0; i < pts.length; i++) {
                    pts[i] = rng.nextDouble(-1, 1);
                    dir[i] = rng.nextDouble(-1, 1);
                }
                try (Tensor xt = Tensor.of(DType.FLOAT32, pts, BATCH, 2);
                        Tensor ut = Tensor.of(DType.FLOAT32, dir, BATCH, 2)) {
                    int reps = 64;
                    Timing.Result[] r = Timing.interleaved(new String[] {
                            reps + " x forward E, batch " + BATCH, reps + " x HVP, batch " + BATCH}, 2, 21,
                            () -> {
                                for (int i = 0; i < reps; i++) closeAll(forward.run(params, 0.0, xt, ut));
                            },
                            () -> {
                                for (int i = 0; i < reps; i++) closeAll(hessian.run(params, 0.0, xt, ut));
                            });
                    double fwdMs = r[0].medianMs() / reps;
                    double hvpMs = r[1].medianMs() / reps;
                    out.accept(r[1].describe(Json.bench("hvp-cost")).num("value", hvpMs / fwdMs).str("unit", "ratio")
                            .str("measure", "one Hessian-vector product (forward-over-reverse program) / one forward"
                                    + " evaluation, both through Program.run")
                            .str("energy", "Linear(2,64)-Tanh-Linear(64,64)-Tanh-Linear(64,1)")
                            .num("batch", BATCH).str("dtype", "float32")
                            .num("hvp_ms", hvpMs).num("forward_ms", fwdMs)
                            .num("hvp_nodes", hessian.numNodes()).num("forward_nodes", forward.numNodes())
                            .str("literature", "about 3-5x").num("blas_threads", 1));
                }
            }
        }
    }

    private static void closeAll(Tensor[] ts) {
        for (Tensor t : ts) t.close();
    }
}
