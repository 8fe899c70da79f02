package io.jdyn.polyglot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The example scripts end to end through the script runner (what {@code jdyn run} does): seed 000's moons
 * tutorial in Python and in JavaScript reach the Java MoonsDemo's bar (accuracy 0.97), seed 001's 1-D
 * regression in Python reaches the Java Regression1D's (MSE below 0.5 and down at least tenfold), and a
 * torch-style nn.Module field (custom_field.py), traced into a native program, reaches the same bar.
 */
@Timeout(600)
class PolyglotScriptsTest {
    private static final Path SCRIPTS = Path.of("../examples/scripts");

    private record Run(int exitCode, String output) {}

    private static Run run(String script, String... args) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int rc = ScriptRunner.run(SCRIPTS.resolve(script), List.of(args), ScriptRunner.Options.sandboxed(), out, out);
        return new Run(rc, out.toString(StandardCharsets.UTF_8));
    }

    private static double number(String output, String key) {
        Matcher m = Pattern.compile(key + "=([-0-9.eE]+)").matcher(output);
        assertTrue(m.find(), "no " + key + "= in the output:\n" + output);
        return Double.parseDouble(m.group(1));
    }

    @Test
    void moonsTutorialInPythonReachesTheJavaBar() throws IOException {
        Run r = run("moons.py");
        assertEquals(0, r.exitCode(), r.output());
        assertTrue(number(r.output(), "accuracy") >= 0.97, r.output());
        assertTrue(r.output().contains("Neural ODE"), "prints the torchdyn-style summary:\n" + r.output());
    }

    @Test
    void customTorchStyleFieldIsTracedAndTrainsOnMoons() throws IOException {
        Run r = run("custom_field.py");
        assertEquals(0, r.exitCode(), r.output());
        assertTrue(number(r.output(), "accuracy") >= 0.97, r.output());
        // the field was traced into a program with the module's parameters, named as PyTorch names them
        assertTrue(r.output().contains("traced GatedField.forward") && r.output().contains("net.0.weight (64, 3)")
                && r.output().contains("damping (2,)"), r.output());
    }

    @Test
    void regressionOfSeed001InPython() throws IOException {
        Run r = run("regression1d.py", "1000");
        assertEquals(0, r.exitCode(), r.output());
        double first = number(r.output(), "mse_initial"), last = number(r.output(), "mse_final");
        assertTrue(last < 0.5 && last < first / 10, "MSE " + first + " -> " + last + "\n" + r.output());
    }

    @Test
    void javascriptBuildsTrainsAndQueriesAModel() throws IOException {
        Run r = run("moons.js");
        assertEquals(0, r.exitCode(), r.output());
        assertTrue(number(r.output(), "accuracy") >= 0.97, r.output());
        // the two probe points lie deep in the upper (class 0) and lower (class 1) moon
        assertTrue(r.output().contains("classes=0,1"), r.output());
    }

    @Test
    void aFailingScriptExitsWithItsCodeAndItsError() throws IOException {
        Path dir = java.nio.file.Files.createTempDirectory("jdyn-scripts");
        Path exit3 = dir.resolve("exit3.py"), raises = dir.resolve("raises.py"), js = dir.resolve("throws.js");
        java.nio.file.Files.writeString(exit3, "import sys\nsys.exit(3)\n");
        java.nio.file.Files.writeString(raises, "import jdyn\njdyn.tensor([[1, 2], [3]])\n");
        java.nio.file.Files.writeString(js, "throw new Error('boom from js');\n");
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        assertEquals(3, ScriptRunner.run(exit3, List.of(), ScriptRunner.Options.sandboxed(), out, out));
        assertEquals(1, ScriptRunner.run(raises, List.of(), ScriptRunner.Options.sandboxed(), out, out));
        assertEquals(1, ScriptRunner.run(js, List.of(), ScriptRunner.Options.sandboxed(), out, out));
        String text = out.toString(StandardCharsets.UTF_8);
        assertTrue(text.contains("ValueError") && text.contains("ragged"), text);
        assertTrue(text.contains("boom from js"), text);
    }
}
