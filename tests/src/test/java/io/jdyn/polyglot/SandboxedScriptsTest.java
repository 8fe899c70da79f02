package io.jdyn.polyglot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.graalvm.polyglot.Context;
import org.graalvm.polyglot.Value;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * What a script in the default sandbox can do with jdyn's own API (issue 13): a guest function as a vector
 * field or an event function reads its state through BatchView, and the API's Optional results
 * (interpolant, event time) unwrap; what the sandbox refuses (the working directory, temporary files,
 * open()) arrives as a Python OSError a script can catch. The problem is y' = -y, y(0) = 1: y = exp(-t),
 * and y = 1/2 at t = ln 2.
 */
@Timeout(300)
class SandboxedScriptsTest {
    // rtol 1e-10 makes the solve's own error ~1e-10; events are located to 1e-9 in t and dopri5's
    // interpolant is 4th order, well inside 1e-7 at these tolerances
    private static final double TOL = 1e-7;

    @Test
    void javascriptFieldEventAndDenseOutputInTheSandbox() {
        try (Context c = JdynContexts.js().build()) {
            Value r = c.eval("js", String.join("\n",
                    "const Values = Java.type('io.jdyn.polyglot.Values');",
                    "const Odeint = Java.type('io.jdyn.ode.Odeint');",
                    "const SolveOptions = Java.type('io.jdyn.ode.SolveOptions');",
                    "const Event = Java.type('io.jdyn.ode.Event');",
                    "const field = (t, z, dz) => { for (let b = 0; b < z.batch(); b++) dz.set(b, 0, -z.get(b, 0)); };",
                    "const y0 = Values.tensor([[1.0]], 'float64');",
                    "const o = SolveOptions.builder().rtol(1e-10).atol(1e-12).dense(true);",
                    "const s = Odeint.odeint(field, y0, [0.0, 1.0], o.build());",
                    "const e = Odeint.odeint(field, y0, [0.0, 2.0], o.event(Event.terminal((t, z) => z.get(0, 0) - 0.5)).build());",
                    "[s.ys().get(1, 0, 0), s.interpolant().get().evaluate(0.5).get(0, 0, 0),",
                    " e.eventTime().isPresent(), e.eventTime().getAsDouble(), s.eventTime().isPresent()]"));
            assertEquals(Math.exp(-1), r.getArrayElement(0).asDouble(), TOL);
            assertEquals(Math.exp(-0.5), r.getArrayElement(1).asDouble(), TOL);
            assertTrue(r.getArrayElement(2).asBoolean(), "the event fired");
            assertEquals(Math.log(2), r.getArrayElement(3).asDouble(), TOL);
            assertTrue(!r.getArrayElement(4).asBoolean(), "no event in the solve without one");
        }
    }

    @Test
    void pythonEventFunctionAndRefusalsInTheSandbox() {
        try (Context c = JdynContexts.python().build()) {
            Value r = c.eval("python", String.join("\n",
                    "import java, os, tempfile",
                    "Values = java.type('io.jdyn.polyglot.Values')",
                    "Odeint = java.type('io.jdyn.ode.Odeint')",
                    "Event = java.type('io.jdyn.ode.Event')",
                    "o = java.type('io.jdyn.ode.SolveOptions').builder().rtol(1e-10).atol(1e-12)",
                    "def field(t, z, dz):",
                    "    dz.set(0, 0, -z.get(0, 0))",
                    "e = Odeint.odeint(field, Values.tensor([[1.0]], 'float64'), [0.0, 2.0],",
                    "                  o.event(Event.terminal(lambda t, z: z.get(0, 0) - 0.5)).build())",
                    "def refused(f):",
                    "    try:",
                    "        f()",
                    "        return 'allowed'",
                    "    except OSError as x:",
                    "        return type(x).__name__",
                    "[e.eventTime().getAsDouble(), refused(os.getcwd), refused(tempfile.mkstemp),",
                    " refused(lambda: open('notes.txt', 'w')), refused(lambda: os.listdir('/'))]"));
            assertEquals(Math.log(2), r.getArrayElement(0).asDouble(), TOL);
            assertEquals("PermissionError", r.getArrayElement(1).asString(), "os.getcwd()");
            // tempfile tries /tmp, /var/tmp, ... and reports none usable, as CPython does
            assertEquals("FileNotFoundError", r.getArrayElement(2).asString(), "tempfile.mkstemp()");
            assertEquals("PermissionError", r.getArrayElement(3).asString(), "open()");
            assertEquals("PermissionError", r.getArrayElement(4).asString(), "os.listdir()");
        }
    }

    @Test
    void aScriptGivenByARelativePathImportsModules() throws IOException {
        // a relative script path made sys.path[0] relative ("" for a bare name), and importing a module
        // then asked for the working directory, refused with an uncatchable SecurityException
        Path dir = Files.createDirectories(Path.of("target", "sandboxed-scripts"));
        Path script = dir.resolve("relative.py");
        Files.writeString(script, "import json, sys\nprint(json.dumps({'argv': sys.argv[1:]}))\n");
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        int rc = ScriptRunner.run(script, List.of("--epochs", "3"), ScriptRunner.Options.sandboxed(), out, err);
        String o = out.toString(StandardCharsets.UTF_8);
        assertEquals(0, rc, o + err.toString(StandardCharsets.UTF_8));
        assertTrue(o.contains("{\"argv\": [\"--epochs\", \"3\"]}"), o);
    }
}
