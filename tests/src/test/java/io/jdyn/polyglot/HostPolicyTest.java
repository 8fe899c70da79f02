package io.jdyn.polyglot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.graalvm.polyglot.Context;
import org.graalvm.polyglot.PolyglotException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The host-access policy: a sandboxed script reaches jdyn's API and nothing else (no java.lang.Runtime,
 * System, File, reflection through getClass, no files), in Python and JavaScript; the embedding application's
 * opt-ins (files; full trust) open exactly what they say.
 */
@Timeout(300)
class HostPolicyTest {
    @TempDir
    Path tmp;

    @Test
    void policyListsJdynClassesOnly() {
        HostPolicy p = HostPolicy.jdynOnly(false);
        assertTrue(p.classFilter().test("io.jdyn.models.NeuralODE"));
        assertTrue(p.classFilter().test("io.jdyn.Tensor"));
        assertTrue(p.classFilter().test("io.jdyn.polyglot.Values"));
        assertTrue(p.classFilter().test("io.jdyn.fn.Graph"));
        assertTrue(p.classFilter().test("io.jdyn.fn.Sym"));
        for (String refused : new String[] {"java.lang.Runtime", "java.lang.System", "java.io.File",
                "java.lang.ProcessBuilder", "java.lang.Class", "io.jdyn.spi.Backends", "io.jdyn.ffm.FfmBackendProvider",
                "io.jdyn.polyglot.JdynContexts", "io.jdyn.polyglot.HostPolicy"}) {
            assertFalse(p.classFilter().test(refused), refused + " must be refused");
        }
    }

    @Test
    void javascriptIsSandboxed() {
        try (Context c = JdynContexts.js().build()) {
            for (String cls : new String[] {"java.lang.Runtime", "java.lang.System", "java.io.File", "java.lang.Thread"}) {
                PolyglotException e = assertThrows(PolyglotException.class, () -> c.eval("js", "Java.type('" + cls + "')"));
                assertTrue(e.getMessage().contains(cls), e.getMessage());
            }
            // jdyn's API works; members outside it (getClass, a path-taking method) do not
            assertEquals(3, c.eval("js", "Java.type('io.jdyn.polyglot.Values').tensor([1, 2, 3], 'float64').numel()").asInt());
            // A script's function as an io.jdyn.fn.Fn: compiled into a native program, parameters declared by name.
            assertEquals(6.0, c.eval("js", "(() => {"
                    + " const Init = Java.type('io.jdyn.fn.Init');"
                    + " const f = Java.type('io.jdyn.nn.NeuralField').of((t, x, p) => x.mul(p.param('s', Init.constant(2.0))),"
                    + "     1, Java.type('io.jdyn.DType').FLOAT64, 1);"
                    + " try { return f.forward(0, Java.type('io.jdyn.polyglot.Values').tensor([3], 'float64')).get(0); }"
                    + " finally { f.close(); } })()").asDouble(), 0.0);
            assertThrows(PolyglotException.class, () -> c.eval("js",
                    "Java.type('io.jdyn.polyglot.Values').tensor([1], 'float64').getClass().forName('java.lang.Runtime')"));
            PolyglotException noFiles = assertThrows(PolyglotException.class, () -> c.eval("js",
                    "const m = Java.type('io.jdyn.models.NeuralODE').builder(Java.type('io.jdyn.nn.Sequential').of("
                            + "new (Java.type('io.jdyn.nn.Linear'))(2, 2)), 2).build();"
                            + "Polyglot.import('jdyn.host').saveCheckpoint(m, '" + tmp.resolve("m") + "')"));
            assertTrue(noFiles.getMessage().contains("file access is off"), noFiles.getMessage());
            assertFalse(Files.exists(tmp.resolve("m")));
        }
    }

    @Test
    void filesOptInLetsPythonSaveAndLoadACheckpoint() throws IOException {
        Path ckpt = tmp.resolve("moons-model");
        Path note = tmp.resolve("note.txt");
        Files.writeString(note, "hello from the host");
        try (Context c = JdynContexts.python().allowFiles(true).build()) {
            String py = String.join("\n",
                    "import jdyn",
                    "from jdyn import nn, NeuralODE",
                    "m = NeuralODE(nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 2)), solver='dopri5', seed=7)",
                    "x = jdyn.tensor([[0.3, -0.2], [1.0, 0.5]])",
                    "with jdyn.no_grad():",
                    "    before = m(x).tolist()",
                    "path = jdyn.save(m, '" + ckpt + "')",
                    "m2 = jdyn.load('" + ckpt + "')",
                    "with jdyn.no_grad():",
                    "    after = m2(x).tolist()",
                    "diff = max(abs(a - b) for r, s in zip(before, after) for a, b in zip(r, s))",
                    "text = open('" + note + "').read()",
                    "(diff, m2.solver, text)");
            var r = c.eval("python", py);
            // same parameters, solver and tolerances: equal up to float32 rounding
            assertEquals(0.0, r.getArrayElement(0).asDouble(), 1e-6, "the loaded model computes the same outputs");
            assertEquals("dopri5", r.getArrayElement(1).asString());
            assertEquals("hello from the host", r.getArrayElement(2).asString());
        }
        assertTrue(Files.exists(ckpt) || Files.exists(ckpt.resolve("model.safetensors")) || Files.exists(Path.of(ckpt + ".safetensors")));
    }

    @Test
    void fullTrustIsTheEmbeddersChoice() {
        try (Context c = JdynContexts.python().allowAllHostAccess(true).build()) {
            int cpus = c.eval("python", "import java\njava.type('java.lang.Runtime').getRuntime().availableProcessors()").asInt();
            assertEquals(Runtime.getRuntime().availableProcessors(), cpus);
        }
    }
}
