package io.jdyn.bench;

import io.jdyn.nn.NeuralField;
import io.jdyn.ode.GradOptions;
import io.jdyn.ode.Sensitivity;
import io.jdyn.ode.SolveOptions;
import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * adjoint-memory: the native memory of one forward and backward pass of the trained moons field
 * (float32, batch 512) at 10, 100 and 1000 forced steps (rk4 with dt = 1 / steps over [0, 1]), per
 * sensitivity. The main figure is the tape's own count, {@code GradSolution.tapeBytes()}: what the
 * solve keeps for its backward pass (the outputs; for autograd the state at every step start; for the
 * interpolated adjoint the dense interpolant of every step). It leaves out the backward pass's working
 * buffers (stage vectors of the augmented state), which do not grow with the steps.
 *
 * <p>Beside it, the peak resident set of the process: each configuration runs in a fresh JVM
 * (interpreted, serial GC, pre-touched fixed heap, so that neither the JIT nor heap growth moves the
 * resident set), which trains the field as here, resets the peak with {@code /proc/self/clear_refs}
 * (5), reads VmRSS, runs the forward and backward pass once, and reads VmHWM; the delta is the peak
 * that pass added. Each configuration runs in {@link #RSS_REPS} fresh JVMs: the median delta is
 * reported with the smallest and largest (a few hundred kB move between JVMs).
 */
final class AdjointMemory implements Benchmark {
    static final int[] STEPS = {10, 100, 1000};
    static final Sensitivity[] SENSITIVITIES = {Sensitivity.AUTOGRAD, Sensitivity.ADJOINT,
        Sensitivity.INTERPOLATED_ADJOINT};
    private static final String RSS_PREFIX = "adjoint-memory-rss ";
    static final int RSS_REPS = Integer.getInteger("bench.memory.reps", 3);

    @Override
    public String unit() {
        return "bytes";
    }

    static SolveOptions forcedSteps(int steps) {
        return SolveOptions.builder().method("rk4").dt(1.0 / steps).maxSteps(0).build();
    }

    static GradOptions options(Sensitivity s) {
        return GradOptions.builder().sensitivity(s).seminorm(true).build();
    }

    /** The peak RSS delta measured in a child JVM, or why there is none. */
    private record Rss(long deltaBytes, String error) {}

    @Override
    public void run(Consumer<Json> out) throws Exception {
        MoonsWorkload data = MoonsWorkload.standard();
        try (NeuralField field = data.trainedMoonsField()) {
            for (Sensitivity s : SENSITIVITIES) {
                long firstBytes = -1;
                for (int steps : STEPS) {
                    GradStep.Result r;
                    try (GradStep step = new GradStep(field, data, forcedSteps(steps), options(s))) {
                        r = step.run();
                    }
                    if (firstBytes < 0) firstBytes = r.tapeBytes();
                    double[] deltas = new double[RSS_REPS];
                    String error = null;
                    for (int i = 0; i < RSS_REPS && error == null; i++) {
                        Rss rss = childRss(s, steps);
                        error = rss.error();
                        deltas[i] = rss.deltaBytes();
                    }
                    double median = Timing.median(deltas);
                    double min = java.util.Arrays.stream(deltas).min().orElse(0);
                    double max = java.util.Arrays.stream(deltas).max().orElse(0);
                    BenchMain.log(String.format(Locale.ROOT,
                            "  %s, %d steps: tape %d bytes, peak RSS delta %s, fwd nfe %d, bwd nfe %d",
                            s, steps, r.tapeBytes(), error == null ? String.format(Locale.ROOT,
                                    "median %.0f bytes (%.0f to %.0f over %d JVMs)", median, min, max, RSS_REPS) : error,
                            r.forwardNfe(), r.backwardNfe()));
                    Json j = Json.bench("adjoint-memory").num("value", r.tapeBytes()).str("unit", "bytes")
                            .str("measure", "GradSolution.tapeBytes(): native bytes the tape holds after the forward"
                                    + " solve, for the backward pass")
                            .str("sensitivity", s.torchName()).num("steps", steps)
                            .num("forward_steps", r.forwardSteps()).num("forward_nfe", r.forwardNfe())
                            .num("backward_nfe", r.backwardNfe())
                            .num("ratio_to_10_steps", (double) r.tapeBytes() / firstBytes)
                            .num("bytes_per_step", (double) r.tapeBytes() / steps);
                    if (error == null) {
                        j.num("peak_rss_delta_bytes", median).num("peak_rss_delta_min_bytes", min)
                                .num("peak_rss_delta_max_bytes", max).num("rss_jvms", RSS_REPS)
                                .str("rss_measure", "VmHWM after one forward + backward pass minus VmRSS before, peak"
                                        + " reset by /proc/self/clear_refs, in a fresh JVM (-Xint, serial GC,"
                                        + " pre-touched heap); median, min and max over rss_jvms JVMs");
                    } else {
                        j.nul("peak_rss_delta_bytes").str("rss_error", error);
                    }
                    j.str("method", "rk4").num("dt", 1.0 / steps).str("workload", "moons").num("batch", MoonsWorkload.N)
                            .str("dtype", "float32").str("field", "Linear(2, 64) - Tanh - Linear(64, 2)")
                            .str("parameters", MoonsWorkload.TRAINED).num("threads", 1)
                            .num("blas_threads", 1);
                    out.accept(j);
                }
            }
        }
    }

    /** Runs one configuration in a fresh JVM and reads the peak RSS delta it reports. */
    private static Rss childRss(Sensitivity s, int steps) {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(List.of("--enable-native-access=ALL-UNNAMED", "-Xlog:disable", "-Xlog:all=warning:stderr",
                "-Xint", "-XX:+UseSerialGC", "-Xms64m", "-Xmx64m", "-XX:+AlwaysPreTouch"));
        for (String p : System.getProperties().stringPropertyNames()) {
            if (p.startsWith("jdyn.")) cmd.add("-D" + p + "=" + System.getProperty(p));
        }
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), AdjointMemory.class.getName(), s.torchName(),
                Integer.toString(steps)));
        try {
            Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT)
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
            String result = null;
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) {
                    if (line.startsWith(RSS_PREFIX)) {
                        result = line.substring(RSS_PREFIX.length());
                    } else {
                        BenchMain.log("  (child) " + line);
                    }
                }
            }
            if (!p.waitFor(300, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return new Rss(0, "the child JVM did not finish in 300 s");
            }
            if (p.exitValue() != 0 || result == null) {
                return new Rss(0, "the child JVM exited with status " + p.exitValue() + (result == null ? "" : ": " + result));
            }
            String[] f = result.trim().split(" ");
            if (f[0].equals("error")) return new Rss(0, result.substring(6));
            return new Rss(Long.parseLong(f[0]), null);
        } catch (IOException | InterruptedException e) {
            if (e instanceof InterruptedException) Thread.currentThread().interrupt();
            return new Rss(0, "could not run a child JVM: " + e);
        }
    }

    /** VmRSS or VmHWM of this process, bytes. */
    private static long status(String key) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith(key + ":")) {
                String[] f = line.substring(key.length() + 1).trim().split("\\s+");
                if (f.length != 2 || !f[1].equals("kB")) throw new IOException("unexpected /proc/self/status line: " + line);
                return Long.parseLong(f[0]) * 1024;
            }
        }
        throw new IOException("no " + key + " in /proc/self/status");
    }

    /** Resets the peak RSS (VmHWM) to the current RSS; Linux 4.0 and later. */
    private static void resetPeak() throws IOException {
        Files.writeString(Path.of("/proc/self/clear_refs"), "5");
    }

    /** The delta of the peak RSS around body: reset, VmRSS, body, VmHWM. */
    private static long peakDelta(Runnable body) throws IOException {
        resetPeak();
        long before = status("VmRSS");
        body.run();
        return status("VmHWM") - before;
    }

    /**
     * The child JVM: {@code AdjointMemory SENSITIVITY STEPS} trains the moons field as the parent does,
     * then prints "adjoint-memory-rss DELTA" (bytes) or "adjoint-memory-rss error WHY" on
     * standard output. Its logs go to standard error.
     */
    public static void main(String[] args) throws Exception {
        Sensitivity s = Sensitivity.of(args[0]);
        int steps = Integer.parseInt(args[1]);
        java.io.PrintStream result = System.out;
        System.setOut(System.err);
        MoonsWorkload data = MoonsWorkload.standard();
        try (NeuralField field = data.trainedMoonsField();
                GradStep step = new GradStep(field, data, forcedSteps(steps), options(s))) {
            long delta;
            try {
                delta = peakDelta(step::run);
            } catch (IOException e) {
                result.println(RSS_PREFIX + "error cannot read or reset the peak RSS: " + e.getMessage());
                result.flush();
                return;
            }
            result.println(RSS_PREFIX + delta);
            result.flush();
        }
    }
}
