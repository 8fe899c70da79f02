package io.jdyn.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jdyn.Tensor;
import io.jdyn.cli.JdynCli;
import io.jdyn.ode.Odeint;
import io.jdyn.ode.SolveOptions;
import io.jdyn.ode.Solution;
import io.jdyn.ode.VectorField;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The jdyn command-line tool, run in-process through picocli: what it prints and its exit codes. */
class CliTest {
    private record Run(int code, String out, String err) {}

    private static Run run(String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        int code = JdynCli.newCommandLine(new PrintWriter(out, true), new PrintWriter(err, true)).execute(args);
        return new Run(code, out.toString(), err.toString());
    }

    @Test
    void infoSucceedsAndNamesTheBackend() {
        Run r = run("info");
        assertEquals(0, r.code(), r.err());
        for (String line : new String[] {"jdyn: ", "Java: ", "native: jdyn native", "BLAS: ", "threads: ", "CUDA: ",
                "Graal JIT: "}) {
            assertTrue(r.out().contains(line), "missing '" + line + "' in:\n" + r.out());
        }
        assertTrue(r.out().contains("libjdyn.so"), r.out());
        // surefire's JVM has no JVMCI: the line must say the JIT is off and how to turn it on
        assertTrue(r.out().contains("Graal JIT: off: interpreter only") && r.out().contains("-XX:+EnableJVMCI"), r.out());
    }

    @Test
    void solveVdpPrintsWhatOdeintComputes() {
        Run r = run("solve", "vdp", "--points", "5", "--csv");
        assertEquals(0, r.code(), r.err());
        String[] lines = r.out().strip().split("\\R");
        assertEquals("t,x,v", lines[0]);
        assertEquals(6, lines.length, r.out());
        assertTrue(r.err().contains("nfe"), r.err());
        VectorField vdp = (t, z, dz) -> {
            double x = z.get(0, 0), v = z.get(0, 1);
            dz.set(0, 0, v);
            dz.set(0, 1, (1 - x * x) * v - x);
        };
        double[] ts = {0, 5, 10, 15, 20};
        try (Tensor y0 = Tensor.of(new double[] {2, 0}, 1, 2);
             Solution s = Odeint.odeint(vdp, y0, ts, SolveOptions.builder().method("dopri5").rtol(1e-7).atol(1e-9).build())) {
            for (int i = 0; i < ts.length; i++) {
                String[] c = lines[i + 1].split(",");
                assertEquals(ts[i], Double.parseDouble(c[0]), 0);
                assertEquals(s.ys().get(i, 0, 0), Double.parseDouble(c[1]), 1e-12, "x at t = " + ts[i]);
                assertEquals(s.ys().get(i, 0, 1), Double.parseDouble(c[2]), 1e-12, "v at t = " + ts[i]);
            }
        }
        // the table form: a header, the state at each time and the statistics
        Run table = run("solve", "vdp", "--points", "5");
        assertEquals(0, table.code(), table.err());
        assertTrue(table.out().contains("+2.0000000000e+00"), table.out());
        assertTrue(table.out().contains("nfe "), table.out());
    }

    @Test
    void solveHarmonicWithAFixedStepMethodIsNearTheExactSolution() {
        Run r = run("solve", "harmonic", "--method", "rk4", "--dt", "0.01", "--csv", "--points", "2");
        assertEquals(0, r.code(), r.err());
        String[] last = r.out().strip().split("\\R")[2].split(",");
        assertEquals(Math.cos(10), Double.parseDouble(last[1]), 1e-8);
        assertEquals(-Math.sin(10), Double.parseDouble(last[2]), 1e-8);
    }

    @Test
    void trainMoonsAtSmallSizeReachesASaneAccuracy(@TempDir Path dir) throws Exception {
        System.setProperty("java.awt.headless", "true");
        Path ckpt = dir.resolve("ckpt"), png = dir.resolve("moons.png");
        Run r = run("train", "moons", "--n", "128", "--epochs", "150", "--no-progress", "--seed", "0",
                "--checkpoint", ckpt.toString(), "--plot", png.toString());
        assertEquals(0, r.code(), r.err() + r.out());
        Matcher m = Pattern.compile("final accuracy (\\d\\.\\d+)").matcher(r.out());
        assertTrue(m.find(), r.out());
        double acc = Double.parseDouble(m.group(1));
        assertTrue(acc >= 0.9, "accuracy " + acc + "\n" + r.out());
        assertTrue(Files.size(ckpt.resolve("last.safetensors")) > 0);
        assertTrue(Files.size(ckpt.resolve("best.safetensors")) > 0);
        assertTrue(Files.size(png) > 0);
        assertTrue(Files.size(dir.resolve("moons-loss.png")) > 0);
    }

