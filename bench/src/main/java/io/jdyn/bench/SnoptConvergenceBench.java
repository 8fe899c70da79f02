package io.jdyn.bench;

import io.jdyn.examples.SnoptConvergence;
import io.jdyn.examples.SnoptConvergence.Opt;
import io.jdyn.examples.SnoptConvergence.Outcome;
import io.jdyn.examples.SnoptConvergence.Task;
import java.util.EnumMap;
import java.util.Map;
import java.util.function.Consumer;

/**
 * snopt-convergence: wall-clock seconds to a target (moons: training accuracy 0.97; spirals: 0.95;
 * trajectory fitting: MSE 0.01) for SNOpt (preconditioning SGD), Adam and SGD, same run, same seed
 * (0), full batch, dopri5 with the adjoint, float64 (examples' SnoptConvergence). Before the timed runs
 * every (task, optimizer) pair trains for 10 iterations untimed, so the JIT has compiled the loop.
 * Each pair runs 5 times (the optimizers in turn); one line per pair: value = the median seconds to the target (the whole budget when not reached: see "reached");
 * SNOpt's lines carry its ratio to Adam and to SGD (below 1: SNOpt faster). -Dbench.scale scales the
 * iteration budget (default 400).
 */
final class SnoptConvergenceBench implements Benchmark {
    private static final int REPEATS = 5;

    @Override
    public String unit() {
        return "s";
    }

    @Override
    public void run(Consumer<Json> out) {
        int budget = Math.max(50, (int) Math.round(400 * Double.parseDouble(System.getProperty("bench.scale", "1"))));
        for (Task task : Task.values()) {
            for (Opt opt : Opt.values()) SnoptConvergence.run(task, opt, 10, 0);
        }
        for (Task task : Task.values()) {
            Map<Opt, Outcome> r = new EnumMap<>(Opt.class);
            Map<Opt, double[]> secs = new EnumMap<>(Opt.class);
            for (Opt opt : Opt.values()) secs.put(opt, new double[REPEATS]);
            // The three optimizers in turn, REPEATS rounds: the iterations are the same every round (same
            // seed, deterministic solves), the seconds are the median of the rounds.
            for (int k = 0; k < REPEATS; k++) {
                for (Opt opt : Opt.values()) {
                    Outcome o = SnoptConvergence.run(task, opt, budget, 0);
                    r.put(opt, o);
                    secs.get(opt)[k] = o.seconds();
                }
            }
            Map<Opt, Double> median = new EnumMap<>(Opt.class);
            for (Opt opt : Opt.values()) {
                double[] v = secs.get(opt).clone();
                java.util.Arrays.sort(v);
                median.put(opt, v[v.length / 2]);
            }
            for (Opt opt : Opt.values()) {
                Outcome o = r.get(opt);
                double[] v = secs.get(opt).clone();
                java.util.Arrays.sort(v);
                Json j = Json.bench("snopt-convergence").num("value", median.get(opt)).str("unit", "s")
                        .num("min_s", v[0]).num("max_s", v[v.length - 1]).num("rounds", (long) REPEATS)
                        .str("task", task.name().toLowerCase(java.util.Locale.ROOT))
                        .str("optimizer", opt.name().toLowerCase(java.util.Locale.ROOT)).num("lr", o.lr())
                        .bool("reached", o.reached()).num("iterations", (long) o.iters()).num("target", o.target())
                        .num("metric", o.metric()).num("loss", o.loss()).num("budget", (long) budget)
                        .num("seconds_per_iteration", median.get(opt) / Math.max(1, o.iters()));
                if (opt == Opt.SNOPT) {
                    j.num("ratio_vs_adam", median.get(opt) / median.get(Opt.ADAM));
                    j.num("ratio_vs_sgd", median.get(opt) / median.get(Opt.SGD));
                    j.bool("adam_reached", r.get(Opt.ADAM).reached()).bool("sgd_reached", r.get(Opt.SGD).reached());
                }
                out.accept(j);
            }
        }
    }
}
