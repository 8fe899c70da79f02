package io.jdyn.polyglot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.stream.Stream;
import org.graalvm.polyglot.Context;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The shim's start-up cut (issue 13): pycs written for a folder are what GraalPy imports while the source
 * keeps its mtime and size, and are ignored once it changes.
 */
@Timeout(300)
class PythonBytecodeTest {
    @TempDir
    Path tmp;

    private static String importValue(Path dir) {
        try (Context c = JdynContexts.python().allowFiles(true).build()) {
            c.getBindings("python").putMember("where", dir.toString());
            return c.eval("python", "import sys\nsys.path.insert(0, where)\nimport probe_mod\nprobe_mod.VALUE").asString();
        }
    }

    @Test
    void writtenBytecodeIsImportedUntilTheSourceChanges() throws IOException {
        Path src = tmp.resolve("probe_mod.py");
        Files.writeString(src, "VALUE = 'one'\n");
        FileTime mtime = FileTime.fromMillis(Files.getLastModifiedTime(src).toMillis() / 1000 * 1000);
        Files.setLastModifiedTime(src, mtime);
        PythonBytecode.write(tmp);
        assertTrue(Files.exists(PythonBytecode.marker(tmp)), "the marker");
        try (Stream<Path> s = Files.list(tmp.resolve("__pycache__"))) {
            assertTrue(s.anyMatch(p -> p.getFileName().toString().startsWith("probe_mod.") && p.toString().endsWith(".pyc")));
        }
        // same size, same mtime, other text: only the pyc can say 'one'
        Files.writeString(src, "VALUE = 'two'\n");
        Files.setLastModifiedTime(src, mtime);
        assertEquals("one", importValue(tmp), "the pyc was imported");
        Files.setLastModifiedTime(src, FileTime.fromMillis(mtime.toMillis() + 10_000));
        assertEquals("two", importValue(tmp), "a stale pyc is ignored");
    }
}
