package io.jdyn.bench;

import java.io.FileOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The entry point behind bench/run (see shared/BENCH.md): runs the named benchmarks, or all of them,
 * and writes one JSON object per line. Only those lines go to the JSON stream: standard output, or
 * the file named by -Dbench.json.out (bench/run points it at the original standard output and sends
 * the JVM's own standard output, native code's included, to standard error). Progress goes to
 * standard error. A benchmark that throws reports a line with "value": null and "error"; the exit
 * status stays 0 (a benchmark never fails a build). Unknown names exit with status 2 before anything runs.
 */
public final class BenchMain {
    private static final Map<String, Supplier<Benchmark>> BENCHMARKS = new LinkedHashMap<>();
    /** Names that are lines of another benchmark: running them runs that one. */
    private static final Map<String, String> ALIASES = new LinkedHashMap<>();

    static {
        BENCHMARKS.put("oscillators-10k", Oscillators10k::new);
        BENCHMARKS.put("steps-vdp-dopri5", () -> new StepCounts(StepCounts.Problem.VAN_DER_POL, "dopri5"));
        BENCHMARKS.put("steps-vdp-dopri8", () -> new StepCounts(StepCounts.Problem.VAN_DER_POL, "dopri8"));
        BENCHMARKS.put("steps-arenstorf-dopri5", () -> new StepCounts(StepCounts.Problem.ARENSTORF, "dopri5"));
        BENCHMARKS.put("steps-arenstorf-dopri8", () -> new StepCounts(StepCounts.Problem.ARENSTORF, "dopri8"));
        BENCHMARKS.put("upcall-eval", UpcallEval::new);
        BENCHMARKS.put("engine-step-overhead", EngineStepOverhead::new);
        BENCHMARKS.put("moons-nfe-full", MoonsNfe::new);
        BENCHMARKS.put("wide-nfe-seminorm", WideNfeSeminorm::new);
        BENCHMARKS.put("adjoint-memory", AdjointMemory::new);
        BENCHMARKS.put("moons-train-step", MoonsTrainStep::new);
        BENCHMARKS.put("moons-train-step-per-sample", MoonsTrainStepPerSample::new);
        BENCHMARKS.put("inference-batch", InferenceBatch::new);
        BENCHMARKS.put("graalpy-train-step", GraalPyTrainStep::new);
        BENCHMARKS.put("hvp-cost", HvpCost::new);
        BENCHMARKS.put("traced-field-step", TracedFieldStep::new);
        BENCHMARKS.put("eager-op", EagerOp::new);
        BENCHMARKS.put("regulariser-nfe", RegulariserNfe::new);
        BENCHMARKS.put(HnnStep.NAME, HnnStep::new);
        BENCHMARKS.put("hypereuler-moons", HyperEulerMoons::new);
        BENCHMARKS.put("cnf-8gaussians", Cnf8Gaussians::new);
        BENCHMARKS.put("snopt-convergence", SnoptConvergenceBench::new);
        BENCHMARKS.put("spark-train-round", SparkTrainRound::new);
        BENCHMARKS.put("ensemble-100k", Ensemble100k::new);

        ALIASES.put("oscillators-10k-matched", "oscillators-10k");
        ALIASES.put("moons-nfe-seminorm", "moons-nfe-full");
        ALIASES.put("graalpy-train-step-startup", "graalpy-train-step");
        ALIASES.put("graalpy-train-step-first-step", "graalpy-train-step");
        ALIASES.put(HnnStep.LNN_LINE, HnnStep.NAME);
        ALIASES.put(HnnStep.SOLVE_LINE, HnnStep.NAME);
        for (MoonsNfe.Config c : MoonsNfe.CONFIGS) ALIASES.put("moons-grad-step-" + c.suffix(), "moons-nfe-full");
    }

    private BenchMain() {}

    static void log(String message) {
        System.err.println(message);
    }

    public static void main(String[] args) throws IOException {
        PrintStream json = jsonStream();
        System.setOut(System.err);

        List<String> names = new ArrayList<>();
        for (String a : args) {
            if (a.equals("--list") || a.equals("-l")) {
                BENCHMARKS.keySet().forEach(BenchMain::log);
                ALIASES.forEach((k, v) -> log(k + " (a line of " + v + ")"));
                return;
            }
            String name = ALIASES.getOrDefault(a, a);
            if (!BENCHMARKS.containsKey(name)) {
                log("unknown benchmark '" + a + "'; known: " + String.join(", ", BENCHMARKS.keySet())
                        + ", " + String.join(", ", ALIASES.keySet()));
                System.exit(2);
            }
            if (!names.contains(name)) names.add(name);
        }
        if (names.isEmpty()) names.addAll(BENCHMARKS.keySet());
        // Worker threads that split each solve's batch (Jdyn.setThreads); timed lines report the count.
        io.jdyn.Jdyn.setThreads(Integer.getInteger("bench.threads", 1));

        log("jdyn bench: " + String.join(", ", names) + " (JVM " + Runtime.version() + ", "
                + Runtime.getRuntime().availableProcessors() + " CPUs, " + io.jdyn.Jdyn.threads() + " jdyn thread(s))");
        for (String name : names) {
            log(name + ":");
            long start = System.nanoTime();
            String unit = null;
            try {
                Benchmark b = BENCHMARKS.get(name).get();
                unit = b.unit();
                b.run(line -> {
                    json.println(line);
                    json.flush();
                });
            } catch (Throwable e) {
                log(name + " failed:");
                e.printStackTrace(System.err);
                json.println(Json.bench(name).nul("value").str("unit", unit).str("error", String.valueOf(e)));
                json.flush();
            }
            log(String.format(java.util.Locale.ROOT, "%s done in %.1f s", name, (System.nanoTime() - start) / 1e9));
        }
        json.flush();
    }

    private static PrintStream jsonStream() throws IOException {
        String path = System.getProperty("bench.json.out");
        if (path == null || path.isBlank()) return System.out;
        // append: never truncate a file that the caller's standard output was redirected to with >>
        return new PrintStream(new FileOutputStream(path, true), false, StandardCharsets.UTF_8);
    }
}
