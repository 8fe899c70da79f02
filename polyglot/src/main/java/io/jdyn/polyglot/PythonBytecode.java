package io.jdyn.polyglot;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.stream.Stream;
import org.graalvm.polyglot.Context;
import org.graalvm.polyglot.Value;

/**
 * GraalPy bytecode (.pyc, in __pycache__) for the extracted python-shim, so that {@code import jdyn} loads
 * compiled modules instead of parsing ~5,000 lines in every new JVM (measured in bench/README.md). Written
 * once per shim folder and GraalPy version, by a context of its own that has no file access at all: Java
 * reads each source and its mtime, Python compiles it to timestamp-pyc bytes, Java writes them atomically
 * (a reader in another JVM sees a whole pyc or none; GraalPy checks the source's mtime and size and
 * parses the source when they differ).
 */
final class PythonBytecode {
    private static final String COMPILE = """
            def _pyc(path, source, mtime, size):
                from importlib import _bootstrap_external as be
                import importlib.util
                code = compile(source, path, "exec", dont_inherit=True)
                return importlib.util.cache_from_source(path), bytes(be._code_to_timestamp_pyc(code, mtime, size))
            _pyc
            """;

    private PythonBytecode() {}

    /** Compiles in a daemon thread unless done for this folder and GraalPy version; failures only cost speed. */
    static void writeInBackground(Path dir) {
        if (Files.exists(marker(dir))) return;
        Thread t = new Thread(() -> {
            try {
                write(dir);
            } catch (IOException | RuntimeException e) {
                // the shim still imports from source
            }
        }, "jdyn-python-bytecode");
        t.setDaemon(true);
        t.setPriority(Thread.MIN_PRIORITY);
        t.start();
    }

    /** Writes a pyc beside every .py under dir (in __pycache__), then the marker. */
    static void write(Path dir) throws IOException {
        List<Path> sources;
        try (Stream<Path> s = Files.walk(dir)) {
            sources = s.filter(p -> p.toString().endsWith(".py") && Files.isRegularFile(p)).sorted().toList();
        }
        try (Context c = Context.newBuilder("python").allowExperimentalOptions(true)
                .option("engine.WarnInterpreterOnly", "false")
                .option("python.PosixModuleBackend", "java")
                .option("python.DontWriteBytecodeFlag", "true")
                .option("python.WarnExperimentalFeatures", "false").build()) {
            Value pyc = c.eval("python", COMPILE);
            for (Path p : sources) {
                String source = Files.readString(p, StandardCharsets.UTF_8);
                long mtime = Files.getLastModifiedTime(p).toMillis() / 1000;
                Value r = pyc.execute(p.toString(), source, mtime, Files.size(p));
                Path target = Path.of(r.getArrayElement(0).asString());
                Value bytes = r.getArrayElement(1);
                byte[] b = new byte[(int) bytes.getBufferSize()];
                bytes.readBuffer(0, b, 0, b.length);
                atomicWrite(target, b);
            }
        }
        atomicWrite(marker(dir), new byte[0]);
    }

    /** Present once every pyc of dir is written for this GraalPy version. */
    static Path marker(Path dir) {
        // keyed by the Polyglot jar (its name carries the version): a GraalPy update writes its own pycs
        var cs = Context.class.getProtectionDomain().getCodeSource();
        String jar = cs == null ? "unknown" : Path.of(cs.getLocation().getPath()).getFileName().toString();
        return dir.resolve(".pyc-" + jar.replaceAll("[^A-Za-z0-9._-]", "_"));
    }

    private static void atomicWrite(Path target, byte[] b) throws IOException {
        Files.createDirectories(target.getParent());
        Path tmp = Files.createTempFile(target.getParent(), target.getFileName().toString(), ".tmp");
        try {
            Files.write(tmp, b);
            try {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            Files.deleteIfExists(tmp);
        }
    }
}
