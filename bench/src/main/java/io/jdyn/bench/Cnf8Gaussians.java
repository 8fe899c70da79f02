package io.jdyn.bench;

import io.jdyn.DType;
import io.jdyn.Tensor;
import io.jdyn.data.Dataset;
import io.jdyn.data.ToyDataset;
import io.jdyn.models.CNF;
import io.jdyn.models.CNFDensity;
import io.jdyn.models.NeuralODE;
import io.jdyn.models.TraceEstimator;
import io.jdyn.nn.DepthCat;
import io.jdyn.nn.Linear;
import io.jdyn.nn.Sequential;
import io.jdyn.nn.Tanh;
import io.jdyn.train.loss.LossValue;
import io.jdyn.train.optim.Adam;
import java.util.Arrays;
import java.util.Locale;
import java.util.function.Consumer;

/**
 * cnf-8gaussians: FFJORD on its 8-gaussians density (examples' CNFDemo at full size): the field
 * [z, t] -> 64 -> 64 -> 64 -> 2 (tanh) inside a {@link CNF}, dopri5 at rtol = atol = 1e-5 forward and
 * backward, the adjoint, float32, a fresh batch of 512 each step, Adam lr 5e-3. One line per trace
 * estimator (exact; Hutchinson with Gaussian noise): the mean wall time of a training step (forward solve
 * with the tape, the NLL and its cotangent, the adjoint backward, the Adam update) over the whole run,
 * and the held-out NLL (2048 points) before and after. The steps are not repeated: the work of a step
 * changes as the flow trains (its NFE), so the figure is the mean over the run, as a training log reports
 * it. The held-out NLL is the exact trace's for both (a copy of the flow with the exact trace). Beside
 * the wall time, cpu_ms: the thread's CPU time a step (everything runs on the calling thread), which a
 * loaded machine inflates less than the wall time. -Dbench.scale scales the number of steps (1000 at scale 1).
 *
 * <p>No baseline runs here (no PyTorch on this path): the figure for torchdiffeq on the same
 * machine kind (exact trace, adjoint, 2 threads: 415 ms a step, 5.66 to 2.90 nats in 1000 steps) is
 * given as reference_* fields, not as a baseline measured in the same run.
 */
final class Cnf8Gaussians implements Benchmark {
    static final int STEPS = 1000, BATCH = 512, WIDTH = 64, TEST = 2048;
    static final double LR = 5e-3, TOL = 1e-5;

    @Override
    public String unit() {
        return "ms";
    }

    @Override
    public void run(Consumer<Json> out) throws Exception {
        double scale = Double.parseDouble(System.getProperty("bench.scale", "1"));
        int steps = Math.max(5, (int) Math.round(STEPS * scale));
        out.accept(train("exact", TraceEstimator.AUTOGRAD_TRACE, null, steps));
        out.accept(train("hutchinson", TraceEstimator.HUTCH_TRACE, CNF.NoiseDist.GAUSSIAN, steps));
    }

    private static Json train(String variant, TraceEstimator est, CNF.NoiseDist noise, int steps) throws Exception {
        Sequential net = Sequential.of(new DepthCat(), new Linear(3, WIDTH), new Tanh(), new Linear(WIDTH, WIDTH),
                new Tanh(), new Linear(WIDTH, WIDTH), new Tanh(), new Linear(WIDTH, 2));
        Dataset test = ToyDataset.eightGaussians(TEST, 1_000_003, DType.FLOAT32);
        double[] ms = new double[steps], cpuMs = new double[steps];
        java.lang.management.ThreadMXBean mx = java.lang.management.ManagementFactory.getThreadMXBean();
        long fwdNfe = 0, bwdNfe = 0;
        double first, last;
        try (NeuralODE flow = NeuralODE.builder(new CNF(net, est, noise), 3).solver("dopri5").rtol(TOL).atol(TOL)
                        .sensitivity("adjoint").rtolAdjoint(TOL).atolAdjoint(TOL).seed(0).build();
                NeuralODE exact = CNFDensity.withExactTrace(flow); Tensor testX = test.x();
                Adam adam = Adam.of(flow.parameters(), LR)) {
            first = nll(exact, testX);
            for (int step = 1; step <= steps; step++) {
                Dataset batch = ToyDataset.eightGaussians(BATCH, step, DType.FLOAT32);
                try (Tensor x = batch.x(); Tensor a = CNFDensity.augment(x)) {
                    long t0 = System.nanoTime(), c0 = mx.getCurrentThreadCpuTime();
                    try (NeuralODE.Trace tr = flow.trace(a); LossValue loss = CNFDensity.nll(tr.output())) {
                        adam.zeroGrad();
                        tr.backward(loss.grad()).close();
                        adam.step();
                        fwdNfe += tr.solution().stats().nfe();
                        bwdNfe += tr.gradients().backwardStats().nfe();
                    }
                    ms[step - 1] = (System.nanoTime() - t0) / 1e6;
                    cpuMs[step - 1] = (mx.getCurrentThreadCpuTime() - c0) / 1e6;
                }
                if (step % 100 == 0) {
                    CNFDensity.copyParameters(flow, exact);
                    BenchMain.log(String.format(Locale.ROOT, "  %s step %d: %.1f ms, test NLL %.3f", variant, step,
                            ms[step - 1], nll(exact, testX)));
                }
            }
            CNFDensity.copyParameters(flow, exact);
            last = nll(exact, testX);
        }
        double mean = Arrays.stream(ms).average().orElse(Double.NaN);
        double cpu = Arrays.stream(cpuMs).average().orElse(Double.NaN);
        BenchMain.log(String.format(Locale.ROOT, "cnf-8gaussians %s: %.1f ms a step (mean of %d; thread CPU %.1f ms),"
                + " NLL %.3f -> %.3f", variant, mean, steps, cpu, first, last));
        return Json.bench("cnf-8gaussians").str("variant", variant).num("value", mean).str("unit", "ms")
                .str("statistic", "mean over the training run").num("median_ms", Timing.median(ms)).num("cpu_ms", cpu)
                .num("steps", steps).num("batch", BATCH).num("nll_initial", first).num("nll_final", last)
                .num("forward_nfe_per_step", (double) fwdNfe / steps).num("backward_nfe_per_step", (double) bwdNfe / steps)
                .str("trace_estimator", est.toString()).str("solver", "dopri5").num("tol", TOL).str("sensitivity", "adjoint")
                .str("dtype", "float32").num("threads", 1)
                .num("reference_torchdiffeq_ms", 415).num("reference_torchdiffeq_nll", 2.90)
                .str("reference", "torchdiffeq, exact trace, adjoint, 2 threads, this machine kind (issue 10's figure)");
    }

    private static double nll(NeuralODE flow, Tensor x) {
        double s = 0;
        double[] lp = CNFDensity.logProb(flow, x);
        for (double v : lp) s += v;
        return -s / lp.length;
    }
}