    @Test
    void badUsageExitsWithTwoAndSaysWhy() {
        Run unknown = run("solve", "vdp", "--bogus");
        assertEquals(2, unknown.code());
        assertTrue(unknown.err().contains("Unknown option: '--bogus'"), unknown.err());
        Run problem = run("solve", "pendulum");
        assertEquals(2, problem.code());
        assertTrue(problem.err().contains("vdp, lorenz, harmonic, arenstorf"), problem.err());
        Run method = run("solve", "vdp", "--method", "rk99");
        assertEquals(2, method.code());
        assertTrue(method.err().contains("unknown method 'rk99'"), method.err());
        Run fixed = run("solve", "vdp", "--method", "rk4");
        assertEquals(2, fixed.code());
        assertTrue(fixed.err().contains("give --dt"), fixed.err());
        Run number = run("train", "moons", "--epochs", "many");
        assertEquals(2, number.code());
        assertTrue(number.err().contains("--epochs"), number.err());
        Run sens = run("train", "moons", "--sensitivity", "backprop");
        assertEquals(2, sens.code());
        assertTrue(sens.err().contains("adjoint, autograd, interpolated_adjoint"), sens.err());
        Run none = run();
        assertEquals(2, none.code());
        assertTrue(none.err().contains("Usage: jdyn"), none.err());
        Run help = run("--help");
        assertEquals(0, help.code());
        assertTrue(help.out().contains("solve") && help.out().contains("train") && help.out().contains("info"), help.out());
    }

    @Test
    void aFailureIsOneLineWithExitOneAndTheTraceOnlyWhenVerbose(@TempDir Path dir) throws Exception {
        Path file = Files.writeString(dir.resolve("not-a-dir"), "x");
        String[] args = {"train", "moons", "--n", "32", "--epochs", "1", "--no-progress", "--checkpoint",
                file.resolve("ckpt").toString()};
        Run r = run(args);
        assertEquals(1, r.code(), r.out());
        assertTrue(r.err().startsWith("jdyn: "), r.err());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        assertFalse(r.err().contains("\tat "), r.err());
        String[] verbose = new String[args.length + 1];
        System.arraycopy(args, 0, verbose, 0, args.length);
        verbose[args.length] = "--verbose";
        Run v = run(verbose);
        assertEquals(1, v.code());
        assertTrue(v.err().contains("\tat "), v.err());
    }

    @Test
    void runExecutesAPythonScriptWithItsArgumentsAndExitCode(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
            throws java.io.IOException {
        java.nio.file.Path py = dir.resolve("answer.py");
        java.nio.file.Files.writeString(py, "import sys, jdyn\nprint('answer', int(sys.argv[1]) * 2, jdyn.tensor([1.0, 2.0]).shape)\n"
                + "sys.exit(int(sys.argv[2]))\n");
        Run r = run("run", "--no-jit-note", py.toString(), "21", "4");
        assertEquals(4, r.code(), r.err());
        assertTrue(r.out().contains("answer 42 (2,)"), r.out());

        Run missing = run("run", dir.resolve("nope.py").toString());
        assertEquals(1, missing.code());
        assertTrue(missing.err().contains("no such script"), missing.err());

        Run usage = run("run");
        assertEquals(2, usage.code());
        assertTrue(usage.err().contains("SCRIPT"), usage.err());
    }

    @Test
    void runGivesTheScriptEverythingAfterItsName() throws java.io.IOException {
        // flags after the script's name are the script's, as with `python s.py --epochs 3`; a relative
        // path (here from the module's folder) must work in the sandbox as a bare file name does
        java.nio.file.Path dir = java.nio.file.Files.createDirectories(java.nio.file.Path.of("target", "cli-run"));
        java.nio.file.Files.writeString(dir.resolve("flags.py"), "import sys, json\nprint(json.dumps(sys.argv[1:]))\n");
        Run r = run("run", "--no-jit-note", "target/cli-run/flags.py", "--epochs", "3", "--allow-files", "-v");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("[\"--epochs\", \"3\", \"--allow-files\", \"-v\"]"), r.out() + r.err());
    }
}
